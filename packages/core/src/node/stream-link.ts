// @ts-self-types="./stream-link.d.ts"

/**
 * A frame link over Node streams (a `net.Socket`, a child's stdio, any
 * Readable/Writable pair): length-delimited frames as on every byte link
 * (docs/PROTOCOL.md). Data frames pause while more than LINK_HIGH_WATER_BYTES
 * wait to be written and resume below LINK_LOW_WATER_BYTES, so the stream
 * always has the next batch queued while the kernel takes the last one (its
 * own highWaterMark, 16 KiB for a socket, would allow one batch at a time).
 */
import type { Readable, Writable } from 'node:stream';
import { LINK_HIGH_WATER_BYTES, LINK_LOW_WATER_BYTES, REUSED_BATCH_BYTES } from '../config.js';
import { batchBuffer, FrameBatch, isReusedBatch, releaseBatch, type BatchedFrame } from '../link/batch.js';
import { afterTick } from '../schedule.js';
import { FrameSplitter, joinFrames } from '../link/stream.js';
import { ProtocolError } from '../errors.js';
import type { FrameLink, LinkSink } from '../session/link.js';

export class NodeStreamLink implements FrameLink {
  private sink: LinkSink | undefined;
  private readonly splitter = new FrameSplitter();
  /** A batch fits one reused buffer: bigger ones would be fresh memory again. */
  private readonly batch = new FrameBatch<BatchedFrame>((frames) => this.write(frames), afterTick, REUSED_BATCH_BYTES);
  private closed = false;
  /** Data frames are paused until what waits to be written falls below LINK_LOW_WATER_BYTES. */
  private paused = false;
  /** A write finished: resume paused data frames once little is left to write. */
  private readonly written = (): void => {
    if (this.paused && this.output.writableLength <= LINK_LOW_WATER_BYTES && !this.closed) {
      this.paused = false;
      this.sink?.drain();
    }
  };

  constructor(
    private readonly input: Readable,
    private readonly output: Writable,
    private readonly onClose: (error: unknown) => void = () => {},
  ) {}

  start(sink: LinkSink): void {
    this.sink = sink;
    this.input.on('data', (chunk: Uint8Array | string) => {
      if (this.closed) return;
      if (typeof chunk === 'string') {
        this.end(new ProtocolError('text arrived on a byte link', { code: 'BAD_FRAME' }));
        return;
      }
      let frames: Uint8Array[];
      try {
        frames = this.splitter.push(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength));
      } catch (error) {
        this.end(error);
        return;
      }
      for (const frame of frames) {
        if (this.closed) return;
        sink.frame(frame);
      }
    });
    this.input.on('end', () => {
      this.end(this.splitter.idle ? undefined : new ProtocolError('the stream ended inside a frame', { code: 'BAD_FRAME' }));
    });
    this.input.on('error', (error) => this.end(error));
    this.output.on('error', (error) => this.end(error));
    this.output.on('close', () => this.end(new Error('the stream closed')));
  }

  send(frame: Uint8Array): boolean {
    return this.push(frame);
  }

  sendSplit(head: Uint8Array, body: Uint8Array): boolean {
    return this.push({ head, body });
  }

  private push(frame: BatchedFrame): boolean {
    if (this.closed) return true;
    this.batch.push(frame);
    if (this.output.writableLength + this.batch.bytes > LINK_HIGH_WATER_BYTES) this.paused = true;
    return !this.paused;
  }

  private write(frames: BatchedFrame[]): void {
    if (this.closed) return;
    // The stream only reads the batch: a slab view for a small one (see joinFrames), a
    // reused buffer for a big one, free again once the stream has written it.
    const batch = joinFrames(frames, batchBuffer);
    if (isReusedBatch(batch))
      this.output.write(batch, () => {
        releaseBatch(batch);
        this.written();
      });
    else this.output.write(batch, this.written);
  }

  flush(): void {
    if (!this.closed) this.batch.flush();
  }

  close(error?: unknown): void {
    if (this.closed) return;
    this.batch.flush();
    this.closed = true;
    if (error === undefined) this.output.end();
    else this.output.destroy();
    this.onClose(error);
  }

  private end(error: unknown): void {
    if (this.closed) return;
    this.closed = true;
    this.output.destroy();
    this.onClose(error);
    this.sink?.end(error);
  }
}
