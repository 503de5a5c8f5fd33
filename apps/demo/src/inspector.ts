/**
 * The channel inspector: polls `session.snapshot()` of every session the page
 * has and draws each as a tree — the session node on the left, top-level
 * channels next to it, and every nested channel or byte stream to the right
 * of the stream whose message carried it ("born inside a message of").
 * Streams that end (or vanish from the snapshot) stay greyed for a while, so
 * short-lived reply channels are visible; an ended parent stays as long as a
 * child it carried is still shown.
 */
import type { Session, SessionSnapshot, StreamSnapshot } from '@libchan/core';

/** How long ended streams and closed sessions stay on screen. */
const KEEP_MS = 4000;
const POLL_MS = 300;

const SESSION_W = 196;
const NODE_W = 170;
const NODE_H = 58;
const COL_GAP = 28;
const ROW_H = 68;
const PAD = 8;
const BLOCK_GAP = 18;

interface Seen {
  snap: StreamSnapshot;
  /** When it was first seen ended (or missing from the snapshot). */
  endedAt?: number;
  /** It left the session's table between two polls: its last counts may be stale. */
  vanished?: boolean;
}

export interface Tracked {
  key: string;
  title: string;
  subtitle: string;
  session: Session;
  labels: Map<number, string>;
  streams: Map<number, Seen>;
  /** Ended streams already taken from `snapshot().ended` (it keeps a history; each is shown once). */
  endedSeen: Set<number>;
  last?: SessionSnapshot;
  closedAt?: number;
  /** Keep the node even when closed (the page's main connection, until replaced). */
  sticky: boolean;
}

const esc = (s: string): string => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

export function formatBytes(n: number): string {
  if (!Number.isFinite(n)) return '—';
  const a = Math.abs(n);
  if (a < 1024) return `${n} B`;
  if (a < 1024 * 1024) return `${(n / 1024).toFixed(a < 10 * 1024 ? 1 : 0)} KiB`;
  if (a < 1024 * 1024 * 1024) return `${(n / 1048576).toFixed(a < 10 * 1048576 ? 2 : 1)} MiB`;
  return `${(n / 1073741824).toFixed(2)} GiB`;
}

/** A label for a stream we have no explicit name for. */
function guessLabel(s: StreamSnapshot, byId: Map<number, Seen>): string {
  if (s.kind === 'bytes') return s.direction === 'send' ? 'byte stream ↑' : 'byte stream ↓';
  if (s.parent === 0) return s.openedBy === 'local' ? 'requests' : 'requests from peer';
  const parent = byId.get(s.parent)?.snap;
  if (parent && parent.parent === 0) return 'ret (reply channel)';
  return s.openedBy === 'peer' ? 'handed-back channel' : 'nested channel';
}

export class Inspector {
  private readonly sessions = new Map<string, Tracked>();
  private timer: ReturnType<typeof setInterval> | undefined;
  private lastMarkup = '';

  constructor(
    private readonly svg: SVGSVGElement,
    private readonly summary: HTMLElement,
  ) {}

  /** Starts tracking a session (replacing any with the same key). */
  track(key: string, session: Session, title: string, subtitle: string, options: { sticky?: boolean } = {}): Tracked {
    const t: Tracked = { key, title, subtitle, session, labels: new Map(), streams: new Map(), endedSeen: new Set(), sticky: options.sticky ?? false };
    this.sessions.set(key, t);
    this.poll();
    return t;
  }

  untrack(key: string): void {
    this.sessions.delete(key);
    this.poll();
  }

  /** Names the newest top-level local stream that has no name yet (call right after `openSender`). */
  nameNewest(key: string, label: string, match: (s: StreamSnapshot) => boolean): void {
    const t = this.sessions.get(key);
    if (!t) return;
    const streams = t.session.snapshot().streams.filter((s) => match(s) && !t.labels.has(s.id));
    const newest = streams.at(-1);
    if (newest) t.labels.set(newest.id, label);
  }

