// @ts-self-types="./stream.d.ts"

/**
 * A frame link over any ordered byte stream (TCP or Unix socket, a child's
 * stdio, Deno/Bun sockets): each frame is prefixed by its length as a varint.
 * The splitter is a small state machine that takes chunks split or joined at
 * any boundary and refuses an oversized length before allocating anything.
 */
import { varintSize, writeVarint } from '../codec/bytes.js';
import { LINK_HIGH_WATER_BYTES, type SessionOptions } from '../config.js';
import { ProtocolError } from '../errors.js';
import type { FrameLink, LinkSink } from '../session/link.js';
import { Session } from '../session/session.js';
import { FrameBatch, frameLength, type BatchedFrame } from './batch.js';
import { afterTick, microtask } from '../schedule.js';

/** The largest frame a byte link carries (data frames are ≤ 64 KiB; HELLO carries the user's `hello`). */
export const MAX_STREAM_FRAME = 1024 * 1024;


export class FrameSplitter {
  private frame: Uint8Array | null = null;
  private filled = 0;
  /** The length varint read so far (it may span chunks). */
  private length = 0;
  private lengthBytes = 0;
  private readonly maxLengthBytes: number;

  constructor(private readonly maxFrame = MAX_STREAM_FRAME) {
    this.maxLengthBytes = varintSize(maxFrame);
  }

  /** Feeds a chunk; returns the frames it completes, in order. Throws `ProtocolError` on bad lengths. */
  push(chunk: Uint8Array): Uint8Array[] {
    const out: Uint8Array[] = [];
    let o = 0;
    while (o < chunk.byteLength) {
      if (this.frame !== null) {
        const n = Math.min(this.frame.byteLength - this.filled, chunk.byteLength - o);
        this.frame.set(chunk.subarray(o, o + n), this.filled);
        this.filled += n;
        o += n;
        if (this.filled === this.frame.byteLength) {
          out.push(this.frame);
          this.frame = null;
        }
        continue;
      }
      // Reading the length varint (LEB128), possibly across chunks.
      const byte = chunk[o++] as number;
      this.length += (byte & 0x7f) * 2 ** (7 * this.lengthBytes);
      this.lengthBytes++;
      if (byte & 0x80) {
        if (this.lengthBytes >= this.maxLengthBytes) throw tooLong(this.maxFrame);
        continue;
      }
      const length = this.length;
      this.length = 0;
      this.lengthBytes = 0;
      if (length === 0) throw new ProtocolError('empty frame on a byte link', { code: 'BAD_FRAME' });
      if (length > this.maxFrame) throw tooLong(this.maxFrame);
      if (chunk.byteLength - o >= length) {
        // Whole frame inside this chunk: a view, no copy (the chunk is ours).
        out.push(chunk.subarray(o, o + length));
        o += length;
      } else {
        this.frame = new Uint8Array(length);
        this.filled = 0;
      }
    }
    return out;
  }

  /** True between frames (a clean place for the stream to end). */
  get idle(): boolean {
    return this.frame === null && this.lengthBytes === 0;
  }
}

function tooLong(max: number): ProtocolError {
  return new ProtocolError(`frame longer than ${max} bytes on a byte link`, { code: 'BAD_FRAME' });
}

/**
 * Splits one self-contained batch (a WebSocket or BroadcastChannel message
 * holding length-prefixed frames) into its frames, without copying. Not a
 * FrameSplitter: a batch is whole, so a frame cut off at its end is an error at
 * once, where the splitter would allocate room for the rest (up to 1 MiB) and wait.
 */
export function splitBatch(batch: Uint8Array, maxFrame = MAX_STREAM_FRAME): Uint8Array[] {
  const frames: Uint8Array[] = [];
  const maxLengthBytes = varintSize(maxFrame);
  let o = 0;
  while (o < batch.byteLength) {
    let length = 0;
    for (let i = 0; ; i++) {
      if (i >= maxLengthBytes) throw tooLong(maxFrame);
      if (o >= batch.byteLength) throw new ProtocolError('a batch ends inside a frame', { code: 'BAD_FRAME' });
      const byte = batch[o++] as number;
      length += (byte & 0x7f) * 2 ** (7 * i);
      if (byte < 0x80) break;
    }
    if (length === 0) throw new ProtocolError('empty frame on a byte link', { code: 'BAD_FRAME' });
    if (length > maxFrame) throw tooLong(maxFrame);
    if (length > batch.byteLength - o) throw new ProtocolError('a batch ends inside a frame', { code: 'BAD_FRAME' });
    frames.push(batch.subarray(o, o + length));
    o += length;
  }
  return frames;
}

