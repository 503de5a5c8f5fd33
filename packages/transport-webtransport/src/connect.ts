// @ts-self-types="./connect.d.ts"

/**
 * Sessions over WebTransport in every runtime: `connectWebTransport` (browsers
 * with native WebTransport, or any W3C-shaped implementation passed in) and
 * `acceptWebTransport` for a server-side session (Deno's
 * `Deno.upgradeWebTransport`, @fails-components' `sessionStream`).
 */
import { Session, SessionClosedError, sessionDefaults, type SessionOptions } from '@libchan/core';
import { WebTransportLink, type WebTransportLike, type WebTransportLinkOptions } from './link.js';

/** A certificate hash for `serverCertificateHashes` (W3C `WebTransportHash`). */
export interface WebTransportHash {
  algorithm: 'sha-256' | (string & {});
  value: ArrayBufferView | ArrayBuffer;
}

/** A WebTransport constructor: the browser's, or an implementation such as @fails-components' `WebTransportPonyfill`. */
export type WebTransportConstructor = new (url: string, options?: Record<string, unknown>) => WebTransportLike;

export interface ConnectWebTransportOptions extends SessionOptions, WebTransportLinkOptions {
  /** Accept a self-signed server certificate (ECDSA, valid < 14 days) with one of these SHA-256 hashes. */
  serverCertificateHashes?: readonly WebTransportHash[];
  /** The implementation; default: the global `WebTransport` (the Node entry falls back to @fails-components). */
  WebTransport?: WebTransportConstructor;
  /** More options for the WebTransport constructor (e.g. `congestionControl`). */
  transportOptions?: Record<string, unknown>;
  /** Aborts connecting (and the session, once made). */
  signal?: AbortSignal;
}

export interface AcceptWebTransportOptions extends SessionOptions, WebTransportLinkOptions {
  /** Checks the client's `hello` before this side answers the handshake; false refuses the session. */
  verifyHello?: (hello: unknown) => boolean | Promise<boolean>;
}

/** The global WebTransport, if this runtime has one. */
export function globalWebTransport(): WebTransportConstructor | undefined {
  const global = (globalThis as { WebTransport?: unknown }).WebTransport;
  return typeof global === 'function' ? (global as WebTransportConstructor) : undefined;
}

function withTimeout<T>(promise: Promise<T>, ms: number, signal: AbortSignal | undefined, what: string): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => finish(() => reject(new SessionClosedError(`${what} did not finish within ${ms} ms`))), ms);
    const onAbort = (): void => finish(() => reject(signal?.reason));
    signal?.addEventListener('abort', onAbort, { once: true });
    function finish(settle: () => void): void {
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      settle();
    }
    promise.then(
      (value) => finish(() => resolve(value)),
      (error: unknown) => finish(() => reject(error)),
    );
  });
}

/** @internal `connectWebTransport` with a runtime-specific fallback implementation. */
export async function connectWith(
  url: string | URL,
  options: ConnectWebTransportOptions,
  fallback: () => Promise<WebTransportConstructor>,
): Promise<Session> {
  const { WebTransport: given, serverCertificateHashes, transportOptions, signal, maxLaneStreams, lingerMs, maxWriteBytes, ...sessionOptions } = options;
  signal?.throwIfAborted();
  const Impl = given ?? globalWebTransport() ?? (await fallback());
  const init: Record<string, unknown> = { ...transportOptions };
  if (serverCertificateHashes) init.serverCertificateHashes = serverCertificateHashes.map((h) => ({ algorithm: h.algorithm, value: h.value }));
  const transport = new Impl(String(url), init);
  transport.closed.catch(() => {});
  try {
    await withTimeout(transport.ready, sessionOptions.handshakeTimeoutMs ?? sessionDefaults.handshakeTimeoutMs, signal, 'the WebTransport handshake');
  } catch (error) {
    try {
      transport.close();
    } catch {
      // not connected
    }
    if (error === signal?.reason && signal?.aborted) throw error;
    throw new SessionClosedError(`could not connect to ${String(url)} over WebTransport`, { cause: error });
  }
  const link = new WebTransportLink(transport, 'client', { maxLaneStreams, lingerMs, maxWriteBytes });
  const session = new Session(link, sessionOptions);
  const onAbort = (): void => session.abort(signal?.reason);
  signal?.addEventListener('abort', onAbort, { once: true });
  const forget = (): void => signal?.removeEventListener('abort', onAbort);
  session.closed.then(forget, forget);
  await session.ready;
  return session;
}

/**
 * Connects to a libchan WebTransport endpoint; resolves after the session
 * handshake. Uses the global `WebTransport` unless `options.WebTransport`
 * names another implementation (e.g. @fails-components' `WebTransportPonyfill`
 * where there is no native one).
 */
export function connectWebTransport(url: string | URL, options: ConnectWebTransportOptions = {}): Promise<Session> {
  return connectWith(url, options, async () => {
    throw new TypeError('this runtime has no WebTransport: pass options.WebTransport (e.g. WebTransportPonyfill from @fails-components/webtransport)');
  });
}

/**
 * A session over a server-side WebTransport session (W3C-shaped: Deno's
 * `Deno.upgradeWebTransport` result, or one from @fails-components'
 * `sessionStream`). Returns at once; await `ready`. The client opens the
 * control stream, so this side waits for it.
 */
export function acceptWebTransport(transport: WebTransportLike, options: AcceptWebTransportOptions = {}): Session {
  const { verifyHello, maxLaneStreams, lingerMs, maxWriteBytes, ...sessionOptions } = options;
  const link = new WebTransportLink(transport, 'server', { maxLaneStreams, lingerMs, maxWriteBytes });
  return new Session(link, sessionOptions, verifyHello ? { verifyHello } : undefined);
}
