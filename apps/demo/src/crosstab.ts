/**
 * Cross-tab panel: every tab listens on the BroadcastChannel 'libchan-demo'
 * under a random name; "Find tabs" lists the others, "Connect" opens a session
 * to one of them, and each message carries a reply channel (Ret) on which the
 * other tab answers "seen by <name>". No server involved.
 */
import { isSender, pipe, type Sender, type Session } from '@libchan/core';
import { connectBroadcast, listBroadcastListeners, listenBroadcast, type BroadcastListener } from '@libchan/transport-broadcast';
import type { Inspector } from './inspector.js';

export const CHANNEL = 'libchan-demo';

type Note = { text: string; from: string; at: Date; ret: Sender<string> };

const ADJECTIVES = ['amber', 'brisk', 'cobalt', 'dusky', 'eager', 'fuzzy', 'gentle', 'hazel', 'indigo', 'jolly', 'lucky', 'mellow', 'nimble', 'olive', 'plucky', 'quiet', 'rosy', 'sunny', 'teal', 'witty'];
const ANIMALS = ['otter', 'falcon', 'lynx', 'panda', 'heron', 'koala', 'marmot', 'newt', 'orca', 'puffin', 'quokka', 'raven', 'stoat', 'tapir', 'walrus', 'yak', 'zebra', 'gecko', 'bison', 'ibis'];

function pick<T>(list: readonly T[]): T {
  const n = new Uint32Array(1);
  crypto.getRandomValues(n);
  return list[n[0]! % list.length]!;
}

function suffix(): string {
  const b = new Uint8Array(2);
  crypto.getRandomValues(b);
  return Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
}

/** "amber-otter-3f2a" → "amber-otter" (listener ids are name + random suffix). */
export function nameOf(id: string): string {
  const m = /^([a-z]+-[a-z]+)-[0-9a-f]{4}$/.exec(id);
  return m ? m[1]! : id.slice(0, 16);
}

const plain = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const time = (d: Date): string => d.toLocaleTimeString(undefined, { hour: '2-digit', minute: '2-digit', second: '2-digit' });

interface Peer {
  id: string;
  session: Session;
  tx: Sender<Note>;
}

function el<K extends keyof HTMLElementTagNameMap>(tag: K, props: Partial<HTMLElementTagNameMap[K]> & { dataset?: Record<string, string> } = {}, ...children: (Node | string)[]): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  const { dataset, ...rest } = props;
  Object.assign(node, rest);
  if (dataset) Object.assign(node.dataset, dataset);
  node.append(...children);
  return node;
}

