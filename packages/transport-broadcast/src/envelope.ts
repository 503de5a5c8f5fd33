// @ts-self-types="./envelope.d.ts"

/**
 * What travels on a BroadcastChannel. Every same-origin context on the name
 * sees every message, so each carries its sender's id and (except discovery)
 * its addressee and session; anything that does not parse is ignored.
 */

export const ENVELOPE_VERSION = 1;

export type Envelope =
  /** A connector looks for a listener (optionally a specific one). */
  | { v: 1; t: 'connect'; from: string; session: string; target?: string }
  /** A listener offers to take the session. */
  | { v: 1; t: 'offer'; from: string; to: string; session: string }
  /** The connector picks the first offer; other offers for the session are declined. */
  | { v: 1; t: 'confirm'; from: string; to: string; session: string }
  | { v: 1; t: 'decline'; from: string; to: string; session: string }
  /** Session frames, batched. */
  | { v: 1; t: 'frames'; from: string; to: string; session: string; frames: Uint8Array[] }
  /** The link is closed (orderly unless `error`). */
  | { v: 1; t: 'bye'; from: string; to: string; session: string; error?: string }
  /** Discovery: who listens on this name? */
  | { v: 1; t: 'probe'; from: string }
  | { v: 1; t: 'here'; from: string; to: string };

const isId = (v: unknown): v is string => typeof v === 'string' && v.length > 0 && v.length <= 64;

/** Parses untrusted data; undefined for anything that is not a well-formed envelope. */
export function parseEnvelope(data: unknown): Envelope | undefined {
  if (typeof data !== 'object' || data === null) return undefined;
  const e = data as Record<string, unknown>;
  if (e.v !== ENVELOPE_VERSION || !isId(e.from)) return undefined;
  switch (e.t) {
    case 'probe':
      return e as Envelope;
    case 'here':
      return isId(e.to) ? (e as Envelope) : undefined;
    case 'connect':
      return isId(e.session) && (e.target === undefined || isId(e.target)) ? (e as Envelope) : undefined;
    case 'offer':
    case 'confirm':
    case 'decline':
      return isId(e.to) && isId(e.session) ? (e as Envelope) : undefined;
    case 'bye':
      return isId(e.to) && isId(e.session) && (e.error === undefined || typeof e.error === 'string') ? (e as Envelope) : undefined;
    case 'frames':
      return isId(e.to) && isId(e.session) && Array.isArray(e.frames) ? (e as Envelope) : undefined;
    default:
      return undefined;
  }
}

export function randomId(): string {
  const bytes = new Uint8Array(12);
  crypto.getRandomValues(bytes);
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
}

/** The BroadcastChannel surface used here (the global one in browsers, workers, Node, Deno, Bun). */
export interface BroadcastChannelLike {
  postMessage(message: unknown): void;
  addEventListener(type: 'message', listener: (event: MessageEvent) => void): void;
  removeEventListener(type: 'message', listener: (event: MessageEvent) => void): void;
  close(): void;
}

export type BroadcastChannelConstructor = new (name: string) => BroadcastChannelLike;

export function defaultBroadcastChannel(): BroadcastChannelConstructor {
  const ctor = (globalThis as { BroadcastChannel?: unknown }).BroadcastChannel;
  if (typeof ctor !== 'function') throw new TypeError('this runtime has no BroadcastChannel; pass options.BroadcastChannel');
  return ctor as BroadcastChannelConstructor;
}
