// @ts-self-types="./batch.d.ts"

/**
 * Frames written in one tick, sent together: every message-based link
 * (MessagePort, WebSocket, BroadcastChannel, byte streams) batches this way,
 * so many small messages cost one postMessage / WebSocket message / write.
 */
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

  /**
   * @param deliver receives each non-empty batch, oldest frame first
   * @param schedule when a batch goes out (default: the next microtask)
   */
  constructor(
    private readonly deliver: (frames: F[]) => void,
    private readonly schedule: (callback: () => void) => void = microtask,
  ) {}

  push(frame: F): void {
    this.frames.push(frame);
    this.bytes += frameLength(frame);
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
