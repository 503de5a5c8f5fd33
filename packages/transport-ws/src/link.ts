// @ts-self-types="./link.d.ts"

/**
 * A frame link over one WebSocket of any kind: the browser's, Deno's, Bun's,
 * a Cloudflare Worker's, or `ws` in Node. Frames written in one tick are
 * coalesced into one binary message (each prefixed by its varint length);
 * the socket's `bufferedAmount` pauses data frames so memory stays bounded
 * when the network is slower than the producer.
 */
import { afterTick, allocBytes, batchBuffer, FrameBatch, isReusedBatch, joinFrames, LINK_HIGH_WATER_BYTES, LINK_LOW_WATER_BYTES, MAX_STREAM_FRAME, ProtocolError, reasonText, releaseBatch, splitBatch, type BatchedFrame, type FrameLink, type LinkSink } from '@libchan/core';

/** The part of the WHATWG WebSocket interface the link uses (`ws` implements it too). */
export interface WebSocketLike {
  readonly readyState: number;
  binaryType: string;
  readonly bufferedAmount: number;
  send(data: Uint8Array): void;
  close(code?: number, reason?: string): void;
  addEventListener(type: 'message', listener: (event: { data: unknown }) => void): void;
  addEventListener(type: 'close', listener: (event: { code: number; reason: string }) => void): void;
  addEventListener(type: 'error', listener: (event: unknown) => void): void;
}

/** The socket closed under a session; `closeCode`/`reason` are the WebSocket's. */
export class WebSocketCloseError extends Error {
  override readonly name = 'WebSocketCloseError';
  readonly code = 'WEBSOCKET_CLOSED';
  constructor(
    readonly closeCode: number,
    readonly reason: string,
  ) {
    super(`WebSocket closed with ${closeCode}${reason ? `: ${reason}` : ''}`);
  }
}

/** WebSocket close codes this link uses. */
export const CloseCode = {
  Normal: 1000,
  ProtocolError: 1002,
  UnsupportedData: 1003,
  InternalError: 1011,
} as const;

const OPEN = 1;
/**
 * A batch, length prefixes included, is at most one frame's worth (what a listener's
 * maxPayload admits). Big batches matter for byte streams: each WebSocket message is
 * framed and, from a client, masked, and 1 MiB messages cost the client ~8% less per
 * byte than 256 KiB ones (docs/BENCHMARKS.md).
 */
const MAX_BATCH_BYTES = MAX_STREAM_FRAME;
/** Browsers have no drain event: poll `bufferedAmount` while paused. */
const DRAIN_POLL_MS = 4;

/** A WebSocket close reason is at most 123 bytes of UTF-8. */
const MAX_CLOSE_REASON_BYTES = 123;

/**
 * `ws` in Node: a message arrives as its data and whether it was binary, and `send` calls
 * back once the data is written out (or dropped), after which the batch may be reused.
 */
interface WsSocket {
  on(type: 'message', listener: (data: unknown, isBinary: boolean) => void): void;
  send(data: Uint8Array, callback: (error?: Error) => void): void;
}

/** The socket as a `ws` WebSocket (it has `on` and `terminate`), or undefined for any other kind. */
function asWs(socket: WebSocketLike): WsSocket | undefined {
  const s = socket as Partial<WsSocket> & { terminate?: unknown };
  return typeof s.on === 'function' && typeof s.terminate === 'function' ? (s as WsSocket) : undefined;
}

export class WebSocketLink implements FrameLink {
  private sink: LinkSink | undefined;
  /** Frames of one tick become one WebSocket message (a handler's several writes share it). */
  private readonly batch = new FrameBatch<BatchedFrame>((frames) => this.write(frames), afterTick, MAX_BATCH_BYTES);
  private closed = false;
  private pausedTimer: ReturnType<typeof setTimeout> | undefined;
  /** The socket as `ws`, whose send reports when a batch's buffer is free again. */
  private readonly ws: WsSocket | undefined;

  /** Messages that arrived before the session started (a server's HELLO can ride in with the upgrade). */
  private early: unknown[] | undefined = [];
  private earlyEnd: { error: unknown } | undefined;

