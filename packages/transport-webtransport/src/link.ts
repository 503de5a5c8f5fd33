// @ts-self-types="./link.d.ts"

/**
 * A *stream link* over one WebTransport session (the W3C interface: the
 * browser's, Deno's, @fails-components'): every sub-stream of the libchan
 * session rides a native stream of its own, so a channel whose receiver
 * stalls never holds up the others.
 *
 * - Lane 0 (the session's control lane: HELLO, CREDIT, RESET, STOP, PING,
 *   GOAWAY, top-level OPENs) is one bidirectional stream that the client
 *   opens and the server takes as the first incoming bidirectional stream.
 *   Frames on it are length-prefixed (varint), as on byte links.
 * - Every other lane (a sub-stream this side sends on) is a unidirectional
 *   stream this side opens at the lane's first frame. It starts with the lane
 *   id (varint), then length-prefixed frames.
 * - `endLane(x, 'close')` and `endLane(x, 'reset')` close the writer after the
 *   queued frames (FIN); `'stop'` leaves the incoming lane x to be read to its
 *   end. The session already sent the reason on the control lane. No lane is
 *   reset natively (RESET_STREAM, STOP_SENDING): QUIC would drop bytes the
 *   sender counted against the session's credit, and the receiver, never
 *   seeing them, could never give that credit back. Every byte written
 *   arrives; the session drops what belongs to an ended stream and returns
 *   its credit, as on frame links.
 * - At most `maxLaneStreams` outgoing lanes hold a native stream at once;
 *   lanes beyond that ride the control stream (still in order per lane), so
 *   a peer's stream limit never deadlocks a session with many open channels.
 *
 * Writes on one native stream are chained (never two at once); memory is
 * bounded by the session's credit, so `send` never asks the session to
 * pause: one lane that QUIC flow control holds back must not stop the others.
 */
import { afterTick, encodeVarint, FrameSplitter, joinFrames, ProtocolError, reasonText, type FrameLink, type LinkSink } from '@libchan/core';

/** A bidirectional WebTransport stream. */
export interface WebTransportStreamPair {
  readonly readable: ReadableStream<Uint8Array>;
  readonly writable: WritableStream<Uint8Array>;
}

/** What the link needs of a WebTransport session (W3C `WebTransport`, Deno's, @fails-components' sessions). */
export interface WebTransportLike {
  readonly ready: Promise<unknown>;
  readonly closed: Promise<unknown>;
  close(info?: { closeCode?: number; reason?: string }): void;
  createBidirectionalStream(): Promise<WebTransportStreamPair>;
  createUnidirectionalStream(): Promise<WritableStream<Uint8Array>>;
  readonly incomingBidirectionalStreams: ReadableStream<WebTransportStreamPair>;
  readonly incomingUnidirectionalStreams: ReadableStream<ReadableStream<Uint8Array>>;
}

/** The WebTransport session closed under a libchan session; `closeCode`/`reason` are WebTransport's. */
export class WebTransportCloseError extends Error {
  override readonly name = 'WebTransportCloseError';
  readonly code = 'WEBTRANSPORT_CLOSED';
  constructor(
    readonly closeCode: number,
    readonly reason: string,
  ) {
    super(`WebTransport session closed with ${closeCode}${reason ? `: ${reason}` : ''}`);
  }
}

/** Application close codes this link uses in `WebTransport.close()`. */
export const WebTransportCode = {
  Normal: 0,
  /** The session failed (abort, keep-alive timeout, lost peer). */
  SessionError: 1,
  /** The peer broke the protocol. */
  ProtocolError: 2,
} as const;

export interface WebTransportLinkOptions {
  /** Outgoing lanes that get a native stream of their own at once; later ones ride the control stream. Default 64. */
  maxLaneStreams?: number;
  /** How long a graceful close waits for lanes to flush and the peer to finish, in ms. Default 2000. */
  lingerMs?: number;
  /** Largest write handed to one native stream at once (a larger frame spans writes). Default 32 KiB. */
  maxWriteBytes?: number;
}

/** A lane id is a stream id: an unsigned varint of at most 8 bytes (values below 2^53). */
const MAX_LANE_VARINT_BYTES = 8;
/** A reason in `WebTransport.close()` is at most 1024 bytes of UTF-8. */
const MAX_REASON_BYTES = 1024;

function isProtocolError(error: unknown): boolean {
  return error instanceof ProtocolError || (error as { cause?: unknown })?.cause instanceof ProtocolError;
}

const ignore = (): void => {};

