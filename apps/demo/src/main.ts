/**
 * The libchan demo page: one session to the server over WebSocket (/chan) or,
 * when the server offers it, native WebTransport (HTTP/3, a self-signed
 * certificate accepted by its SHA-256), three top-level channels on it (asks, feeds, uploads), every request with
 * its own reply channel; tab-to-tab sessions over BroadcastChannel; and a
 * live inspector of all of them. No framework.
 */
import { isReceiver, pipe, type Receiver, type Sender, type Session } from '@libchan/core';
// The browser entry: native WebTransport only (never the @fails-components ponyfill).
import { connectWebTransport } from '@libchan/transport-webtransport';
import { connectWebSocket } from '@libchan/transport-ws';
import { setupCrossTab } from './crosstab.js';
import { formatBytes, Inspector } from './inspector.js';

// ---------------------------------------------------------------- wire types

type Answer = { question: string; answer: string; at: Date; served: number };
type Tick = { seq: number; at: Date; value: number; sessions: number; heapMB: number };
type UploadResult = { name: string; size: number; sha256: string; ms: number };
type Request =
  | { op: 'ask'; question: string; ret: Sender<Answer> }
  | { op: 'feed'; ret: Sender<{ feed: Receiver<Tick> }> }
  | { op: 'upload'; name: string; size: number; bytes: ReadableStream<Uint8Array>; ret: Sender<UploadResult> };

interface WebTransportConfig {
  /** https://127.0.0.1:PORT/chan */
  url: string;
  /** Hex SHA-256 of the server's self-signed certificate (for serverCertificateHashes). */
  certificateHash: string;
}

interface Config {
  ws: string;
  webtransport: WebTransportConfig | null;
}

type Transport = 'ws' | 'wt';

// ---------------------------------------------------------------- dom

const $ = <T extends Element = HTMLElement>(sel: string): T => {
  const node = document.querySelector<T>(sel);
  if (!node) throw new Error(`missing ${sel}`);
  return node;
};

const ui = {
  status: $('#conn-status'),
  statusText: $('#conn-text'),
  reconnect: $<HTMLButtonElement>('#reconnect'),
  wsRadio: $<HTMLInputElement>('#transport-ws'),
  wtRadio: $<HTMLInputElement>('#transport-wt'),
  wtNote: $('#wt-note'),
  askForm: $<HTMLFormElement>('#ask-form'),
  askInput: $<HTMLInputElement>('#ask-input'),
  askButton: $<HTMLButtonElement>('#ask-button'),
  askAnswer: $('#ask-answer'),
  askMeta: $('#ask-meta'),
  askHistory: $<HTMLOListElement>('#ask-history'),
  feedStart: $<HTMLButtonElement>('#feed-start'),
  feedStop: $<HTMLButtonElement>('#feed-stop'),
  feedState: $('#feed-state'),
  feedValue: $('#feed-value'),
  feedCount: $('#feed-count'),
  feedSessions: $('#feed-sessions'),
  feedHeap: $('#feed-heap'),
  sparkFig: $('.spark'),
  sparkLine: $<SVGPathElement>('#spark-line'),
  sparkArea: $<SVGPathElement>('#spark-area'),
  sparkDot: $<SVGCircleElement>('#spark-dot'),
  drop: $('#drop'),
  uploadInput: $<HTMLInputElement>('#upload-input'),
  uploadSample: $<HTMLButtonElement>('#upload-sample'),
  uploadProgress: $<HTMLProgressElement>('#upload-progress'),
  uploadProgressText: $('#upload-progress-text'),
  uploadName: $('#upload-name'),
  uploadSize: $('#upload-size'),
  uploadSha: $('#upload-sha256'),
  uploadLocalSha: $('#upload-local-sha256'),
  uploadMatch: $('#upload-match'),
};

const inspector = new Inspector($<SVGSVGElement>('#inspector'), $('#insp-summary'));
inspector.start();
const tab = setupCrossTab(inspector);

// ---------------------------------------------------------------- connection

type ConnState = 'connecting' | 'open' | 'closed' | 'failed';

interface Connection {
  /** The transport, also the inspector's key for the session. */
  key: Transport;
  session: Session;
  asks: Sender<Request>;
  feeds: Sender<Request>;
  uploads: Sender<Request>;
}

let conn: Connection | undefined;
let connState: ConnState = 'connecting';
let config: Config = { ws: '/chan', webtransport: null };
let generation = 0;
/** The transport of the current (or next) connection; also the inspector key of its session. */
let transport: Transport = 'ws';

