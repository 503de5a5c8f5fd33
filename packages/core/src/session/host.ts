// @ts-self-types="./host.d.ts"

/**
 * What a sub-stream needs from its session. Streams talk to the session only
 * through this, so stream logic can be read (and tested) on its own.
 */
import type { Codec } from '../codec/codec.js';
import type { ResolvedOptions } from '../config.js';
import type { AnnouncedLimits, StreamKind } from './frames.js';

/** A stream named by a message: announced right before it, reset if the message is dropped. */
export interface Child {
  readonly id: number;
  readonly kind: StreamKind;
  /** This side sends on it. */
  readonly sendsHere: boolean;
  announced: boolean;
  /** A terminal frame (RESET/STOP) for a stream that ended before its OPEN went out: written right after the OPEN. */
  endFrame: Uint8Array | undefined;
  /** Its naming message was dropped: reset it with `UNCLAIMED`. */
  drop(reason: unknown): void;
}

export interface PreparedMessage {
  bytes: Uint8Array;
  offset: number;
  size: number;
  children: Child[] | undefined;
}

export interface StreamHost {
  readonly codec: Codec;
  readonly options: ResolvedOptions;
  readonly peerLimits: AnnouncedLimits;
  /** Session-level credit left to send with. */
  sendCredit: number;
  /** Encodes a value for stream `parent`, detaching the channels and streams in it. */
  prepareMessage(value: unknown, parent: number): PreparedMessage;
  /** Writes a control frame now (not subject to link backpressure), on `lane` (default: the control lane). */
  writeControl(frame: Uint8Array, lane?: number): void;
  /** Writes a data frame of stream `lane` (called by the scheduler only). */
  writeData(frame: Uint8Array, lane: number): void;
  /**
   * Writes a MESSAGE/BYTES frame of stream `lane` whose payload has no room for a header
   * before it (called by the scheduler only); returns the frame's length.
   */
  writeDataCopying(type: number, lane: number, payload: Uint8Array, flags?: number, total?: number): number;
  /** Tells a stream link a sub-stream's lane ended. */
  endLane(lane: number, how: 'close' | 'reset' | 'stop'): void;
  /** Writes OPEN for a child stream of `parent`. */
  announce(child: Child, parent: number): void;
  /** The stream has data to write. */
  schedule(stream: import('./out-stream.js').OutStream): void;
  /** Session credit taken by data that will never be sent (a reset dropped it) comes back. */
  restoreCredit(bytes: number): void;
  /** The stream waits for credit (stream or session). */
  blockedOnCredit(stream: import('./out-stream.js').OutStream): void;
  /**
   * Returns consumed bytes to the peer: to stream `id` and the session (id 0: session only).
   * `urgent`: the peer's sender may be waiting for it, so it goes out now instead of with the link's batch.
   */
  returnCredit(id: number, bytes: number, urgent?: boolean): void;
  /**
   * Gives stream `id` `bytes` more credit than it was opened with (WINDOW: the stream's,
   * not the session's), sent at once. False when the peer does not understand it: the window stays.
   */
  growWindow(id: number, bytes: number): boolean;
  /** Encodes a reset reason (an Error, usually) for RESET/STOP/GOAWAY. */
  encodeReason(reason: unknown): Uint8Array;
  /** The stream reached its end on this side. */
  streamDone(stream: import('./out-stream.js').OutStream | import('./in-stream.js').InStream): void;
  /** A terminal frame was sent or received: it no longer counts against the opener's channel limit. */
  uncount(stream: import('./out-stream.js').OutStream | import('./in-stream.js').InStream): void;
}

/** One sub-stream as the inspector sees it. */
export interface StreamSnapshot {
  id: number;
  /** The stream whose message named this one; 0 for a top-level channel. */
  parent: number;
  kind: 'channel' | 'bytes';
  /** Whether this side sends or receives on it. */
  direction: 'send' | 'receive';
  openedBy: 'local' | 'peer';
  /** `draining`: the peer closed, values that arrived are still being taken. */
  state: 'open' | 'closing' | 'draining' | 'ended';
  /** Messages sent or received (0 for byte streams). */
  messages: number;
  /** Bytes written or received on the wire. */
  bytes: number;
  /** The per-stream window in bytes. */
  window: number;
  /** Send side: credit left (may be negative after a large message). */
  credit?: number;
  /** Bytes waiting: for credit (send side) or to be taken by the receiver (receive side). */
  buffered: number;
}

/** A picture of a session for inspectors and dashboards. */
export interface SessionSnapshot {
  state: 'handshake' | 'open' | 'closing' | 'closed' | 'failed';
  /** What the peer sent in its handshake. */
  peerHello: unknown;
  streams: StreamSnapshot[];
  /** The last streams that ended, oldest first, as they were at their end (kept only with the `inspectorHistory` option). */
  ended: StreamSnapshot[];
  /** Session-level credit left to send with, and the peer's session window. */
  sendCredit: number;
  sessionWindow: number;
  framesIn: number;
  framesOut: number;
  bytesIn: number;
  bytesOut: number;
}
