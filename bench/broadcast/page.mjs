// The page side of bench/suites/broadcast.mjs: bundled by ./build.mjs (vite) into
// test-results/bench-broadcast/page.js and served by ./server.mjs. Two pages of one browser
// context load it; the suite drives them through `window.bench` with page.evaluate. Every
// timed function measures itself with performance.now() and returns { ms } (so the CDP
// round trip of page.evaluate is not in the numbers).
//
//   raw BroadcastChannel (the baseline)
//     B: rawSink(name)        counts; posts { count } every ACK_EVERY messages and
//                             { bytes } every ACK_CHUNKS chunks; answers { sync } with totals
//     A: rawOpen(name)        then rawMessages(n) / rawBytes(total)
//   libchan over BroadcastChannel (@libchan/transport-broadcast)
//     B: lcListen(name)       listenBroadcast; serves like bench/servers/unix-libchan.mjs
//     A: lcConnect(name)      connectBroadcast + one openSender(); then lcMessages(name, n) /
//                             lcBytes(name, total). { wrapper: 'copy' | 'coalesce' } on both
//                             ends: the diagnostic BroadcastChannel wrappers below.
import { pipe } from '@libchan/core';
import { connectBroadcast, listenBroadcast } from '@libchan/transport-broadcast';
import { serve as serveRequests } from '../lib/libchan-serve.mjs';
import { CHUNK, chunk, message, repeatedChunks } from '../lib/measure.mjs';

/** The receiver acks every ACK_EVERY messages; the sender keeps at most WINDOW unacked. */
const ACK_EVERY = 1_000;
const WINDOW = 10_000;
/** Bytes: an ack every ACK_CHUNKS chunks (1 MiB); at most WINDOW_CHUNKS chunks (4 MiB) unacked. */
const ACK_CHUNKS = 16;
const WINDOW_CHUNKS = 64;

const state = {};
const errors = [];
const record = (where) => (error) => errors.push(`${where}: ${error?.stack ?? error}`);


// ─── raw BroadcastChannel ────────────────────────────────────────────────────

function rawSink(name) {
  const ch = new BroadcastChannel(name);
  let count = 0;
  let bytes = 0;
  let chunks = 0;
  ch.onmessage = (event) => {
    const m = event.data;
    if (m instanceof Uint8Array) {
      bytes += m.byteLength;
      if (++chunks % ACK_CHUNKS === 0) ch.postMessage({ bytes });
      return;
    }
    if (m.sync === true) {
      ch.postMessage({ sync: true, count, bytes });
      return;
    }
    count++;
    if (count % ACK_EVERY === 0) ch.postMessage({ count });
  };
  state.rawSink = ch;
}

function rawOpen(name) {
  const ch = new BroadcastChannel(name);
  const src = { ch, acked: 0, ackedBytes: 0, waiter: undefined, syncs: [] };
  ch.onmessage = (event) => {
    const m = event.data;
    if (m.sync === true) {
      src.syncs.shift()?.(m);
      return;
    }
    if (m.count !== undefined) src.acked = m.count;
    if (m.bytes !== undefined) src.ackedBytes = m.bytes;
    const w = src.waiter;
    src.waiter = undefined;
    w?.();
  };
  state.raw = src;
}

const rawSync = () =>
  new Promise((resolve) => {
    state.raw.syncs.push(resolve);
    state.raw.ch.postMessage({ sync: true });
  });
const nextAck = () => new Promise((resolve) => (state.raw.waiter = resolve));

async function rawMessages(n) {
  const src = state.raw;
  const before = (await rawSync()).count;
  src.acked = before;
  const t0 = performance.now();
  for (let i = 0; i < n; i++) {
    while (before + i - src.acked >= WINDOW) await nextAck();
    src.ch.postMessage(message);
  }
  const after = (await rawSync()).count;
  const ms = performance.now() - t0;
  if (after - before !== n) throw new Error(`raw BroadcastChannel: B counted ${after - before} of ${n}`);
  return { ms };
}

async function rawBytes(total) {
  const src = state.raw;
  const before = (await rawSync()).bytes;
  src.ackedBytes = before;
  const t0 = performance.now();
  for (let sent = 0; sent < total; sent += CHUNK) {
    while (before + sent - src.ackedBytes >= WINDOW_CHUNKS * CHUNK) await nextAck();
    src.ch.postMessage(chunk);
  }
  const after = (await rawSync()).bytes;
  const ms = performance.now() - t0;
  if (after - before !== total) throw new Error(`raw BroadcastChannel: B got ${after - before} of ${total} bytes`);
  return { ms };
}

// ─── libchan over BroadcastChannel ───────────────────────────────────────────

/** The bench servers' request behaviour (bench/lib/libchan-serve.mjs), errors kept for the suite. */
const serve = (session) => serveRequests(session, (where, error) => record(`lc ${where}`)(error));

/**
 * DIAGNOSTIC ONLY (the "frames copied" rows), not what the library ships: a BroadcastChannel
 * that, before posting an envelope, copies every frame that is a view into a larger
 * ArrayBuffer. The library's frames are mostly views into core's shared 64 KiB slab
 * (packages/core/src/codec/bytes.ts allocBytes); BroadcastLink posts them as they are, and
 * structured clone then copies the WHOLE 64 KiB buffer for a ~110-byte frame. core's
 * MessagePort link (packages/core/src/link/port.ts) already copies such views; this wrapper
 * does the same, to show what that fix would give here.
 */