/** One native stream this side writes: frames queue here and go out in chained writes. */
class OutLane {
  frames: Uint8Array[] = [];
  writer: WritableStreamDefaultWriter<Uint8Array> | undefined;
  /** The lane id prefix, written before the first frame (uni lanes only). */
  header: Uint8Array | undefined;
  writing = false;
  /** The lane ends (FIN) once its frames are written. */
  ending = false;
  finished = false;
  /** Resolves when the lane is finished (closed, reset or failed). */
  readonly done: Promise<void>;
  private resolveDone!: () => void;
  constructor(readonly lane: number) {
    this.done = new Promise<void>((resolve) => {
      this.resolveDone = resolve;
    });
  }
  finish(): void {
    if (this.finished) return;
    this.finished = true;
    this.frames = [];
    this.resolveDone();
  }
}

export class WebTransportLink implements FrameLink {
  readonly unordered = true;
  private sink: LinkSink | undefined;
  private closed = false;
  private readonly maxLaneStreams: number;
  private readonly lingerMs: number;
  private readonly maxWriteBytes: number;

  private readonly control = new OutLane(0);
  private controlReader: ReadableStreamDefaultReader<Uint8Array> | undefined;
  /** The peer finished its control stream (FIN). */
  private peerFinished = false;
  private peerFinishedSignal: (() => void) | undefined;

  private readonly lanes = new Map<number, OutLane>();
  /** Outgoing lanes carried on the control stream (over `maxLaneStreams`). */
  private readonly spilled = new Set<number>();
  private readonly dirty = new Set<OutLane>();
  private flushScheduled = false;

  /** Incoming lanes being read, by lane id. */
  private readonly inLanes = new Map<number, ReadableStreamDefaultReader<Uint8Array>>();
  /** Readers of incoming streams whose lane id is not read yet. */
  private readonly unnamed = new Set<ReadableStreamDefaultReader<Uint8Array>>();
  private inLanesIdle: (() => void) | undefined;
  private uniReader: ReadableStreamDefaultReader<ReadableStream<Uint8Array>> | undefined;
  private bidiReader: ReadableStreamDefaultReader<WebTransportStreamPair> | undefined;

  constructor(
    private readonly transport: WebTransportLike,
    private readonly role: 'client' | 'server',
    options: WebTransportLinkOptions = {},
  ) {
    this.maxLaneStreams = options.maxLaneStreams ?? 64;
    this.lingerMs = options.lingerMs ?? 2000;
    this.maxWriteBytes = options.maxWriteBytes ?? 32 * 1024;
    // Never an unhandled rejection from the transport's promises.
    transport.ready.catch(ignore);
    transport.closed.catch(ignore);
  }

  start(sink: LinkSink): void {
    this.sink = sink;
    this.transport.closed.then(ignore, ignore).then(() => this.peerFinishedSignal?.());
    this.transport.closed.then(
      (info) => {
        const { closeCode = 0, reason = '' } = (info ?? {}) as { closeCode?: number; reason?: string };
        this.end(closeCode === WebTransportCode.Normal ? undefined : new WebTransportCloseError(closeCode, reason));
      },
      (error: unknown) => this.end(error ?? new WebTransportCloseError(-1, 'the WebTransport session was lost')),
    );
    if (this.role === 'client') {
      this.transport.createBidirectionalStream().then(
        (pair) => this.useControl(pair),
        (error: unknown) => this.end(error),
      );
    }
    void this.acceptBidirectional();
    void this.acceptUnidirectional();
  }

  // ---- sending ----

  send(frame: Uint8Array, lane = 0): boolean {
    if (this.closed) return true;
    if (lane === 0 || this.spilled.has(lane)) {
      this.queue(this.control, frame);
      return true;
    }
    let out = this.lanes.get(lane);
    if (out === undefined) {
      if (this.lanes.size >= this.maxLaneStreams) {
        this.spilled.add(lane);
        this.queue(this.control, frame);
        return true;
      }
      out = this.openLane(lane);
    }
    this.queue(out, frame);
    return true;
  }

  endLane(lane: number, how: 'close' | 'reset' | 'stop'): void {
    // A stopped lane is read to its end: the sender closes it once the STOP reaches it.
    if (this.closed || how === 'stop') return;
    if (this.spilled.delete(lane)) return; // its frames (and end) ride the control stream
    const out = this.lanes.get(lane);
    if (out === undefined || out.ending) return;
    // Reset or closed, what is queued still goes out: its credit comes back only if it arrives.
    out.ending = true;
    this.markDirty(out);
  }

