// The page side of e2e/broadcast.spec.ts: bundled by ./build.mjs (vite) into
// test-results/broadcast-build/page.js and loaded by the spec's page server. Every page of
// one browser context shares BroadcastChannel names, so tabs meet through them with no server.
// The spec drives each tab through `window.bcTest` with `page.evaluate`; state that must
// outlive one evaluate (sessions, listeners, running loops) lives in `window.bcState`.
import * as core from '@libchan/core';
import { connectBroadcast, listBroadcastListeners, listenBroadcast, type BroadcastListener } from '@libchan/transport-broadcast';
import type { Receiver, Sender, Session } from '@libchan/core';

/** `promise`, or a rejection naming `label` after `ms` (a hang fails fast and clearly). */
function within<T>(ms: number, promise: Promise<T>, label = 'operation'): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${label} did not settle within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

export interface ErrorInfo {
  name: string;
  message: string;
  code?: unknown;
  cause?: ErrorInfo;
}

/** A plain description of an error (what crosses `page.evaluate`). */
function describeError(error: unknown): ErrorInfo {
  if (error instanceof Error) {
    const out: ErrorInfo = { name: error.name, message: error.message };
    if ('code' in error) out.code = (error as { code: unknown }).code;
    if (error.cause !== undefined) out.cause = describeError(error.cause);
    return out;
  }
  return { name: typeof error, message: String(error) };
}

async function sha256Hex(data: Uint8Array): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', data as Uint8Array<ArrayBuffer>));
  return Array.from(digest, (b) => b.toString(16).padStart(2, '0')).join('');
}

/** `size` deterministic bytes: xorshift32 from `seed`, one byte per step (the spec recomputes them in Node). */
function patternBytes(size: number, seed: number): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(size);
  let x = seed >>> 0 || 0x9e3779b9;
  for (let i = 0; i < size; i++) {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    out[i] = x & 0xff;
  }
  return out;
}

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.byteLength, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.byteLength;
  }
  return out;
}

type Request =
  | { op: 'echo'; value: unknown; ret: Sender<unknown> }
  | { op: 'stream'; count: number; prefix: string; ret: Sender<string> };

/** Serves Ret requests on every top-level channel the peer opens. */
function serveRequests(session: Session): void {
  const serveChannel = async (channel: Receiver<Request>): Promise<void> => {
    for await (const request of channel) {
      void (async () => {
        if (request.op === 'echo') {
          await request.ret.send(request.value);
          await request.ret.close();
        } else if (request.op === 'stream') {
          for (let i = 0; i < request.count; i++) await request.ret.send(`${request.prefix}${i}`);
          await request.ret.close();
        }
      })().catch((error: unknown) => (request as { ret?: Sender<unknown> }).ret?.abort(error));
    }
  };
  void (async () => {
    for await (const channel of session.incoming<Request>()) serveChannel(channel).catch(() => {});
  })().catch(() => {});
}

interface State {
  listener?: BroadcastListener;
  /** This tab's sessions: the one it connected, or the ones its listener was handed, in order. */
  sessions: Session[];
  /** Progress of a running receive loop (see `startReceiving`). */
  received: number;
  failure?: Promise<{ count: number; error: ErrorInfo | undefined; at: number }>;
  tickError?: ErrorInfo;
}

const state: State = { sessions: [], received: 0 };

function session(i: number): Session {
  const s = state.sessions[i];
  if (!s) throw new Error(`no session #${i} in this tab (has ${state.sessions.length})`);
  return s;
}

function byHello(hello: string): Session {
  const s = state.sessions.find((x) => x.peer.hello === hello);
  if (!s) throw new Error(`no session whose peer said hello ${hello}`);
  return s;
}