  start(): void {
    this.timer ??= setInterval(() => this.poll(), POLL_MS);
    document.addEventListener('visibilitychange', () => {
      if (!document.hidden) this.poll();
    });
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  /** Takes fresh snapshots and redraws (only when something changed). */
  poll(): void {
    const now = Date.now();
    for (const [key, t] of this.sessions) {
      let snap: SessionSnapshot;
      try {
        snap = t.session.snapshot();
      } catch {
        continue;
      }
      t.last = snap;
      const present = new Set<number>();
      for (const s of snap.streams) {
        present.add(s.id);
        const seen = t.streams.get(s.id);
        const endedAt = s.state === 'ended' ? (seen?.endedAt ?? now) : undefined;
        t.streams.set(s.id, endedAt === undefined ? { snap: s } : { snap: s, endedAt });
      }
      // Streams that ended since the last poll, with their final counts (the inspectorHistory option).
      for (const e of snap.ended ?? []) {
        if (t.endedSeen.has(e.id)) continue;
        t.endedSeen.add(e.id);
        present.add(e.id);
        const seen = t.streams.get(e.id);
        t.streams.set(e.id, { snap: e, endedAt: seen?.endedAt ?? now });
      }
      if (t.endedSeen.size > 1024) t.endedSeen = new Set([...t.endedSeen].slice(-256));
      for (const [id, seen] of t.streams) {
        if (present.has(id)) continue;
        if (seen.endedAt === undefined) {
          seen.endedAt = now;
          seen.vanished = true;
          seen.snap = { ...seen.snap, state: 'ended' };
        }
      }
      if (snap.state === 'closed' || snap.state === 'failed') t.closedAt ??= now;
      // Forget what has been gone long enough (and is not holding a visible child).
      const keep = this.visibleIds(t, now);
      for (const id of [...t.streams.keys()]) if (!keep.has(id)) t.streams.delete(id);
      if (!t.sticky && t.closedAt !== undefined && now - t.closedAt > KEEP_MS) this.sessions.delete(key);
    }
    this.render(now);
  }

  private visibleIds(t: Tracked, now: number): Set<number> {
    const visible = new Set<number>();
    for (const [id, seen] of t.streams) {
      if (seen.endedAt === undefined || now - seen.endedAt < KEEP_MS) {
        // The stream and its ancestors.
        let cur: number | undefined = id;
        const guard = new Set<number>();
        while (cur !== undefined && cur !== 0 && !guard.has(cur)) {
          guard.add(cur);
          if (!t.streams.has(cur)) break;
          visible.add(cur);
          cur = t.streams.get(cur)?.snap.parent;
        }
      }
    }
    return visible;
  }

  private render(now: number): void {
    const avail = Math.max(280, (this.svg.parentElement?.clientWidth ?? 800) - 20);
    const narrow = avail < 600;
    const parts: string[] = [];
    let y = PAD;
    let width = narrow ? avail : SESSION_W + PAD * 2;
    let open = 0;
    let ended = 0;
    let count = 0;
    for (const t of this.sessions.values()) {
      const snap = t.last;
      if (!snap) continue;
      count += 1;
      // The visible streams, with ghosts for parents that ended before a poll saw them.
      const nodes = new Map<number, Seen & { ghost?: boolean }>(t.streams);
      for (const seen of t.streams.values()) {
        const p = seen.snap.parent;
        if (p !== 0 && !nodes.has(p)) {
          nodes.set(p, {
            ghost: true,
            endedAt: seen.endedAt ?? now,
            snap: { id: p, parent: 0, kind: 'channel', direction: 'receive', openedBy: 'local', state: 'ended', messages: 0, bytes: 0, window: 0, buffered: 0 },
          });
        }
      }
      const children = new Map<number, number[]>();
      for (const id of [...nodes.keys()].sort((a, b) => a - b)) {
        const s = nodes.get(id)!;
        const parent = s.snap.parent !== 0 && nodes.has(s.snap.parent) ? s.snap.parent : 0;
        (children.get(parent) ?? children.set(parent, []).get(parent)!).push(id);
        if (s.ghost) continue;
        if (s.endedAt === undefined) open += 1;
        else ended += 1;
      }
      // Depth-first: wide mode gives a leaf a row (a parent shares its first child's row);
      // narrow mode gives every node its own row, indented by depth.
      const placed: { id: number; depth: number; row: number }[] = [];
      let rows = 0;
      const guard = new Set<number>();
      const place = (id: number, depth: number): void => {
        if (guard.has(id)) return;
        guard.add(id);
        placed.push({ id, depth, row: rows });
        const kids = children.get(id) ?? [];
        if (narrow || kids.length === 0) rows += 1;
        for (const k of kids) place(k, depth + 1);
      };
      for (const id of children.get(0) ?? []) place(id, 1);

      const top = y;
      const sessW = narrow ? avail - PAD * 2 : SESSION_W;
      const sessH = narrow ? 76 : Math.max(NODE_H + 30, Math.min(Math.max(rows, 1) * ROW_H - (ROW_H - NODE_H), 104));
      const nodeH = narrow ? 52 : NODE_H;
      const rowH = narrow ? 60 : ROW_H;
      const streamsTop = narrow ? top + sessH + 10 : top;
      const box = new Map<number, { x: number; y: number; w: number }>();
      for (const p of placed) {
        const x = narrow ? PAD + 16 * p.depth : PAD + SESSION_W + COL_GAP + (p.depth - 1) * (NODE_W + COL_GAP);
        box.set(p.id, { x, y: streamsTop + p.row * rowH, w: narrow ? avail - PAD - x : NODE_W });
      }

      // Edges first, under the nodes.
      for (const p of placed) {
        const s = nodes.get(p.id)!;
        const from = s.snap.parent !== 0 ? box.get(s.snap.parent) : undefined;
        const to = box.get(p.id)!;
        const cls = `edge${s.endedAt !== undefined ? ' ended' : ''}`;
        const why = `<title>#${p.id} was born inside a message of ${from ? `#${s.snap.parent}` : 'the session (top-level)'}</title>`;
        if (narrow) {
          const x1 = from ? from.x + 8 : PAD + 8;
          const y1 = from ? from.y + nodeH : top + sessH;
          const y2 = to.y + nodeH / 2;
          parts.push(`<path class="${cls}" d="M${x1} ${y1} V${y2 - 6} Q${x1} ${y2} ${x1 + 6} ${y2} H${to.x}">${why}</path>`);
        } else {
          const x1 = from ? from.x + NODE_W : PAD + SESSION_W;
          const y1 = from ? from.y + nodeH / 2 : top + Math.min(nodeH / 2 + 6, sessH / 2);
          const y2 = to.y + nodeH / 2;
          const mx = (x1 + to.x) / 2;
          parts.push(`<path class="${cls}" d="M${x1} ${y1} C${mx} ${y1} ${mx} ${y2} ${to.x} ${y2}">${why}</path>`);
        }
        width = Math.max(width, to.x + to.w + PAD);
      }

      // The session node.
      const ss = snap.state;
      const credit = snap.sessionWindow > 0 ? Math.max(0, Math.min(1, snap.sendCredit / snap.sessionWindow)) : 0;
      const traffic = narrow
        ? [`↑ ${formatBytes(snap.bytesOut)} · ${snap.framesOut} frames   ↓ ${formatBytes(snap.bytesIn)} · ${snap.framesIn} frames`]
        : [`↑ ${formatBytes(snap.bytesOut)} · ${snap.framesOut} frames`, `↓ ${formatBytes(snap.bytesIn)} · ${snap.framesIn} frames`];
      parts.push(
        `<g class="sess ${ss}" data-testid="inspector-session" data-key="${esc(t.key)}" data-state="${ss}" transform="translate(${PAD} ${top})">` +
          `<title>${esc(t.title)} ${esc(t.subtitle)} — ${ss}; frames in ${snap.framesIn}, out ${snap.framesOut}; session credit ${formatBytes(snap.sendCredit)} of ${formatBytes(snap.sessionWindow)}</title>` +
          `<rect class="box" width="${sessW}" height="${sessH}" rx="12"/>` +
          `<circle class="st-${ss}" cx="15" cy="17" r="4.5"><title>${ss}</title></circle>` +
          `<text class="t" x="26" y="21">${esc(t.title)}</text>` +
          `<text class="s" x="12" y="38">${esc(t.subtitle)} · ${ss}</text>` +
          traffic.map((line, i) => `<text class="s" x="12" y="${54 + i * 15}" xml:space="preserve">${line}</text>`).join('') +
          (narrow || sessH >= 90
            ? `<rect class="bar-bg" x="12" y="${sessH - 12}" width="${sessW - 24}" height="4" rx="2"/><rect class="bar" x="12" y="${sessH - 12}" width="${((sessW - 24) * credit).toFixed(1)}" height="4" rx="2"><title>session credit ${formatBytes(snap.sendCredit)} of ${formatBytes(snap.sessionWindow)}</title></rect>`
            : '') +
          `</g>`,
      );

      // Stream nodes.
      for (const p of placed) {
        const seen = nodes.get(p.id)!;
        const s = seen.snap;
        const at = box.get(p.id)!;
        const state = seen.endedAt !== undefined ? 'ended' : s.state;
        if (seen.ghost) {
          parts.push(
            `<g class="node ghost ended" data-testid="inspector-node" data-session="${esc(t.key)}" data-id="${s.id}" data-parent="?" data-state="ended" data-label="ended before a poll saw it" transform="translate(${at.x} ${at.y})">` +
              `<title>#${s.id}: a channel that opened and ended between two polls</title>` +
              `<rect class="box" width="${at.w}" height="${nodeH}" rx="10"/>` +
              `<text class="t" x="10" y="18"><tspan class="m">#${s.id}</tspan> channel</text>` +
              `<text class="s" x="10" y="34">ended before a poll saw it</text></g>`,
          );
          continue;
        }
        const label = t.labels.get(p.id) ?? guessLabel(s, nodes);
        const ratio =
          s.window > 0 ? Math.max(0, Math.min(1, s.direction === 'send' ? (s.credit ?? 0) / s.window : s.buffered / s.window)) : 0;
        const barLabel =
          s.direction === 'send' ? `credit ${formatBytes(s.credit ?? 0)} of ${formatBytes(s.window)}` : `buffered ${formatBytes(s.buffered)} of ${formatBytes(s.window)}`;
        const dir = s.direction === 'send' ? 'send ↑' : 'recv ↓';
        const traffic =
          seen.vanished && s.messages === 0 && s.bytes === 0
            ? 'ended between two polls'
            : seen.vanished
              ? `≥ ${s.kind === 'bytes' ? formatBytes(s.bytes) : `${s.messages} msg · ${formatBytes(s.bytes)}`}`
              : s.kind === 'bytes'
                ? formatBytes(s.bytes)
                : `${s.messages} msg · ${formatBytes(s.bytes)}`;
        const maxLabel = Math.max(12, Math.floor((at.w - 20) / 6.2));
        const stateNote = state !== 'open' && !seen.vanished ? ` · ${state}` : '';
        const line2 = narrow ? `${label} · ${traffic}${stateNote}` : label;
        const line3 = narrow ? '' : `${traffic}${stateNote}`;
        const short = (x: string): string => (x.length > maxLabel ? `${x.slice(0, maxLabel - 1)}…` : x);
        parts.push(
          `<g class="node ${s.kind} ${s.direction} ${state}" data-testid="inspector-node" data-session="${esc(t.key)}" data-id="${s.id}" data-parent="${s.parent}" data-kind="${s.kind}" data-direction="${s.direction}" data-state="${state}" data-label="${esc(label)}" data-messages="${s.messages}" data-bytes="${s.bytes}" transform="translate(${at.x} ${at.y})">` +
            `<title>#${s.id} ${s.kind} (${s.direction}, opened by ${s.openedBy === 'local' ? 'this page' : 'the peer'}) — ${esc(label)}; ${state}; ${traffic}; ${barLabel}${s.parent ? `; born inside a message of #${s.parent}` : ''}</title>` +
            `<rect class="box" width="${at.w}" height="${nodeH}" rx="10"/>` +
            `<text class="t" x="10" y="18"><tspan class="m">#${s.id}</tspan> ${s.kind === 'bytes' ? 'bytes' : 'channel'} <tspan class="s">${dir}</tspan></text>` +
            `<circle class="st-${state}" cx="${at.w - 12}" cy="13" r="4"><title>${state}</title></circle>` +
            `<text class="s" x="10" y="${narrow ? 35 : 33}">${esc(short(line2))}</text>` +
            (line3 ? `<text class="s" x="10" y="47">${esc(line3)}</text>` : '') +
            `<rect class="bar-bg" x="10" y="${nodeH - 7}" width="${at.w - 20}" height="3.5" rx="1.75"/>` +
            `<rect class="bar" x="10" y="${nodeH - 7}" width="${((at.w - 20) * ratio).toFixed(1)}" height="3.5" rx="1.75"><title>${barLabel}</title></rect>` +
            `</g>`,
        );
      }
      const blockH = narrow ? sessH + (placed.length > 0 ? 10 + placed.length * rowH - (rowH - nodeH) : 0) : Math.max(Math.max(rows, 1) * ROW_H - (ROW_H - NODE_H), sessH);
      y = top + blockH + BLOCK_GAP;
    }
    const height = Math.max(y - BLOCK_GAP + PAD, 60);
    if (count === 0) parts.push(`<text class="s" x="${PAD + 4}" y="34">No sessions yet.</text>`);
    const markup = parts.join('');
    const summary =
      count === 0
        ? 'No sessions yet.'
        : `${count} ${count === 1 ? 'session' : 'sessions'} · ${open} open ${open === 1 ? 'stream' : 'streams'} · ${ended} recently ended`;
    const w = Math.max(width, 280);
    if (markup !== this.lastMarkup || this.svg.getAttribute('width') !== String(w)) {
      this.lastMarkup = markup;
      const title = `<title id="insp-svg-title">Sessions and channel trees: ${esc(summary)}</title>`;
      this.svg.innerHTML = title + markup;
      this.svg.setAttribute('width', String(w));
      this.svg.setAttribute('height', String(height));
      this.svg.setAttribute('viewBox', `0 0 ${w} ${height}`);
    }
    if (this.summary.textContent !== summary) this.summary.textContent = summary;
  }
}