export function setupCrossTab(inspector: Inspector): { name: string; id: string } {
  const name = `${pick(ADJECTIVES)}-${pick(ANIMALS)}`;
  const id = `${name}-${suffix()}`;
  const $ = <T extends HTMLElement>(sel: string): T => document.querySelector<T>(sel)!;
  const nameEl = $('#tab-name');
  const findBtn = $<HTMLButtonElement>('#xtab-find');
  const findState = $('#xtab-find-state');
  const list = $<HTMLUListElement>('#xtab-list');
  const form = $<HTMLFormElement>('#xtab-form');
  const target = $<HTMLSelectElement>('#xtab-target');
  const input = $<HTMLInputElement>('#xtab-input');
  const sentLog = $<HTMLUListElement>('#xtab-sent');
  const inbox = $<HTMLUListElement>('#xtab-inbox');
  nameEl.textContent = name;
  nameEl.dataset.id = id;
  document.title = `libchan for the web — demo`;

  const peers = new Map<string, Peer>();
  const connecting = new Set<string>();
  let found: string[] = [];
  let incomingSeq = 0;

  const addLog = (log: HTMLUListElement, item: HTMLLIElement): void => {
    log.querySelector('li.empty')?.remove();
    log.prepend(item);
    while (log.children.length > 6) log.lastElementChild?.remove();
  };

  // ---- listening: other tabs connect to us
  let listener: BroadcastListener | undefined;
  try {
    listener = listenBroadcast(
      CHANNEL,
      (session) => {
        const hello = session.peer.hello;
        const from = plain(hello) && typeof hello.tab === 'string' ? hello.tab.slice(0, 32) : 'a tab';
        const key = `bc-in-${++incomingSeq}`;
        inspector.track(key, session, 'BroadcastChannel', `← tab ${from}`);
        void serve(session, from);
      },
      {
        id,
        inspectorHistory: 64,
        onHello: (hello) => plain(hello) && typeof hello.tab === 'string' && hello.tab.length <= 32,
      },
    );
  } catch (error) {
    findState.textContent = `BroadcastChannel is unavailable here: ${(error as Error).message}`;
    findBtn.disabled = true;
  }

  async function serve(session: Session, from: string): Promise<void> {
    try {
      for await (const notes of session.incoming()) {
        void (async () => {
          try {
            for await (const note of notes) {
              if (!plain(note) || typeof note.text !== 'string' || !isSender(note.ret)) {
                notes.close(new Error('malformed message'));
                return;
              }
              const text = note.text.slice(0, 200);
              const ret = note.ret as Sender<string>;
              addLog(
                inbox,
                el('li', { dataset: { testid: 'xtab-inbox-item' } }, el('span', { className: 'from' }, `from ${from} · ${time(new Date())}`), document.createElement('br'), text),
              );
              inspector.poll();
              try {
                await ret.send(`seen by ${name}`);
                await ret.close();
              } catch {
                // the sender gave up waiting: nothing to do
              }
            }
          } catch {
            // reset by the peer or the session ended
          }
        })();
      }
    } catch {
      // the session ended
    }
  }

  // ---- finding and connecting
  function renderList(): void {
    list.replaceChildren(
      ...found.map((peerId) => {
        const connected = peers.has(peerId);
        const busy = connecting.has(peerId);
        const action = connected
          ? el('span', { className: 'connected', dataset: { testid: 'xtab-connected' } }, 'connected ✓')
          : el(
              'button',
              {
                type: 'button',
                className: 'btn small',
                disabled: busy,
                textContent: busy ? 'Connecting…' : 'Connect',
                onclick: () => void connect(peerId),
                dataset: { testid: 'xtab-connect' },
              },
            );
        if (!connected && !busy) action.setAttribute('aria-label', `Connect to ${nameOf(peerId)}`);
        return el('li', { dataset: { testid: 'xtab-item', tabId: peerId } }, el('span', { className: 'who' }, nameOf(peerId)), action);
      }),
    );
    const options = [...peers.keys()];
    const previous = target.value;
    target.replaceChildren(...options.map((p) => el('option', { value: p, textContent: `to ${nameOf(p)}` })));
    if (options.includes(previous)) target.value = previous;
    form.hidden = options.length === 0;
  }

  findBtn.addEventListener('click', async () => {
    findBtn.disabled = true;
    findState.textContent = 'Looking…';
    try {
      const ids = await listBroadcastListeners(CHANNEL, { timeoutMs: 300 });
      found = [...new Set([...ids.filter((x) => x !== id), ...peers.keys()])].sort();
      findState.textContent =
        found.length === 0 ? 'No other tab is listening. Open this page in a second tab and try again.' : `Found ${found.length} other ${found.length === 1 ? 'tab' : 'tabs'}.`;
    } catch (error) {
      findState.textContent = `Could not look: ${(error as Error).message}`;
    } finally {
      findBtn.disabled = false;
      renderList();
    }
  });

  async function connect(peerId: string): Promise<void> {
    if (peers.has(peerId) || connecting.has(peerId)) return;
    connecting.add(peerId);
    renderList();
    try {
      const session = await connectBroadcast(CHANNEL, { target: peerId, hello: { tab: name }, handshakeTimeoutMs: 3000, inspectorHistory: 64 });
      const key = `bc-out-${peerId}`;
      inspector.track(key, session, 'BroadcastChannel', `→ tab ${nameOf(peerId)}`);
      const tx = await session.openSender<Note>();
      inspector.nameNewest(key, 'messages', (s) => s.parent === 0 && s.openedBy === 'local');
      peers.set(peerId, { id: peerId, session, tx });
      const gone = (): void => {
        peers.delete(peerId);
        found = found.filter((x) => x !== peerId);
        findState.textContent = `${nameOf(peerId)} went away.`;
        renderList();
      };
      session.closed.then(gone, gone);
      findState.textContent = `Connected to ${nameOf(peerId)}.`;
      target.value = peerId;
    } catch (error) {
      findState.textContent = `Could not connect to ${nameOf(peerId)}: ${(error as Error).message}`;
      found = found.filter((x) => x !== peerId);
    } finally {
      connecting.delete(peerId);
      renderList();
      if (peers.has(peerId)) input.focus();
    }
  }

  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const peer = peers.get(target.value);
    const text = input.value.trim();
    if (!peer || text === '') return;
    input.value = '';
    const reply = el('span', { className: 'reply pending', dataset: { testid: 'xtab-reply' } }, 'waiting for the reply…');
    addLog(sentLog, el('li', { dataset: { testid: 'xtab-sent-item' } }, el('span', { className: 'from' }, `to ${nameOf(peer.id)} · ${time(new Date())}`), document.createElement('br'), text, reply));
    const [replies, ret] = pipe<string>();
    try {
      await peer.tx.send({ text, from: name, at: new Date(), ret });
      inspector.poll();
      const answer = await replies.receive({ signal: AbortSignal.timeout(10_000) });
      reply.textContent = `↩ ${String(answer).slice(0, 80)}`;
      reply.className = 'reply';
    } catch (error) {
      reply.textContent = `✗ ${(error as Error).message}`;
      reply.className = 'reply failed';
      replies.close();
    }
  });

  addEventListener('pagehide', () => {
    void listener?.close();
  });

  return { name, id };
}