class CopyingBroadcastChannel extends BroadcastChannel {
  postMessage(m) {
    if (m !== null && typeof m === 'object' && Array.isArray(m.frames)) {
      m = { ...m, frames: m.frames.map((f) => (f.byteOffset === 0 && f.byteLength === f.buffer.byteLength ? f : new Uint8Array(f))) };
    }
    super.postMessage(m);
  }
}

/** Runs callbacks in a later task (a MessageChannel message: no timer clamping). */
const tick = new MessageChannel();
const tasks = [];
tick.port1.onmessage = () => tasks.shift()?.();
const nextTask = (callback) => {
  tasks.push(callback);
  tick.port2.postMessage(null);
};

/**
 * DIAGNOSTIC ONLY (the "coalesced" rows): CopyingBroadcastChannel that also merges the
 * 'frames' envelopes one task posts to the same peer and session into one postMessage (the
 * link batches per microtask, so an `await send()` loop posts one envelope per message;
 * core's Node socket link batches per task with setImmediate instead). Other envelopes
 * flush the queue first, so the order is kept.
 */
class CoalescingBroadcastChannel extends CopyingBroadcastChannel {
  #queue = [];
  #scheduled = false;
  postMessage(m) {
    if (m === null || typeof m !== 'object' || m.t !== 'frames') {
      this.#flush();
      super.postMessage(m);
      return;
    }
    const last = this.#queue[this.#queue.length - 1];
    if (last && last.to === m.to && last.session === m.session) last.frames.push(...m.frames);
    else this.#queue.push({ ...m, frames: [...m.frames] });
    if (!this.#scheduled) {
      this.#scheduled = true;
      nextTask(() => this.#flush());
    }
  }
  #flush() {
    this.#scheduled = false;
    for (const m of this.#queue.splice(0)) super.postMessage(m);
  }
  close() {
    this.#flush();
    super.close();
  }
}

const WRAPPERS = { copy: CopyingBroadcastChannel, coalesce: CoalescingBroadcastChannel };
/** `wrapper`: undefined (the shipped path), 'copy' or 'coalesce' (diagnostic). */
const channelOptions = (wrapper) => (wrapper ? { BroadcastChannel: WRAPPERS[wrapper] } : {});

function lcListen(name, { wrapper } = {}) {
  const listener = listenBroadcast(name, serve, { closeTimeoutMs: 1000, ...channelOptions(wrapper) });
  (state.listeners ??= []).push(listener);
  return listener.id;
}

/** Connects to the listener on `name`; later calls name the connection by `name`. */
async function lcConnect(name, { wrapper } = {}) {
  const session = await connectBroadcast(name, channelOptions(wrapper));
  const tx = await session.openSender();
  (state.lc ??= {})[name] = { session, tx };
  session.closed.catch(record('lc session (A)'));
}

async function request(tx, value) {
  const [replies, ret] = pipe();
  await tx.send({ ...value, ret });
  return replies.receive();
}

async function lcMessages(name, n) {
  const { tx } = state.lc[name];
  const before = (await request(tx, { sync: true })).count;
  const t0 = performance.now();
  for (let i = 0; i < n; i++) await tx.send(message);
  const after = (await request(tx, { sync: true })).count;
  const ms = performance.now() - t0;
  if (after - before !== n) throw new Error(`libchan: B counted ${after - before} of ${n}`);
  return { ms };
}

async function lcBytes(name, total) {
  const { tx } = state.lc[name];
  const body = repeatedChunks(total);
  const t0 = performance.now();
  const got = await request(tx, { body });
  const ms = performance.now() - t0;
  if (got !== total) throw new Error(`libchan: B read ${got} of ${total} bytes`);
  return { ms };
}

/** postMessage calls and cloned ArrayBuffer bytes for `n` sends on `name` (explains the rows). */
async function lcPostStats(name, n) {
  const proto = BroadcastChannel.prototype;
  const original = proto.postMessage;
  const stats = { posts: 0, frames: 0, frameBytes: 0, bufferBytes: 0 };
  proto.postMessage = function (m) {
    stats.posts++;
    if (m && Array.isArray(m.frames)) {
      const seen = new Set();
      for (const f of m.frames) {
        stats.frames++;
        stats.frameBytes += f.byteLength;
        if (!seen.has(f.buffer)) stats.bufferBytes += f.buffer.byteLength; // one clone per distinct buffer per message
        seen.add(f.buffer);
      }
    }
    return original.call(this, m);
  };
  try {
    await lcMessages(name, n);
  } finally {
    proto.postMessage = original;
  }
  return stats;
}

async function lcClose() {
  for (const { tx, session } of Object.values(state.lc ?? {})) {
    await tx.close();
    await session.close();
  }
  state.lc = {};
}

window.bench = {
  rawSink,
  rawOpen,
  rawMessages,
  rawBytes,
  lcListen,
  lcConnect,
  lcMessages,
  lcBytes,
  lcPostStats,
  lcClose,
  errors: () => errors.slice(),
  info: () => ({ visibility: document.visibilityState, ua: navigator.userAgent, crossOriginIsolated }),
  messageBytes: () => new TextEncoder().encode(JSON.stringify(message)).byteLength,
};
document.documentElement.dataset.bench = 'ready';
