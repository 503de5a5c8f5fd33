// @ts-self-types="./connect.d.ts"

/**
 * `connectBroadcast`: finds a listener on a BroadcastChannel name (the first
 * to answer, or a given one), confirms it, and runs a session to it.
 * `listBroadcastListeners` asks who listens.
 */
import { Session, SessionClosedError, sessionDefaults, validateSessionOptions } from '@libchan/core';
import { BroadcastLink } from './link.js';
import { goodbyeOnPagehide, sessionOptions, type BroadcastOptions } from './endpoint.js';
import { defaultBroadcastChannel, parseEnvelope, randomId, type BroadcastChannelConstructor, type Envelope } from './envelope.js';

export interface ConnectBroadcastOptions extends BroadcastOptions {
  /** Connect to this listener id only. */
  target?: string;
  signal?: AbortSignal;
}

export function connectBroadcast(name: string, options: ConnectBroadcastOptions = {}): Promise<Session> {
  const { target, signal, ...rest } = options;
  if (signal?.aborted) return Promise.reject(signal.reason);
  let Ctor: BroadcastChannelConstructor;
  const opts = sessionOptions(rest);
  try {
    Ctor = rest.BroadcastChannel ?? defaultBroadcastChannel();
    validateSessionOptions(opts); // bad options fail here, not later inside a message handler
  } catch (error) {
    return Promise.reject(error);
  }
  const timeoutMs = opts.handshakeTimeoutMs ?? sessionDefaults.handshakeTimeoutMs;
  const channel = new Ctor(name);
  const id = randomId();
  const sessionId = randomId();
  let link: BroadcastLink | undefined;
  let session: Session | undefined;
  let stopGoodbye = (): void => {};

  const post = (envelope: Envelope): void => {
    try {
      channel.postMessage(envelope);
    } catch {
      // closed
    }
  };
  const shutdown = (): void => {
    stopGoodbye();
    channel.removeEventListener('message', onMessage);
    channel.close();
  };

  const onMessage = (event: MessageEvent): void => {
    const e = parseEnvelope(event.data);
    if (!e || e.from === id || !('to' in e) || e.to !== id) return;
    if (e.t === 'offer' && e.session === sessionId) {
      if (link) {
        post({ v: 1, t: 'decline', from: id, to: e.from, session: sessionId });
        return;
      }
      link = new BroadcastLink(channel, id, e.from, sessionId, shutdown);
      post({ v: 1, t: 'confirm', from: id, to: e.from, session: sessionId });
      session = new Session(link, opts);
      const s = session;
      stopGoodbye = goodbyeOnPagehide(() => [s]);
      settle(s.ready.then(() => s));
      return;
    }
    if ((e.t === 'frames' || e.t === 'bye') && e.session === sessionId) link?.receive(e);
  };

  let settle!: (p: Promise<Session>) => void;
  const result = new Promise<Session>((resolve, reject) => {
    let done = false;
    const timer = setTimeout(() => fail(new SessionClosedError(`no listener answered on BroadcastChannel "${name}" within ${timeoutMs} ms`)), timeoutMs);
    const fail = (error: unknown): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      if (session) session.abort(error);
      else shutdown();
      reject(error);
    };
    settle = (p) =>
      p.then(
        (s) => {
          if (done) return;
          done = true;
          clearTimeout(timer);
          resolve(s);
        },
        fail,
      );
    signal?.addEventListener('abort', () => fail(signal.reason), { once: true });
  });
  channel.addEventListener('message', onMessage);
  post({ v: 1, t: 'connect', from: id, session: sessionId, ...(target === undefined ? {} : { target }) });
  return result;
}

/** The ids of listeners on `name` that answer within `timeoutMs` (default 250). */
export async function listBroadcastListeners(name: string, options: { timeoutMs?: number; BroadcastChannel?: BroadcastOptions['BroadcastChannel'] } = {}): Promise<string[]> {
  const Ctor = options.BroadcastChannel ?? defaultBroadcastChannel();
  const channel = new Ctor(name);
  const id = randomId();
  const found = new Set<string>();
  const onMessage = (event: MessageEvent): void => {
    const e = parseEnvelope(event.data);
    if (e?.t === 'here' && e.to === id) found.add(e.from);
  };
  channel.addEventListener('message', onMessage);
  channel.postMessage({ v: 1, t: 'probe', from: id } satisfies Envelope);
  await new Promise((resolve) => setTimeout(resolve, options.timeoutMs ?? 250));
  channel.removeEventListener('message', onMessage);
  channel.close();
  return [...found];
}
