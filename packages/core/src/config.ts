// @ts-self-types="./config.d.ts"

/**
 * Every limit and default of a session, in one place, validated once at the
 * door (`resolveOptions`). Limits a peer could abuse are announced in the
 * handshake; each side enforces its own on input and respects the peer's on
 * output, so `send()` fails with `LimitExceededError` before sending anything.
 */
import { LimitExceededError } from './errors.js';

export interface SessionOptions {
  /** Encoded size of one message, inline binary included. Default 16 MiB. */
  maxMessageBytes?: number;
  /** Open sub-streams of all kinds, per direction. Default 4096. */
  maxChannels?: number;
  /** Depth of a value's object graph. Default 64. */
  maxNestingDepth?: number;
  /** Per-stream credit in bytes. Default 1 MiB (256 KiB held a single WebSocket stream to ~40 % of the link). */
  initialWindowBytes?: number;
  /** Session-wide credit in bytes: the bound on everything a peer may have buffered here. Default 16 MiB. */
  sessionWindowBytes?: number;
  /** Interval of keep-alive pings; a peer silent for 2× this is gone. 0 disables. Default 15 s. */
  keepAliveMs?: number;
  /** Time for the peer's handshake to arrive. Default 10 s. */
  handshakeTimeoutMs?: number;
  /** Top-level channels the peer opened that nobody accepted yet. Default 256. */
  maxPendingAccepts?: number;
  /** Streams the peer opened whose naming message has not arrived (or been claimed) yet. Default 1024. */
  maxUnclaimedStreams?: number;
  /** Any superjson value sent in the handshake, e.g. an auth token. */
  hello?: unknown;
  /** How many ended streams `snapshot()` remembers (for inspectors; costs a little per stream). Default 0. */
  inspectorHistory?: number;
}

export interface ResolvedOptions {
  readonly maxMessageBytes: number;
  readonly maxChannels: number;
  readonly maxNestingDepth: number;
  readonly initialWindowBytes: number;
  readonly sessionWindowBytes: number;
  readonly keepAliveMs: number;
  readonly handshakeTimeoutMs: number;
  readonly maxPendingAccepts: number;
  readonly maxUnclaimedStreams: number;
  readonly inspectorHistory: number;
  readonly hello: unknown;
}

export const defaults: Omit<ResolvedOptions, 'hello'> = {
  maxMessageBytes: 16 * 1024 * 1024,
  maxChannels: 4096,
  maxNestingDepth: 64,
  initialWindowBytes: 1024 * 1024,
  sessionWindowBytes: 16 * 1024 * 1024,
  keepAliveMs: 15_000,
  handshakeTimeoutMs: 10_000,
  maxPendingAccepts: 256,
  maxUnclaimedStreams: 1024,
  inspectorHistory: 0,
};

/** Defaults of the listeners every transport offers (listenWebSocket, listenSocket, listenBroadcast, listenWebTransport). */
export const listenerDefaults = {
  /** How long a listener's `close()` lets open channels finish before aborting their sessions. */
  closeTimeoutMs: 5000,
} as const;

/** Largest payload of one MESSAGE frame; bigger messages are split and interleaved. */
export const MAX_FRAME_PAYLOAD = 16 * 1024;

/**
 * Largest payload of one BYTES frame: byte chunks are split at this size. Bigger than a
 * MESSAGE fragment because a byte stream's cost is per frame (header, scheduling, one
 * delivery to the reading ReadableStream each), while a frame of another stream waits
 * behind at most one of these per turn of the round robin.
 */
export const MAX_BYTES_FRAME_PAYLOAD = 64 * 1024;

/**
 * Payloads from this size go to a link that joins frames into batches as a header and the
 * payload (FrameLink.sendSplit), copied once there; smaller ones are copied into a frame
 * (cheaper than the bookkeeping).
 */
export const MIN_SPLIT_PAYLOAD = 4 * 1024;

/**
 * A byte stream whose reader keeps up has its window doubled, up to this share of the
 * session window (4 MiB with the defaults): one window per round trip is what limits a
 * byte stream on a fast link, and a stalled stream still holds at most its window.
 */
export const MAX_STREAM_WINDOW_SHARE = 1 / 4;

/**
 * Consumed bytes go back to the peer as credit in bulk, not one CREDIT frame per message:
 * a stream's at half its window, all of them once this share of the session window
 * waits, and whatever is left after CREDIT_DELAY_MS.
 */
export const CREDIT_FLUSH_SHARE = 1 / 4;
export const CREDIT_DELAY_MS = 5;