  private openLane(lane: number): OutLane {
    const out = new OutLane(lane);
    out.header = encodeVarint(lane);
    this.lanes.set(lane, out);
    this.transport.createUnidirectionalStream().then(
      (stream) => {
        const writer = stream.getWriter();
        if (out.finished) {
          // Reset (or the link failed) before the stream existed.
          writer.abort().catch(ignore);
          return;
        }
        out.writer = writer;
        this.markDirty(out);
      },
      (error: unknown) => {
        // No stream (the session is going away): the transport's `closed` tells the session.
        this.lanes.delete(lane);
        out.finish();
        void error;
      },
    );
    return out;
  }

  private queue(out: OutLane, frame: Uint8Array): void {
    out.frames.push(frame);
    this.markDirty(out);
  }

  private markDirty(out: OutLane): void {
    this.dirty.add(out);
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    afterTick(() => this.flushAll());
  }

  private flushAll(): void {
    this.flushScheduled = false;
    const lanes = [...this.dirty];
    this.dirty.clear();
    for (const out of lanes) this.flushLane(out);
  }

  /** Writes what is queued on one lane (one write at a time), then ends it if asked. */
  private flushLane(out: OutLane): void {
    const writer = out.writer;
    if (out.finished || writer === undefined || out.writing) return;
    if (out.frames.length > 0) {
      // Whole frames up to about `maxWriteBytes` (at least one), written in slices of at most that.
      let take = 0;
      let size = 0;
      while (take < out.frames.length && (take === 0 || size + (out.frames[take] as Uint8Array).byteLength <= this.maxWriteBytes)) {
        size += (out.frames[take] as Uint8Array).byteLength;
        take++;
      }
      const body = joinFrames(take === out.frames.length ? out.frames : out.frames.slice(0, take));
      out.frames = take === out.frames.length ? [] : out.frames.slice(take);
      let chunk = body;
      if (out.header) {
        chunk = new Uint8Array(out.header.byteLength + body.byteLength);
        chunk.set(out.header, 0);
        chunk.set(body, out.header.byteLength);
        out.header = undefined;
      }
      out.writing = true;
      this.writeSlices(out, writer, chunk, 0);
      return;
    }
    if (out.ending) {
      if (out.lane !== 0) this.lanes.delete(out.lane);
      writer.close().then(
        () => out.finish(),
        () => out.finish(),
      );
      // Do not wait for the peer's acknowledgement to count the lane as ended here.
      if (out.lane !== 0) out.finish();
    }
  }

  /**
   * Writes `chunk` from `at` in slices of at most `maxWriteBytes`, one after the
   * other (a frame may span slices: the reading side takes any split), then
   * goes on with the lane. A single frame can be larger than a write may be.
   */
  private writeSlices(out: OutLane, writer: WritableStreamDefaultWriter<Uint8Array>, chunk: Uint8Array, at: number): void {
    const end = Math.min(chunk.byteLength, at + this.maxWriteBytes);
    writer.write(at === 0 && end === chunk.byteLength ? chunk : chunk.subarray(at, end)).then(
      () => {
        if (end < chunk.byteLength && !out.finished) {
          this.writeSlices(out, writer, chunk, end);
          return;
        }
        out.writing = false;
        this.flushLane(out);
      },
      (error: unknown) => {
        out.writing = false;
        this.laneFailed(out, error);
      },
    );
  }

  /** A write failed: the peer (another implementation) stopped the lane natively, or the session is gone. */
  private laneFailed(out: OutLane, error: unknown): void {
    if (out.lane === 0) {
      this.end(error);
      return;
    }
    this.lanes.delete(out.lane);
    out.finish();
  }

  // ---- receiving ----

  private useControl(pair: WebTransportStreamPair): void {
    if (this.closed) {
      pair.writable.abort().catch(ignore);
      pair.readable.cancel().catch(ignore);
      return;
    }
    this.control.writer = pair.writable.getWriter();
    this.markDirty(this.control);
    const reader = pair.readable.getReader();
    this.controlReader = reader;
    void this.readControl(reader);
  }

