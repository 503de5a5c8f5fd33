// @ts-self-types="./stream-link.d.ts"

/**
 * A frame link over Node streams (a `net.Socket`, a child's stdio, any
 * Readable/Writable pair): length-delimited frames as on every byte link
 * (docs/PROTOCOL.md), written with the stream's own backpressure
 * (`write()` → false pauses data frames until 'drain').
 */
import type { Readable, Writable } from 'node:stream';
import { batchBuffer, FrameBatch, isReusedBatch, releaseBatch, type BatchedFrame } from '../link/batch.js';
import { afterTick } from '../schedule.js';
import { FrameSplitter, joinFrames } from '../link/stream.js';
import { ProtocolError } from '../errors.js';
import type { FrameLink, LinkSink } from '../session/link.js';

export class NodeStreamLink implements FrameLink {
  private sink: LinkSink | undefined;
  private readonly splitter = new FrameSplitter();
  private readonly batch = new FrameBatch<BatchedFrame>((frames) => this.write(frames), afterTick);
  private closed = false;
  private waitingDrain = false;

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
    if (!this.closed) this.batch.push(frame);
    return !this.waitingDrain;
  }

  sendSplit(head: Uint8Array, body: Uint8Array): boolean {
    if (!this.closed) this.batch.push({ head, body });
    return !this.waitingDrain;
  }

  private write(frames: BatchedFrame[]): void {
    if (this.closed) return;
    // The stream only reads the batch: a slab view for a small one (see joinFrames), a
    // reused buffer for a big one, free again once the stream has written it.
    const batch = joinFrames(frames, batchBuffer);
    const more = isReusedBatch(batch) ? this.output.write(batch, () => releaseBatch(batch)) : this.output.write(batch);
    if (!more && !this.waitingDrain) {
      this.waitingDrain = true;
      this.output.once('drain', () => {
        this.waitingDrain = false;
        if (!this.closed) this.sink?.drain();
      });
    }
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