/** Hard ceilings a session refuses to be configured above (and refuses from a peer's handshake). */
export const ceilings = {
  maxMessageBytes: 1024 * 1024 * 1024,
  maxChannels: 1 << 20,
  maxNestingDepth: 1000,
  initialWindowBytes: 1024 * 1024 * 1024,
  sessionWindowBytes: 4 * 1024 * 1024 * 1024,
  keepAliveMs: 24 * 60 * 60 * 1000,
  handshakeTimeoutMs: 24 * 60 * 60 * 1000,
  maxPendingAccepts: 1 << 20,
  maxUnclaimedStreams: 1 << 20,
  inspectorHistory: 10_000,
} as const;

/** Depth of an Error's `cause` chain that crosses the wire. */
export const MAX_ERROR_CAUSE_DEPTH = 4;
/** Length of a reset reason's message that crosses the wire. */
export const MAX_REASON_CHARS = 4096;

/**
 * A codec (one per session) remembers this many distinct references-only metas from its
 * peer, each at most SIMPLE_META_MAX_CHARS long: what a peer can make it keep.
 */
export const SIMPLE_META_CACHE = 64;
export const SIMPLE_META_MAX_CHARS = 512;
/**
 * The encoder remembers the meta of this many one-reference messages ({ ...request, ret })
 * per reference kind, for keys of at most ONE_KEY_META_MAX_KEY_CHARS characters.
 */
export const ONE_KEY_META_CACHE = 64;
export const ONE_KEY_META_MAX_KEY_CHARS = 64;

/**
 * Channel ends are watched for the garbage collector (channel/ends.ts) once they have
 * been open this long: most end sooner (a Ret is answered, a sent end is taken over by
 * the session) and never cost the FinalizationRegistry anything. Until then a list holds
 * them; past MAX_WAITING_WATCHES in it they are registered at once.
 */
export const WATCH_DELAY_MS = 20;
export const MAX_WAITING_WATCHES = 1024;

/**
 * Links over a byte stream or a WebSocket pause data frames when this much is waiting to
 * be written (the writable's queue, a WebSocket's bufferedAmount); the WebSocket and Node
 * stream links resume below LINK_LOW_WATER_BYTES (the web-streams link when its writer is
 * ready): memory stays bounded when the network is slower than the producer.
 */
export const LINK_HIGH_WATER_BYTES = 1024 * 1024;
export const LINK_LOW_WATER_BYTES = 256 * 1024;

/**
 * Batches of REUSED_BATCH_MIN_BYTES and more are joined into reused buffers of
 * REUSED_BATCH_BYTES where the socket says when it is done with one (`ws`'s send callback,
 * a Node stream's write callback); at most REUSED_BATCHES_KEPT wait, process-wide. A
 * fresh buffer per big batch is memory only a GC gives back, and in a busy process each
 * one brings the next major GC closer (docs/BENCHMARKS.md, 2026-11-26 fifth pass). The
 * minimum is half a buffer, so a batch waiting on a slow socket holds at most twice its
 * size.
 */
export const REUSED_BATCH_MIN_BYTES = 512 * 1024;
export const REUSED_BATCH_BYTES = 1024 * 1024;
export const REUSED_BATCHES_KEPT = 4;

const minimums: Record<keyof typeof ceilings, number> = {
  maxMessageBytes: 1024,
  maxChannels: 1,
  maxNestingDepth: 2,
  initialWindowBytes: 1024,
  sessionWindowBytes: 16 * 1024,
  keepAliveMs: 0,
  handshakeTimeoutMs: 1,
  maxPendingAccepts: 1,
  maxUnclaimedStreams: 1,
  inspectorHistory: 0,
};

export function resolveOptions(options: SessionOptions = {}): ResolvedOptions {
  const out: Record<string, unknown> = { ...defaults, hello: options.hello };
  for (const key of Object.keys(ceilings) as (keyof typeof ceilings)[]) {
    const value = options[key];
    if (value === undefined) continue;
    if (typeof value !== 'number' || !Number.isInteger(value) || value < minimums[key] || value > ceilings[key]) {
      throw new RangeError(`${key} must be an integer from ${minimums[key]} to ${ceilings[key]}, got ${String(value)}`);
    }
    out[key] = value;
  }
  const resolved = out as unknown as ResolvedOptions;
  if (resolved.sessionWindowBytes < resolved.initialWindowBytes) {
    throw new RangeError('sessionWindowBytes must be at least initialWindowBytes');
  }
  return resolved;
}

export function limitError(limit: string, message: string): LimitExceededError {
  return new LimitExceededError(message, { limit });
}