function setState(state: ConnState, text: string): void {
  connState = state;
  ui.status.dataset.state = state;
  ui.statusText.textContent = text;
  ui.reconnect.hidden = state === 'open' || state === 'connecting';
  const open = state === 'open';
  ui.askButton.disabled = !open || asking;
  ui.feedStart.disabled = !open || feed !== undefined;
  ui.uploadInput.disabled = !open || uploading;
  ui.uploadSample.disabled = !open || uploading;
}

const errorText = (error: unknown): string => {
  const e = error as { message?: string; cause?: { message?: string } };
  const msg = e?.message ?? String(error);
  return e?.cause?.message && !msg.includes(e.cause.message) ? `${msg} (${e.cause.message})` : msg;
};

function webTransportConfig(value: unknown): WebTransportConfig | null {
  if (value === null || typeof value !== 'object') return null;
  const { url, certificateHash } = value as Partial<WebTransportConfig>;
  if (typeof url !== 'string' || !/^https:\/\//.test(url)) return null;
  if (typeof certificateHash !== 'string' || !/^[0-9a-f]{64}$/i.test(certificateHash)) return null;
  return { url, certificateHash: certificateHash.toLowerCase() };
}

function hashBytes(hexText: string): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(hexText.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(hexText.slice(i * 2, i * 2 + 2), 16);
  return out;
}

const hasWebTransport = typeof (globalThis as { WebTransport?: unknown }).WebTransport === 'function';

async function loadConfig(): Promise<void> {
  try {
    const res = await fetch('/config.json', { cache: 'no-store' });
    if (res.ok) {
      const data = (await res.json()) as { ws?: unknown; webtransport?: unknown };
      config = { ws: typeof data.ws === 'string' ? data.ws : '/chan', webtransport: webTransportConfig(data.webtransport) };
    }
  } catch {
    // keep the defaults: same-origin /chan
  }
  if (config.webtransport === null) {
    ui.wtRadio.disabled = true;
    ui.wtNote.innerHTML = 'WebTransport is off: this server offers none (<code>webtransport: null</code> in <code>/config.json</code> — the Deno sidecar did not start).';
  } else if (!hasWebTransport) {
    ui.wtRadio.disabled = true;
    ui.wtNote.textContent = `This browser has no native WebTransport; the server offers it at ${config.webtransport.url}. WebSocket is used.`;
  } else {
    ui.wtRadio.disabled = false;
    ui.wtNote.textContent = `WebTransport endpoint: ${config.webtransport.url} (HTTP/3, self-signed certificate accepted by its SHA-256 ${config.webtransport.certificateHash.slice(0, 16)}…).`;
  }
}

function wsURL(path: string): string {
  const url = new URL(path, location.href);
  url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
  return url.href;
}

async function connect(): Promise<void> {
  const gen = ++generation;
  const previous = conn;
  conn = undefined;
  // A transport switch: stop the feed on the old session, then end it gracefully.
  if (feed) {
    feed.close(new Error('transport switched'));
    feed = undefined;
    setFeedState('stopped', `stopped after ${tickCount} ticks (transport switched)`);
    ui.feedStop.disabled = true;
  }
  if (previous) void previous.session.close().catch(() => {});
  const key = transport;
  const wt = key === 'wt' ? config.webtransport : null;
  const label = wt ? 'WebTransport' : 'WebSocket';
  const where = wt ? wt.url : config.ws;
  setState('connecting', `connecting over ${label}…`);
  try {
    const options = {
      hello: { app: 'libchan-demo', tab: tab.name },
      handshakeTimeoutMs: 8000,
      inspectorHistory: 64, // the inspector shows short-lived reply channels with their final counts
    };
    const session = wt
      ? await connectWebTransport(wt.url, { ...options, serverCertificateHashes: [{ algorithm: 'sha-256', value: hashBytes(wt.certificateHash) }] })
      : await connectWebSocket(wsURL(config.ws), options);
    if (gen !== generation) {
      session.abort();
      return;
    }
    // One server session on the inspector at a time: the one in use.
    for (const other of ['ws', 'wt'] as const) if (other !== key) inspector.untrack(other);
    inspector.track(key, session, label, `→ server ${where}`, { sticky: true });
    const local = (s: { parent: number; openedBy: string }): boolean => s.parent === 0 && s.openedBy === 'local';
    const asks = await session.openSender<Request>();
    inspector.nameNewest(key, 'asks', local);
    const feeds = await session.openSender<Request>();
    inspector.nameNewest(key, 'feed requests', local);
    const uploads = await session.openSender<Request>();
    inspector.nameNewest(key, 'uploads', local);
    if (gen !== generation) {
      void session.close().catch(() => {});
      return;
    }
    conn = { key, session, asks, feeds, uploads };
    setState('open', `connected · ${label} ${where}`);
    const ended = (error?: unknown): void => {
      if (gen !== generation) return;
      conn = undefined;
      if (error === undefined) setState('closed', 'closed by the server');
      else setState('failed', `disconnected: ${errorText(error)}`);
    };
    session.closed.then(() => ended(), ended);
  } catch (error) {
    if (gen !== generation) return;
    setState('failed', `could not connect: ${errorText(error)}`);
  }
}

ui.reconnect.addEventListener('click', () => {
  void connect();
});

for (const radio of [ui.wsRadio, ui.wtRadio]) {
  radio.addEventListener('change', () => {
    if (!radio.checked) return;
    const next: Transport = radio === ui.wtRadio ? 'wt' : 'ws';
    if (next === transport && (connState === 'open' || connState === 'connecting')) return;
    transport = next;
    void connect();
  });
}

// ---------------------------------------------------------------- 1. ask

let asking = false;
const timeOf = (d: Date): string =>
  d instanceof Date && !Number.isNaN(d.getTime()) ? d.toLocaleTimeString(undefined, { hour: '2-digit', minute: '2-digit', second: '2-digit' }) : '?';

ui.askForm.addEventListener('submit', async (event) => {
  event.preventDefault();
  const question = ui.askInput.value.trim();
  if (!conn || question === '' || asking) return;
  asking = true;
  ui.askButton.disabled = true;
  ui.askButton.textContent = 'Asking…';
  const started = performance.now();
  const [replies, ret] = pipe<Answer>();
  try {
    await conn.asks.send({ op: 'ask', question, ret });
    inspector.poll(); // catch the short-lived reply channel while it is open
    const answer = await replies.receive({ signal: AbortSignal.timeout(10_000) });
    inspector.poll();
    const ms = Math.round(performance.now() - started);
    const prev = ui.askAnswer.classList.contains('empty') || ui.askAnswer.classList.contains('error') ? undefined : ui.askAnswer.dataset.question;
    if (prev) {
      const li = document.createElement('li');
      li.innerHTML = '';
      li.append('“', Object.assign(document.createElement('b'), { textContent: prev }), `” → ${ui.askAnswer.textContent ?? ''}`);
      ui.askHistory.prepend(li);
      while (ui.askHistory.children.length > 3) ui.askHistory.lastElementChild?.remove();
    }
    ui.askAnswer.className = 'answer';
    ui.askAnswer.textContent = String(answer.answer);
    ui.askAnswer.dataset.question = String(answer.question);
    ui.askMeta.textContent = `answer #${answer.served} · server time ${timeOf(answer.at)} · round trip ${ms} ms on its own reply channel`;
    ui.askInput.value = '';
  } catch (error) {
    ui.askAnswer.className = 'answer error';
    ui.askAnswer.textContent = `No answer: ${errorText(error)}`;
    ui.askMeta.textContent = '';
    replies.close();
  } finally {
    asking = false;
    ui.askButton.textContent = 'Ask';
    ui.askButton.disabled = connState !== 'open';
  }
});

// ---------------------------------------------------------------- 2. live feed

const SPARK_POINTS = 60;
let feed: Receiver<Tick> | undefined;
let ticks: number[] = [];
let tickCount = 0;

function setFeedState(state: 'idle' | 'starting' | 'running' | 'stopped' | 'error', text: string): void {
  ui.feedState.dataset.state = state;
  ui.feedState.textContent = text;
  ui.sparkFig.classList.toggle('stopped', state === 'stopped' || state === 'error');
}

function drawSpark(): void {
  const w = 300;
  const h = 90;
  if (ticks.length === 0) {
    ui.sparkLine.setAttribute('d', '');
    ui.sparkArea.setAttribute('d', '');
    return;
  }
  const step = w / (SPARK_POINTS - 1);
  const offset = SPARK_POINTS - ticks.length;
  const pts = ticks.map((v, i) => [(offset + i) * step, h - 4 - (Math.max(0, Math.min(100, v)) / 100) * (h - 8)] as const);
  const line = pts.map(([x, y], i) => `${i === 0 ? 'M' : 'L'}${x.toFixed(1)} ${y.toFixed(1)}`).join(' ');
  ui.sparkLine.setAttribute('d', line);
  ui.sparkArea.setAttribute('d', `${line} L${pts.at(-1)![0].toFixed(1)} ${h} L${pts[0]![0].toFixed(1)} ${h} Z`);
  const [lx, ly] = pts.at(-1)!;
  ui.sparkDot.setAttribute('cx', lx.toFixed(1));
  ui.sparkDot.setAttribute('cy', ly.toFixed(1));
}

ui.feedStart.addEventListener('click', async () => {
  if (!conn || feed) return;
  ui.feedStart.disabled = true;
  setFeedState('starting', 'starting…');
  const [replies, ret] = pipe<{ feed: Receiver<Tick> }>();
  const key = conn.key;
  let receiver: Receiver<Tick>;
  try {
    await conn.feeds.send({ op: 'feed', ret });
    inspector.poll();
    const reply = await replies.receive({ signal: AbortSignal.timeout(10_000) });
    inspector.poll();
    if (!isReceiver(reply?.feed)) throw new TypeError('the server did not hand back a channel');
    receiver = reply.feed as Receiver<Tick>;
  } catch (error) {
    replies.close();
    setFeedState('error', `failed: ${errorText(error)}`);
    ui.feedStart.disabled = connState !== 'open';
    return;
  }
  inspector.nameNewest(key, 'feed ticks', (s) => s.openedBy === 'peer' && s.kind === 'channel' && s.direction === 'receive' && s.parent !== 0);
  feed = receiver;
  ticks = [];
  tickCount = 0;
  ui.feedCount.textContent = '0';
  setFeedState('running', 'running');
  ui.feedStop.disabled = false;
  ui.feedStop.focus();
  try {
    for await (const tick of receiver) {
      if (typeof tick?.value !== 'number') continue;
      tickCount += 1;
      ticks.push(tick.value);
      if (ticks.length > SPARK_POINTS) ticks.shift();
      ui.feedValue.textContent = tick.value.toFixed(2);
      ui.feedCount.textContent = String(tickCount);
      ui.feedSessions.textContent = String(tick.sessions);
      ui.feedHeap.textContent = `${tick.heapMB} MB`;
      drawSpark();
    }
    if (feed === receiver) setFeedState('stopped', 'ended by the server');
  } catch (error) {
    if (feed === receiver) setFeedState('error', `lost: ${errorText(error)}`);
  } finally {
    if (feed === receiver) {
      feed = undefined;
      ui.feedStop.disabled = true;
      ui.feedStart.disabled = connState !== 'open';
    }
  }
});

ui.feedStop.addEventListener('click', () => {
  const receiver = feed;
  if (!receiver) return;
  feed = undefined;
  // Closing the receiver crosses the wire: the server's next send rejects and its timer stops.
  receiver.close(new Error('stopped by the page'));
  setFeedState('stopped', `stopped after ${tickCount} ticks`);
  ui.feedStop.disabled = true;
  ui.feedStart.disabled = connState !== 'open';
  ui.feedStart.focus();
});

// ---------------------------------------------------------------- 3. upload

let uploading = false;
const CHUNK = 64 * 1024;

function hex(buf: ArrayBuffer): string {
  return Array.from(new Uint8Array(buf), (b) => b.toString(16).padStart(2, '0')).join('');
}

async function localSha256(file: Blob): Promise<string | undefined> {
  if (!globalThis.crypto?.subtle) return undefined; // not a secure context
  return hex(await crypto.subtle.digest('SHA-256', await file.arrayBuffer()));
}

function setProgress(sent: number, total: number, note = ''): void {
  const pct = total > 0 ? Math.min(100, (sent / total) * 100) : 100;
  ui.uploadProgress.value = pct;
  ui.uploadProgress.dataset.bytes = String(sent);
  ui.uploadProgressText.textContent = `${formatBytes(sent)} of ${formatBytes(total)} pulled by the library · ${pct.toFixed(0)}%${note}`;
}

async function upload(file: File): Promise<void> {
  if (!conn || uploading) return;
  uploading = true;
  ui.uploadInput.disabled = true;
  ui.uploadSample.disabled = true;
  ui.uploadName.textContent = file.name;
  ui.uploadSize.textContent = '—';
  ui.uploadSha.textContent = '…';
  ui.uploadLocalSha.textContent = '…';
  ui.uploadMatch.textContent = '—';
  ui.uploadMatch.className = '';
  delete ui.uploadMatch.dataset.match;
  setProgress(0, file.size);

  // The library pulls from this stream only as flow-control credit allows, so
  // counting bytes in pull() shows the upload's real progress.
  const reader = file.stream().getReader();
  let pending: Uint8Array | undefined;
  let pulled = 0;
  const bytes = new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        if (!pending || pending.byteLength === 0) {
          const next = await reader.read();
          if (next.done) {
            controller.close();
            return;
          }
          pending = next.value;
        }
        const chunk = pending.slice(0, CHUNK);
        pending = pending.subarray(chunk.byteLength);
        pulled += chunk.byteLength;
        setProgress(pulled, file.size);
        controller.enqueue(chunk);
      },
      cancel(reason) {
        return reader.cancel(reason);
      },
    },
    new CountQueuingStrategy({ highWaterMark: 0 }),
  );

  const local = localSha256(file).catch(() => undefined);
  const [replies, ret] = pipe<UploadResult>();
  const started = performance.now();
  try {
    const key = conn.key;
    await conn.uploads.send({ op: 'upload', name: file.name.slice(0, 255), size: file.size, bytes, ret });
    inspector.nameNewest(key, 'file bytes', (s) => s.kind === 'bytes' && s.openedBy === 'local');
    inspector.poll();
    const result = await replies.receive({ signal: AbortSignal.timeout(120_000) });
    inspector.poll();
    const ms = Math.max(1, Math.round(performance.now() - started));
    setProgress(pulled, file.size, ` · ${formatBytes((result.size / ms) * 1000)}/s`);
    ui.uploadSize.textContent = `${result.size.toLocaleString('en-US')} bytes (${formatBytes(result.size)})`;
    ui.uploadSize.dataset.bytes = String(result.size);
    ui.uploadSha.textContent = result.sha256;
    const mine = await local;
    ui.uploadLocalSha.textContent = mine ?? 'unavailable (crypto.subtle needs a secure context)';
    if (mine === undefined) {
      ui.uploadMatch.textContent = result.size === file.size ? 'size matches; hash not checked here' : 'size mismatch ✗';
    } else if (mine === result.sha256 && result.size === file.size) {
      ui.uploadMatch.textContent = `match ✓ · server hashed it in ${result.ms} ms`;
      ui.uploadMatch.className = 'match-ok';
      ui.uploadMatch.dataset.match = 'true';
    } else {
      ui.uploadMatch.textContent = 'mismatch ✗';
      ui.uploadMatch.className = 'match-bad';
      ui.uploadMatch.dataset.match = 'false';
    }
  } catch (error) {
    replies.close();
    ui.uploadSha.textContent = '—';
    ui.uploadLocalSha.textContent = (await local) ?? '—';
    ui.uploadMatch.textContent = `failed: ${errorText(error)}`;
    ui.uploadMatch.className = 'match-bad';
  } finally {
    uploading = false;
    ui.uploadInput.value = '';
    ui.uploadInput.disabled = connState !== 'open';
    ui.uploadSample.disabled = connState !== 'open';
  }
}

ui.uploadInput.addEventListener('change', () => {
  const file = ui.uploadInput.files?.[0];
  if (file) void upload(file);
});

ui.uploadSample.addEventListener('click', () => {
  const size = 4 * 1024 * 1024;
  const data = new Uint8Array(size);
  for (let i = 0; i < size; i += 65536) crypto.getRandomValues(data.subarray(i, Math.min(size, i + 65536)));
  void upload(new File([data], 'generated-4MiB.bin', { type: 'application/octet-stream' }));
});

for (const type of ['dragenter', 'dragover'] as const) {
  ui.drop.addEventListener(type, (event) => {
    event.preventDefault();
    if (!ui.uploadInput.disabled) ui.drop.classList.add('over');
  });
}
for (const type of ['dragleave', 'drop'] as const) {
  ui.drop.addEventListener(type, () => ui.drop.classList.remove('over'));
}
ui.drop.addEventListener('drop', (event) => {
  event.preventDefault();
  const file = event.dataTransfer?.files?.[0];
  if (file && !ui.uploadInput.disabled) void upload(file);
});

// ---------------------------------------------------------------- start

setState('connecting', 'connecting…');
await loadConfig();
await connect();
