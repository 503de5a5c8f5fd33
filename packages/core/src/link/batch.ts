// @ts-self-types="./batch.d.ts"

/**
 * Frames written in one tick, sent together: every message-based link
 * (MessagePort, WebSocket, BroadcastChannel, byte streams) batches this way,
 * so many small messages cost one postMessage / WebSocket message / write.
 */
import { allocBytes, varintSize } from '../codec/bytes.js';
import { REUSED_BATCH_BYTES, REUSED_BATCH_MIN_BYTES, REUSED_BATCHES_KEPT } from '../config.js';
import { microtask } from '../schedule.js';

/** A frame as its header and the payload after it (FrameLink.sendSplit), joined when the batch is. */
export interface SplitFrame {
  readonly head: Uint8Array;
  readonly body: Uint8Array;
}
export type BatchedFrame = Uint8Array | SplitFrame;

/** The length of a frame, whole or split. */
export function frameLength(frame: BatchedFrame): number {
  return frame instanceof Uint8Array ? frame.byteLength : frame.head.byteLength + frame.body.byteLength;
}

export class FrameBatch<F extends BatchedFrame = Uint8Array> {
  private frames: F[] = [];
  private scheduled = false;
  /** Bytes waiting in the current batch. */
  bytes = 0;

  /** Frames waiting in the current batch. */
  get length(): number {
    return this.frames.length;
  }

  /** A length prefix takes at most this many bytes (a varint of `maxBytes`). */
  private readonly maxPrefixBytes: number;

  /**
   * @param deliver receives each non-empty batch, oldest frame first
   * @param schedule when a batch goes out (default: the next microtask)
   * @param maxBytes a batch joined with its length prefixes stays within this: a frame that
   *   would take it over goes out first what is waiting (default: no limit)
   */
  constructor(
    private readonly deliver: (frames: F[]) => void,
    private readonly schedule: (callback: () => void) => void = microtask,
    private readonly maxBytes = Infinity,
  ) {
    this.maxPrefixBytes = Number.isFinite(maxBytes) ? varintSize(maxBytes) : 0;
  }

  push(frame: F): void {
    const size = frameLength(frame);
    if (this.bytes + (this.frames.length + 1) * this.maxPrefixBytes + size > this.maxBytes) this.flush();
    this.frames.push(frame);
    this.bytes += size;
    if (!this.scheduled) {
      this.scheduled = true;
      this.schedule(() => this.flush());
    }
  }

  /** Sends what is waiting now (also called before a link closes). */
  flush(): void {
    this.scheduled = false;
    if (this.frames.length === 0) return;
    const frames = this.frames;
    this.frames = [];
    this.bytes = 0;
    this.deliver(frames);
  }

  /** Drops what is waiting (the link is gone). */
  clear(): void {
    this.frames = [];
    this.bytes = 0;
  }
}

/** Buffers of REUSED_BATCH_BYTES waiting for the next big batch, and every one made (they alone go back). */
const reusable: ArrayBuffer[] = [];
const reusableBuffers = new WeakSet<ArrayBuffer>();

/**
 * A buffer for a batch of `size` bytes that is handed back with `releaseBatch` once the
 * socket is done with it: a view of a reused buffer for a big batch, else `allocBytes`.
 * Pass it as joinFrames's `alloc` where the socket reports when it has written a batch.
 */
export function batchBuffer(size: number): Uint8Array {
  if (size < REUSED_BATCH_MIN_BYTES || size > REUSED_BATCH_BYTES) return allocBytes(size);
  let buffer = reusable.pop();
  if (buffer === undefined) {
    buffer = new ArrayBuffer(REUSED_BATCH_BYTES);
    reusableBuffers.add(buffer);
  }
  return new Uint8Array(buffer, 0, size);
}

/** True when `batch` lives in a reused buffer: the socket must call `releaseBatch` when done with it. */
export function isReusedBatch(batch: Uint8Array): boolean {
  return batch.byteLength >= REUSED_BATCH_MIN_BYTES && reusableBuffers.has(batch.buffer as ArrayBuffer);
}

/** The socket is done with `batch` (written out or dropped): its buffer may carry the next one. */
export function releaseBatch(batch: Uint8Array): void {
  const buffer = batch.buffer as ArrayBuffer;
  if (!reusableBuffers.has(buffer) || reusable.length >= REUSED_BATCHES_KEPT || reusable.includes(buffer)) return;
  reusable.push(buffer);
}