const api = {
  /** Listens on `name`; every session it is handed is kept, and served as a Ret server when `serve`. */
  listen(name: string, options: { serve?: boolean; keepAliveMs?: number; hello?: unknown } = {}): string {
    const { serve = false, ...rest } = options;
    state.listener = listenBroadcast(
      name,
      (s) => {
        state.sessions.push(s);
        if (serve) serveRequests(s);
      },
      rest,
    );
    return state.listener.id;
  },

  /** Connects to `name`; resolves with the listener's hello once the handshake is done. */
  async connect(name: string, options: { keepAliveMs?: number; hello?: unknown; target?: string; serve?: boolean } = {}): Promise<unknown> {
    const { serve = false, ...rest } = options;
    const s = await within(10_000, connectBroadcast(name, rest), 'connectBroadcast');
    state.sessions.push(s);
    if (serve) serveRequests(s);
    return s.peer.hello;
  },

  async waitSessions(n: number): Promise<unknown[]> {
    await within(10_000, (async () => {
      while (state.sessions.length < n) await new Promise((r) => setTimeout(r, 10));
    })(), `${n} sessions`);
    return state.sessions.map((s) => s.peer.hello);
  },

  listeners(name: string): Promise<string[]> {
    return listBroadcastListeners(name, { timeoutMs: 300 });
  },

  /** A Ret round trip on session `i`: sends { op: 'echo', value, ret }, returns the reply and how ret ended. */
  async echo(i: number, value: unknown): Promise<{ reply: unknown; isDate: boolean; isMap: boolean; end: ErrorInfo | undefined }> {
    const requests = await session(i).openSender<Request>();
    const [replies, ret] = core.pipe<unknown>();
    await requests.send({ op: 'echo', value, ret });
    const reply = await within(10_000, replies.receive(), 'the reply');
    let end: ErrorInfo | undefined;
    try {
      await within(5_000, replies.receive(), 'the end of ret');
    } catch (error) {
      end = describeError(error);
    }
    await requests.close();
    const r = reply as { when?: unknown; map?: unknown };
    return { reply, isDate: r.when instanceof Date, isMap: r.map instanceof Map, end };
  },

  /** Asks the peer for `count` strings `${prefix}${k}` on a ret channel; returns them all. */
  async stream(i: number, count: number, prefix: string): Promise<string[]> {
    const requests = await session(i).openSender<Request>();
    const [values, ret] = core.pipe<string>();
    await requests.send({ op: 'stream', count, prefix, ret });
    const out: string[] = [];
    await within(20_000, (async () => {
      for await (const v of values) out.push(v);
    })(), 'the stream');
    await requests.close();
    return out;
  },

  /** Hands the peer a Receiver (nested in a message) and streams 0 … count-1 into it. */
  async handReceiver(i: number, count: number): Promise<void> {
    const tx = await session(i).openSender<{ label: string; values: Receiver<number> }>();
    const [values, valuesTx] = core.pipe<number>();
    await tx.send({ label: 'a receiver for you', values });
    if (!core.isReceiver(values)) throw new Error('unreachable');
    for (let k = 0; k < count; k++) await valuesTx.send(k);
    await valuesTx.close();
    await tx.close();
  },

  /** Takes the Receiver the peer handed over and reads it to its end. */
  async takeReceiver(i: number): Promise<{ label: string; isReceiver: boolean; values: number[] }> {
    const rx = await within(10_000, session(i).accept<{ label: string; values: Receiver<number> }>(), 'accept');
    const { label, values } = await within(10_000, rx.receive(), 'the message');
    const out: number[] = [];
    await within(20_000, (async () => {
      for await (const v of values) out.push(v);
    })(), 'the values');
    return { label, isReceiver: core.isReceiver(values), values: out };
  },

  /** Hands the peer a Sender (nested in a message) and collects what it sends back. */
  async handSender(i: number): Promise<number[]> {
    const tx = await session(i).openSender<{ replies: Sender<number> }>();
    const [replies, repliesTx] = core.pipe<number>();
    await tx.send({ replies: repliesTx });
    const out: number[] = [];
    await within(20_000, (async () => {
      for await (const v of replies) out.push(v);
    })(), 'the values sent back');
    await tx.close();
    return out;
  },

  /** Takes the Sender the peer handed over and sends 0 … count-1 on it. */
  async takeSender(i: number, count: number): Promise<boolean> {
    const rx = await within(10_000, session(i).accept<{ replies: Sender<number> }>(), 'accept');
    const { replies } = await within(10_000, rx.receive(), 'the message');
    for (let k = 0; k < count; k++) await replies.send(k);
    await replies.close();
    return core.isSender(replies);
  },

  /** Sends a `size`-byte ReadableStream in `chunk`-byte pieces; returns its size and SHA-256. */
  async sendBytes(i: number, size: number, chunk: number, seed: number): Promise<{ length: number; sha256: string }> {
    const all = patternBytes(size, seed);
    let offset = 0;
    const readable = new ReadableStream<Uint8Array>(
      {
        pull(controller) {
          if (offset >= size) {
            controller.close();
            return;
          }
          const end = Math.min(offset + chunk, size);
          controller.enqueue(all.slice(offset, end));
          offset = end;
        },
      },
      { highWaterMark: 0 },
    );
    const tx = await session(i).openSender<{ body: ReadableStream<Uint8Array> }>();
    await tx.send({ body: readable });
    await tx.close();
    return { length: size, sha256: await sha256Hex(all) };
  },

  /** Receives a byte stream; returns its size, SHA-256 (crypto.subtle) and whether every chunk was a Uint8Array. */
  async receiveBytes(i: number): Promise<{ length: number; sha256: string; chunks: number; allUint8Array: boolean }> {
    const rx = await within(10_000, session(i).accept<{ body: ReadableStream<Uint8Array> }>(), 'accept');
    const { body } = await within(10_000, rx.receive(), 'the message');
    const parts: Uint8Array[] = [];
    let allUint8Array = body instanceof ReadableStream;
    await within(30_000, (async () => {
      const reader = body.getReader();
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        if (!(value instanceof Uint8Array)) allUint8Array = false;
        parts.push(value);
      }
    })(), 'the byte stream');
    const data = concat(parts);
    return { length: data.byteLength, sha256: await sha256Hex(data), chunks: parts.length, allUint8Array };
  },

  /** Opens a channel to the peer and sends 0, 1, 2 … on it every 10 ms until it fails. */
  startTicking(i: number): void {
    void (async () => {
      const tx = await session(i).openSender<number>();
      for (let k = 0; ; k++) {
        await tx.send(k);
        await new Promise((r) => setTimeout(r, 10));
      }
    })().catch((error: unknown) => {
      state.tickError = describeError(error);
    });
  },

  /** Accepts the peer's next channel and receives until it fails; progress in `received`, the end in `failure`. */
  startReceiving(i: number): void {
    state.received = 0;
    state.failure = (async () => {
      const rx = await session(i).accept<number>();
      for (;;) {
        try {
          const v = await rx.receive();
          if (v !== state.received) throw new Error(`out of order: ${v} after ${state.received}`);
          state.received++;
        } catch (error) {
          return { count: state.received, error: describeError(error), at: Date.now() };
        }
      }
    })();
  },

  received(): number {
    return state.received;
  },

  /** How the receive loop ended (waits at most `ms`). */
  failure(ms: number): Promise<{ count: number; error: ErrorInfo | undefined; at: number }> {
    if (!state.failure) throw new Error('startReceiving was not called');
    return within(ms, state.failure, 'the receive loop to fail');
  },

  /** Sends `count` values `${tag}#k` on a new channel of the session whose peer said `hello` (or session `i`). */
  async sendTagged(who: number | string, tag: string, count: number): Promise<void> {
    const s = typeof who === 'number' ? session(who) : byHello(who);
    const tx = await s.openSender<string>();
    for (let k = 0; k < count; k++) void tx.send(`${tag}#${k}`);
    await within(20_000, tx.close(), 'sending tagged values');
  },

  /** Every value of the next channel the session whose peer said `hello` (or session `i`) accepts. */
  async receiveTagged(who: number | string): Promise<string[]> {
    const s = typeof who === 'number' ? session(who) : byHello(who);
    const rx = await within(10_000, s.accept<string>(), 'accept');
    const out: string[] = [];
    await within(20_000, (async () => {
      for await (const v of rx) out.push(v);
    })(), 'the tagged values');
    return out;
  },

  /** Nothing else is waiting to be accepted on any session of this tab. */
  async noStrayChannels(): Promise<boolean> {
    for (const s of state.sessions) {
      const ac = new AbortController();
      const pending = s.accept({ signal: ac.signal });
      ac.abort(new Error('none'));
      try {
        await pending;
        return false;
      } catch {
        // aborted: nothing was waiting
      }
    }
    return true;
  },
};

export type BroadcastTestApi = typeof api;

declare global {
  interface Window {
    bcTest: BroadcastTestApi;
  }
}

window.bcTest = api;
document.documentElement.dataset.bcTest = 'ready';