  /** Listens at once, so nothing that arrives before `start` is lost. */
  constructor(private readonly socket: WebSocketLike) {
    if (socket.binaryType === 'blob') socket.binaryType = 'arraybuffer';
    const received = (data: unknown): void => {
      if (this.early) this.early.push(data);
      else this.onMessage(data);
    };
    this.ws = asWs(socket);
    // `ws` wraps every message in a MessageEvent for addEventListener: its own event is cheaper.
    if (this.ws) this.ws.on('message', (data, isBinary) => received(isBinary ? data : String(data)));
    else socket.addEventListener('message', (event) => received(event.data));
    socket.addEventListener('close', (event) => {
      if (this.closed) return;
      const error = event.code === CloseCode.Normal ? undefined : new WebSocketCloseError(event.code, event.reason);
      if (this.early) this.earlyEnd = { error };
      else this.end(error);
    });
    socket.addEventListener('error', () => {
      // 'close' follows 'error' with the code; nothing to do here.
    });
  }

  start(sink: LinkSink): void {
    this.sink = sink;
    const early = this.early ?? [];
    this.early = undefined;
    for (const data of early) this.onMessage(data);
    if (this.earlyEnd) this.end(this.earlyEnd.error);
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
    if (this.socket.bufferedAmount + this.batch.bytes > LINK_HIGH_WATER_BYTES) {
      this.waitForDrain();
      return false;
    }
    return true;
  }

  private write(frames: BatchedFrame[]): void {
    if (this.closed || this.socket.readyState !== OPEN) return;
    try {
      if (this.ws) {
        // `ws` holds the batch until it is written: a big one goes back to be reused then.
        const batch = joinFrames(frames, batchBuffer);
        if (isReusedBatch(batch)) this.ws.send(batch, () => releaseBatch(batch));
        else this.socket.send(batch);
      } else {
        // The socket only reads the batch (a browser copies it).
        this.socket.send(joinFrames(frames, allocBytes));
      }
    } catch (error) {
      this.end(error);
    }
  }

  private waitForDrain(): void {
    if (this.pausedTimer !== undefined) return;
    const poll = (): void => {
      if (this.closed) return;
      if (this.socket.bufferedAmount <= LINK_LOW_WATER_BYTES) {
        this.pausedTimer = undefined;
        this.sink?.drain();
        return;
      }
      this.pausedTimer = setTimeout(poll, DRAIN_POLL_MS);
    };
    this.pausedTimer = setTimeout(poll, DRAIN_POLL_MS);
  }

  private onMessage(data: unknown): void {
    if (this.closed || !this.sink) return;
    let bytes: Uint8Array;
    // A Node Buffer becomes a plain view: Buffer's slice() shares memory, and pooled buffers must not leak out.
    if (data instanceof Uint8Array) bytes = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
    else if (data instanceof ArrayBuffer) bytes = new Uint8Array(data);
    else {
      const error = new ProtocolError('a text (or non-binary) WebSocket message arrived', { code: 'BAD_FRAME' });
      this.fail(error, CloseCode.UnsupportedData);
      return;
    }
    let frames: Uint8Array[];
    try {
      frames = splitBatch(bytes);
    } catch (error) {
      this.fail(error, CloseCode.ProtocolError);
      return;
    }
    for (const frame of frames) {
      if (this.closed) return;
      this.sink.frame(frame);
    }
  }

  /** Bad input from the peer: the session learns why, the socket closes with a clear code. */
  private fail(error: unknown, code: number): void {
    const sink = this.sink;
    this.closed = true;
    clearTimeout(this.pausedTimer);
    try {
      this.socket.close(code, reasonText(error, MAX_CLOSE_REASON_BYTES));
    } catch {
      // already closing
    }
    sink?.end(error);
  }

  flush(): void {
    if (!this.closed) this.batch.flush();
  }

  close(error?: unknown): void {
    if (this.closed) return;
    this.batch.flush();
    this.closed = true;
    clearTimeout(this.pausedTimer);
    const code = error === undefined ? CloseCode.Normal : error instanceof ProtocolError || (error as { cause?: unknown })?.cause instanceof ProtocolError ? CloseCode.ProtocolError : CloseCode.InternalError;
    try {
      this.socket.close(code, error === undefined ? '' : reasonText(error, MAX_CLOSE_REASON_BYTES));
    } catch {
      // already closing
    }
  }

  private end(error: unknown): void {
    if (this.closed) return;
    this.closed = true;
    clearTimeout(this.pausedTimer);
    this.sink?.end(error);
  }
}