const newBytes = (size: number): Uint8Array => new Uint8Array(size);

/** Frames up to this size are copied byte by byte when a batch is joined. */
const SMALL_COPY_BYTES = 48;

/**
 * Prefixes each frame with its length and joins a batch into one chunk (split frames
 * are joined here). `alloc` gives the chunk's buffer: a link whose sink only reads it
 * may pass `allocBytes`, whose small buffers are views of a shared slab (a small typed
 * array of its own lives in the JS heap, and the `buffer` a socket asks for is then
 * made and copied out).
 */
export function joinFrames(frames: readonly BatchedFrame[], alloc: (size: number) => Uint8Array = newBytes): Uint8Array {
  let size = 0;
  for (const f of frames) {
    const n = frameLength(f);
    size += varintSize(n) + n;
  }
  const out = alloc(size);
  let o = 0;
  for (const f of frames) {
    o = writeVarint(out, o, frameLength(f));
    if (f instanceof Uint8Array) {
      const n = f.byteLength;
      // TypedArray#set costs more than a loop for the few bytes of a control frame or small message.
      if (n <= SMALL_COPY_BYTES) for (let i = 0; i < n; i++) out[o + i] = f[i] as number;
      else out.set(f, o);
      o += n;
    } else {
      out.set(f.head, o);
      out.set(f.body, o + f.head.byteLength);
      o += f.head.byteLength + f.body.byteLength;
    }
  }
  return out;
}

export interface ByteStreamPair {
  readable: ReadableStream<Uint8Array>;
  writable: WritableStream<Uint8Array>;
}

class ByteStreamLink implements FrameLink {
  private sink: LinkSink | undefined;
  private readonly reader: ReadableStreamDefaultReader<Uint8Array>;
  private readonly writer: WritableStreamDefaultWriter<Uint8Array>;
  private readonly splitter = new FrameSplitter();
  private readonly batch = new FrameBatch<BatchedFrame>((frames) => this.write(frames), afterTick);
  private closed = false;
  private waitingDrain = false;

  constructor(pair: ByteStreamPair) {
    this.reader = pair.readable.getReader();
    this.writer = pair.writable.getWriter();
  }

  start(sink: LinkSink): void {
    this.sink = sink;
    void this.readLoop();
  }

  private async readLoop(): Promise<void> {
    const sink = this.sink as LinkSink;
    try {
      for (;;) {
        const { done, value } = await this.reader.read();
        if (done) {
          if (!this.splitter.idle) throw new ProtocolError('the byte stream ended inside a frame', { code: 'BAD_FRAME' });
          this.end(undefined);
          return;
        }
        if (this.closed) return;
        if (!(value instanceof Uint8Array)) throw new TypeError('byte links carry Uint8Array chunks');
        for (const frame of this.splitter.push(value)) {
          if (this.closed) return;
          sink.frame(frame);
        }
      }
    } catch (error) {
      this.end(error);
    }
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
    if (this.batch.bytes + Math.max(0, -(this.writer.desiredSize ?? 0)) > LINK_HIGH_WATER_BYTES) {
      this.watchDrain();
      return false;
    }
    return true;
  }

  private write(frames: BatchedFrame[]): void {
    if (this.closed) return;
    this.writer.write(joinFrames(frames)).catch((error: unknown) => this.end(error));
  }

  private watchDrain(): void {
    if (this.waitingDrain) return;
    this.waitingDrain = true;
    microtask(() => {
      this.writer.ready.then(
        () => {
          this.waitingDrain = false;
          if (!this.closed) this.sink?.drain();
        },
        () => {},
      );
    });
  }

  flush(): void {
    if (!this.closed) this.batch.flush();
  }

  close(error?: unknown): void {
    if (this.closed) return;
    this.batch.flush();
    this.closed = true;
    if (error === undefined) this.writer.close().catch(() => {});
    else this.writer.abort(error).catch(() => {});
    this.reader.cancel().catch(() => {});
  }

  private end(error: unknown): void {
    if (this.closed) return;
    this.closed = true;
    this.writer.abort(error).catch(() => {});
    this.reader.cancel().catch(() => {});
    this.sink?.end(error);
  }
}

/**
 * A session over any ordered byte stream, with length-delimited frames:
 * a TCP or Unix socket, a child process's stdio, Deno/Bun sockets.
 */
export function connectStream(stream: ByteStreamPair, options?: SessionOptions): Session {
  return new Session(new ByteStreamLink(stream), options);
}