  /** Server: the first incoming bidirectional stream is the control stream; others are refused. */
  private async acceptBidirectional(): Promise<void> {
    let reader: ReadableStreamDefaultReader<WebTransportStreamPair>;
    try {
      reader = this.transport.incomingBidirectionalStreams.getReader();
    } catch {
      return;
    }
    this.bidiReader = reader;
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) return;
        if (!this.closed && this.role === 'server' && this.control.writer === undefined && this.controlReader === undefined) {
          this.useControl(value);
        } else {
          value.readable.cancel().catch(ignore);
          value.writable.abort().catch(ignore);
        }
      }
    } catch {
      // the session is gone: `closed` reports it
    }
  }

  private async acceptUnidirectional(): Promise<void> {
    let reader: ReadableStreamDefaultReader<ReadableStream<Uint8Array>>;
    try {
      reader = this.transport.incomingUnidirectionalStreams.getReader();
    } catch {
      return;
    }
    this.uniReader = reader;
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) return;
        if (this.closed) value.cancel().catch(ignore);
        else void this.readLane(value);
      }
    } catch {
      // the session is gone: `closed` reports it
    }
  }

  /** One incoming lane: its id, then frames until FIN. */
  private async readLane(stream: ReadableStream<Uint8Array>): Promise<void> {
    const reader = stream.getReader();
    this.unnamed.add(reader);
    let lane = 0;
    let scale = 1;
    let idBytes = 0;
    let rest: Uint8Array | undefined;
    try {
      while (rest === undefined) {
        const { done, value } = await reader.read();
        if (this.closed) return;
        if (done) {
          if (idBytes > 0) throw new ProtocolError('a WebTransport lane ended inside its lane id', { code: 'BAD_FRAME' });
          return; // an empty stream: nothing to do
        }
        for (let i = 0; i < value.byteLength; i++) {
          const byte = value[i] as number;
          idBytes++;
          lane += (byte & 0x7f) * scale;
          scale *= 0x80;
          if ((byte & 0x80) === 0) {
            rest = value.subarray(i + 1);
            break;
          }
          if (idBytes >= MAX_LANE_VARINT_BYTES) throw new ProtocolError('a WebTransport lane id is too long', { code: 'BAD_FRAME' });
        }
      }
      if (lane === 0 || !Number.isSafeInteger(lane)) throw new ProtocolError(`bad WebTransport lane id ${lane}`, { code: 'BAD_FRAME' });
      if (this.inLanes.has(lane)) throw new ProtocolError(`a second native stream for lane ${lane}`, { code: 'BAD_FRAME' });
      this.unnamed.delete(reader);
      this.inLanes.set(lane, reader);
      const splitter = new FrameSplitter();
      for (const frame of splitter.push(rest)) {
        if (this.closed || this.inLanes.get(lane) !== reader) return;
        this.sink?.frame(frame);
      }
      await this.readFrames(reader, splitter, lane);
    } catch (error) {
      if (error instanceof ProtocolError) this.fail(error);
      // Otherwise the peer reset the lane (its reason went on the control stream) or the session ended.
    } finally {
      this.unnamed.delete(reader);
      if (this.inLanes.get(lane) === reader) this.inLanes.delete(lane);
      this.checkInLanesIdle();
    }
  }

  /** Reads length-prefixed frames of one incoming lane until FIN (throws ProtocolError on bad bytes). */
  private async readFrames(reader: ReadableStreamDefaultReader<Uint8Array>, splitter: FrameSplitter, lane: number): Promise<void> {
    for (;;) {
      const { done, value } = await reader.read();
      if (this.closed || this.inLanes.get(lane) !== reader) return;
      if (done) {
        if (!splitter.idle) throw new ProtocolError('a WebTransport lane ended inside a frame', { code: 'BAD_FRAME' });
        return;
      }
      for (const frame of splitter.push(value)) {
        if (this.closed || this.inLanes.get(lane) !== reader) return;
        this.sink?.frame(frame);
      }
    }
  }

  /**
   * Reads the control stream until the peer's FIN. After this side closed,
   * it keeps reading (and drops what comes) so it sees that FIN: cancelling
   * would make the peer's last control writes fail.
   */
  private async readControl(reader: ReadableStreamDefaultReader<Uint8Array>): Promise<void> {
    const splitter = new FrameSplitter();
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) {
          if (!this.closed && !splitter.idle) throw new ProtocolError('the WebTransport control stream ended inside a frame', { code: 'BAD_FRAME' });
          this.onPeerFinished();
          return;
        }
        if (this.closed) continue;
        for (const frame of splitter.push(value)) {
          if (this.closed) break;
          this.sink?.frame(frame);
        }
      }
    } catch (error) {
      if (error instanceof ProtocolError) this.fail(error);
      else this.end(error); // the control stream was reset: the session is broken
      this.onPeerFinished();
    }
  }

  /** The peer closed its control stream: deliver what its lanes still carry, then end orderly. */
  private onPeerFinished(): void {
    if (this.peerFinished) return;
    this.peerFinished = true;
    this.peerFinishedSignal?.();
    if (this.closed) return;
    void this.waitInLanes().then(() => this.end(undefined));
  }

  private waitInLanes(): Promise<void> {
    return new Promise<void>((resolve) => {
      const timer = setTimeout(done, this.lingerMs);
      function done(): void {
        clearTimeout(timer);
        resolve();
      }
      this.inLanesIdle = done;
      this.checkInLanesIdle();
    });
  }

  private checkInLanesIdle(): void {
    if (this.inLanesIdle && this.inLanes.size === 0 && this.unnamed.size === 0) {
      const idle = this.inLanesIdle;
      this.inLanesIdle = undefined;
      idle();
    }
  }

  // ---- ending ----

  /** Closes the link: gracefully (lanes flush, FIN, then the session closes) or with an error. */
  close(error?: unknown): void {
    if (this.closed) return;
    this.closed = true;
    this.stopReading();
    if (error === undefined) void this.closeGracefully();
    else void this.closeWithError(error);
  }

  private async closeGracefully(): Promise<void> {
    this.flushAll();
    for (const out of this.lanes.values()) {
      if (!out.ending) {
        out.ending = true;
        this.markDirty(out);
      }
    }
    this.flushAll();
    await this.bounded(Promise.all([...this.lanes.values()].map((out) => out.done)).then(ignore));
    // The control stream: what is queued, then FIN.
    this.control.ending = true;
    this.flushLane(this.control);
    await this.bounded(this.control.done);
    if (!this.peerFinished) {
      await this.bounded(
        new Promise<void>((resolve) => {
          this.peerFinishedSignal = resolve;
        }),
      );
    }
    this.closeTransport(WebTransportCode.Normal, '');
  }

  private async closeWithError(error: unknown): Promise<void> {
    // The GOAWAY the session just queued goes first, best effort.
    this.control.ending = true;
    this.flushAll();
    this.flushLane(this.control);
    await this.bounded(this.control.done, Math.min(this.lingerMs, 250));
    for (const out of this.lanes.values()) {
      out.writer?.abort().catch(ignore);
      out.finish();
    }
    this.lanes.clear();
    this.closeTransport(isProtocolError(error) ? WebTransportCode.ProtocolError : WebTransportCode.SessionError, reasonText(error, MAX_REASON_BYTES));
  }

  private bounded(promise: Promise<void>, ms = this.lingerMs): Promise<void> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    return Promise.race([promise, new Promise<void>((resolve) => (timer = setTimeout(resolve, ms)))]).finally(() => clearTimeout(timer));
  }

  private closeTransport(closeCode: number, reason: string): void {
    try {
      this.transport.close({ closeCode, reason });
    } catch {
      // already closed
    }
  }

  /**
   * Stops reading the lanes. The readers of incoming streams (`uniReader`,
   * `bidiReader`) are left alone: they end with the transport, and what
   * still arrives is refused (cancelling them would close streams some
   * implementations still write to).
   */
  private stopReading(): void {
    for (const reader of this.inLanes.values()) reader.cancel().catch(ignore);
    for (const reader of this.unnamed) reader.cancel().catch(ignore);
    this.inLanes.clear();
    this.unnamed.clear();
  }

  /** Bad input from the peer: the session learns why, the WebTransport session closes with a clear code. */
  private fail(error: ProtocolError): ProtocolError {
    if (this.closed) return error;
    const sink = this.sink;
    this.closed = true;
    this.stopReading();
    this.controlReader?.cancel().catch(ignore);
    for (const out of this.lanes.values()) out.finish();
    this.closeTransport(WebTransportCode.ProtocolError, reasonText(error, MAX_REASON_BYTES));
    sink?.end(error);
    return error;
  }

  /** The transport ended under the link (or the peer finished): tell the session, release the transport. */
  private end(error: unknown): void {
    if (this.closed) return;
    this.closed = true;
    this.stopReading();
    for (const out of this.lanes.values()) out.finish();
    if (error === undefined) {
      // Orderly: finish our side too, then let the transport go.
      this.control.ending = true;
      this.flushLane(this.control);
      void this.bounded(this.control.done).then(() => this.closeTransport(WebTransportCode.Normal, ''));
    } else {
      this.controlReader?.cancel().catch(ignore);
      this.closeTransport(WebTransportCode.SessionError, reasonText(error, MAX_REASON_BYTES));
    }
    this.sink?.end(error);
  }
}
