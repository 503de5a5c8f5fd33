// @ts-self-types="./endpoint.d.ts"

/**
 * Shared parts of listeners and connectors: options, the pagehide goodbye,
 * and the long keep-alive background tabs need.
 */
import type { Session, SessionOptions } from '@libchan/core';
import type { BroadcastChannelConstructor } from './envelope.js';

export interface BroadcastOptions extends SessionOptions {
  /** The BroadcastChannel implementation; default: the global one. */
  BroadcastChannel?: BroadcastChannelConstructor;
}

/** Background tabs throttle timers to a minute or more, so pings are rare by default. */
export const BROADCAST_KEEPALIVE_MS = 60_000;

export function sessionOptions(options: BroadcastOptions): SessionOptions {
  const { BroadcastChannel: _ctor, ...rest } = options;
  return { ...rest, keepAliveMs: rest.keepAliveMs ?? BROADCAST_KEEPALIVE_MS };
}

/**
 * When the page goes away (closed, navigated, put in the back/forward cache),
 * tell every peer at once instead of leaving them to a keep-alive timeout.
 */
export function goodbyeOnPagehide(sessions: () => Iterable<Session>): () => void {
  const target = globalThis as { addEventListener?: (t: string, l: () => void) => void; removeEventListener?: (t: string, l: () => void) => void; document?: unknown };
  if (typeof target.addEventListener !== 'function' || target.document === undefined) return () => {};
  const onPagehide = (): void => {
    for (const session of [...sessions()]) session.abort(new Error('the page went away'));
  };
  target.addEventListener('pagehide', onPagehide);
  return () => target.removeEventListener?.('pagehide', onPagehide);
}
