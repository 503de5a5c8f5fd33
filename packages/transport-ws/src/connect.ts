// @ts-self-types="./connect.d.ts"

/**
 * Sessions over WebSocket that work in every runtime: `connectWebSocket`
 * (browsers, Node, Deno, Bun, Workers) and `acceptWebSocket` for a socket a
 * server already upgraded.
 */
import { Session, SessionClosedError, sessionDefaults, type SessionOptions } from '@libchan/core';
import { WebSocketCloseError, WebSocketLink, type WebSocketLike } from './link.js';

/** A WebSocket constructor: the global one, `ws`, or any WHATWG-shaped implementation. */
export type WebSocketConstructor = new (url: string, protocols?: string | string[]) => WebSocketLike;

export interface ConnectWebSocketOptions extends SessionOptions {
  /** The WebSocket implementation; default: the global one, else `ws` (via isomorphic-ws). */
  WebSocket?: WebSocketConstructor;
  protocols?: string | string[];
  /** Aborts connecting (and the session, once made). */
  signal?: AbortSignal;
}

export interface AcceptWebSocketOptions extends SessionOptions {
  /** Checks the client's `hello` before this side answers the handshake; false refuses the session. */
  verifyHello?: (hello: unknown) => boolean | Promise<boolean>;
}

async function defaultWebSocket(): Promise<WebSocketConstructor> {
  const global = (globalThis as { WebSocket?: unknown }).WebSocket;
  if (typeof global === 'function') return global as WebSocketConstructor;
  const mod = (await import('isomorphic-ws')) as unknown as { default: WebSocketConstructor };
  return mod.default;
}

function opened(socket: WebSocketLike, timeoutMs: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    let settled = false;
    const done = (error?: unknown): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      if (error === undefined) resolve();
      else {
        try {
          socket.close();
        } catch {
          // not open
        }
        reject(error);
      }
    };
    const timer = setTimeout(() => done(new SessionClosedError(`WebSocket did not open within ${timeoutMs} ms`)), timeoutMs);
    (socket as unknown as { addEventListener(t: 'open', l: () => void): void }).addEventListener('open', () => done());
    socket.addEventListener('close', (event) =>
      done(new SessionClosedError('the WebSocket closed while connecting', { cause: new WebSocketCloseError(event.code, event.reason) })),
    );
    socket.addEventListener('error', () => {
      setTimeout(() => done(new SessionClosedError('the WebSocket failed to connect')), 0);
    });
    signal?.addEventListener('abort', () => done(signal.reason), { once: true });
  });
}

/** Connects to a libchan WebSocket endpoint; resolves after the session handshake. */
export async function connectWebSocket(url: string | URL, options: ConnectWebSocketOptions = {}): Promise<Session> {
  const { WebSocket: ctor, protocols, signal, ...sessionOptions } = options;
  signal?.throwIfAborted();
  const WebSocketImpl = ctor ?? (await defaultWebSocket());
  const socket = new WebSocketImpl(String(url), protocols);
  const link = new WebSocketLink(socket);
  await opened(socket, sessionOptions.handshakeTimeoutMs ?? sessionDefaults.handshakeTimeoutMs, signal);
  const session = new Session(link, sessionOptions);
  const onAbort = (): void => session.abort(signal?.reason);
  signal?.addEventListener('abort', onAbort, { once: true });
  session.closed.then(
    () => signal?.removeEventListener('abort', onAbort),
    () => signal?.removeEventListener('abort', onAbort),
  );
  await session.ready;
  return session;
}

/** A session over an already-open (server-side or client-side) WebSocket. Returns at once; await `ready`. */
export function acceptWebSocket(socket: WebSocketLike, options: AcceptWebSocketOptions = {}): Session {
  const { verifyHello, ...sessionOptions } = options;
  return new Session(new WebSocketLink(socket), sessionOptions, verifyHello ? { verifyHello } : undefined);
}
