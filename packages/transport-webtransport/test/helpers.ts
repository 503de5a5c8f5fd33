/**
 * Helpers for the transport-webtransport tests.
 *
 * As in transport-ws, the tests run the transport's TypeScript source
 * against core's source (the module instances the shared scenario suite
 * uses), so every test file starts with
 *
 *   vi.mock('@libchan/core', () => import('../../core/src/index.js'));
 *
 * The wrappers below only re-type the transport's functions with the source
 * `Session` type.
 */
import type { Session, SessionOptions } from '../../core/src/index.js';
import {
  connectWebTransport as rawConnect,
  listenWebTransport as rawListen,
  type ConnectWebTransportOptions,
  type ListenWebTransportOptions,
  type WebTransportListener,
  type WebTransportRequestInfo,
} from '../src/node.js';

export type Listener = Omit<WebTransportListener, 'sessions'> & { readonly sessions: ReadonlySet<Session> };

export function listen(options: ListenWebTransportOptions, onSession: (session: Session, request: WebTransportRequestInfo) => void = () => {}): Promise<Listener> {
  return rawListen(options, onSession as never) as unknown as Promise<Listener>;
}

export function connect(url: string | URL, options?: ConnectWebTransportOptions): Promise<Session> {
  return rawConnect(url, options) as unknown as Promise<Session>;
}

/** Resolves with `promise`, or rejects naming `what` after `ms` (so a hang fails fast and says where). */
export function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms: ${what}`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** A listener plus a connected client: `a` is the client session, `b` the server's. */
export async function connectedPair(
  optsA: SessionOptions & Partial<ConnectWebTransportOptions> = {},
  optsB: SessionOptions & Partial<ListenWebTransportOptions> = {},
): Promise<{ a: Session; b: Session; listener: Listener; cleanup(): Promise<void> }> {
  let resolveB!: (s: Session) => void;
  const bReady = new Promise<Session>((resolve) => {
    resolveB = resolve;
  });
  const listener = await listen({ port: 0, path: '/chan', ...optsB }, (s) => resolveB(s));
  try {
    const a = await connect(listener.url, { serverCertificateHashes: [listener.certificateHash], ...optsA });
    const b = await within(bReady, 10_000, 'server session');
    return { a, b, listener, cleanup: () => listener.close() };
  } catch (error) {
    await listener.close();
    throw error;
  }
}

export type { Session, SessionOptions };
