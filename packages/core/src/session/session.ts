// @ts-self-types="./session.d.ts"

/**
 * The multiplexed session (libchan's Transport): the handshake, the stream
 * table, frame dispatch, the round-robin write scheduler, session-level
 * credit, keep-alive, graceful close (GOAWAY) and failure. Independent of
 * any transport: it speaks to a `FrameLink`.
 */
import type { StandardSchemaV1 } from '@standard-schema/spec';
import { AbstractReceiver, AbstractSender, handledPromise, kDetach, kIsTransferred } from '../channel/ends.js';
import { PipeCore, type PipeReceiver } from '../channel/pipe.js';
import { Queue } from '../channel/queue.js';
import type { Receiver, Sender, WaitOptions } from '../channel/types.js';
import { Codec, type DecodeContext, type EncodeContext, type RefKind } from '../codec/codec.js';
import { unrefTimer } from '../schedule.js';
import { CREDIT_DELAY_MS, CREDIT_FLUSH_SHARE, MIN_SPLIT_PAYLOAD, resolveOptions, type ResolvedOptions, type SessionOptions } from '../config.js';
import { ChannelClosedError, LimitExceededError, ProtocolError, SessionClosedError } from '../errors.js';
import {
  Capability,
  decodeFrame,
  encodeCredit,
  encodeDataFrame,
  encodeDataHeader,
  encodeGoAway,
  encodeHello,
  encodeWindow,
  encodeOpen,
  encodeOpens,
  encodePing,
  encodeReset,
  FrameType,
  limitOrder,
  PROTOCOL_MAJOR,
  StreamKind,
  type AnnouncedLimits,
  type Frame,
  type HelloFrame,
  type OpenFrame,
} from './frames.js';
import type { Child, PreparedMessage, SessionSnapshot, StreamHost, StreamSnapshot } from './host.js';
import { InStream, type InStreamDecoder } from './in-stream.js';
import type { FrameLink, LinkSink } from './link.js';
import { OutStream } from './out-stream.js';
import { makeWritable, pumpBytes, pumpChannel, RemoteSender } from './remote-ends.js';

/** Bytes kept free in front of an encoded message for its frame header. */
const HEADROOM = 16;
/** A reset reason larger than this is replaced by a short error. */
const MAX_REASON_BYTES = 16 * 1024;

export interface AcceptOptions<T> extends WaitOptions {
  /** A Standard Schema (zod, valibot, arktype …): every value is validated on arrival. */
  schema?: StandardSchemaV1<unknown, T>;
}

export interface CloseOptions {
  /** Aborting it aborts the session. */
  signal?: AbortSignal;
}

/** What the peer sent in its handshake. */
export interface PeerInfo {
  hello: unknown;
}

type AnyStream = InStream | OutStream;

const enum Phase {
  Handshake,
  /** The peer's HELLO is being checked (`verifyHello`); ours is not sent yet. */
  Verifying,
  Open,
  Closed,
  Failed,
}

function randomNonce(): Uint8Array {
  const nonce = new Uint8Array(8);
  crypto.getRandomValues(nonce);
  return nonce;
}

function compareBytes(a: Uint8Array, b: Uint8Array): number {
  for (let i = 0; i < a.length; i++) {
    const d = (a[i] as number) - (b[i] as number);
    if (d !== 0) return d;
  }
  return 0;
}

export class Session implements StreamHost, InStreamDecoder, AsyncDisposable {
  readonly options: ResolvedOptions;
  readonly codec: Codec;
  /** The peer's handshake; `hello` is undefined until `ready`. */
  readonly peer: PeerInfo = { hello: undefined };
  readonly ready: Promise<void>;
  readonly closed: Promise<void>;

  peerLimits!: AnnouncedLimits;
  /** Capability bits of the peer's HELLO. */
  private peerCapabilities = 0;
  sendCredit = 0;
  recvUnacked = 0;
  unreturned = 0;

  private phase = Phase.Handshake;
  private failure: unknown;
  private readonly link: FrameLink;
  private linkOpen = true;
  private readonly nonce = randomNonce();
  private readonly readySignal = handledPromise();
  private readonly closedSignal = handledPromise();
  private readonly streams = new Map<number, AnyStream>();
  private nextLocalId = 0;
  private highestPeerId = 0;
  private localOpened = 0;
  private peerOpened = 0;
  private unclaimed = 0;
  private openSlots = 0;
  private pendingAccepts = 0;
  private lastAcceptedId = 0;
  private readonly acceptQueue = new PipeCore<InStream>(Number.MAX_SAFE_INTEGER);
  private readonly rr = new Queue<OutStream>();
  private flushing = false;
  private paused = false;
  private readonly blocked = new Set<OutStream>();
  private readonly creditFlushes = new Set<InStream>();
  private creditTimer: ReturnType<typeof setTimeout> | undefined;
  private flushingCredits = false;
  /** Consumed bytes of ended streams: session credit only, sent with the next bulk flush. */
  private sessionCreditDue = 0;
  private closing = false;
  private goAwaySent = false;
  private peerGoingAway = false;
  private closeWaiters: { resolve(): void; reject(e: unknown): void }[] = [];
  private handshakeTimer: ReturnType<typeof setTimeout> | undefined;
  private keepAliveTimer: ReturnType<typeof setInterval> | undefined;
  private framesReceived = 0;
  private framesAtLastTick = 0;
  private idleTicks = 0;
  /** Final pictures of the last `inspectorHistory` streams that ended. */
  private readonly ended: StreamSnapshot[] = [];
  /** Counters for the inspector. */
  readonly stats = { framesIn: 0, framesOut: 0, bytesIn: 0, bytesOut: 0 };

  private readonly verifyHello: ((hello: unknown) => boolean | Promise<boolean>) | undefined;
  private helloBytes: Uint8Array | undefined;

  /**
   * @param internals.verifyHello for servers (`onHello`): this side sends its
   * HELLO only after approving the peer's, so a refused client's handshake
   * fails instead of succeeding first.
   */
  constructor(link: FrameLink, options?: SessionOptions, internals?: { verifyHello?: (hello: unknown) => boolean | Promise<boolean> }) {
    this.verifyHello = internals?.verifyHello;
    this.unordered = link.unordered === true;
    this.options = resolveOptions(options);
    this.codec = new Codec({ maxNestingDepth: this.options.maxNestingDepth });
    this.link = link;
    this.ready = this.readySignal.promise;
    this.closed = this.closedSignal.promise;
    const sink: LinkSink = {
      frame: (frame) => this.onFrame(frame),
      drain: () => {
        this.paused = false;
        this.flush();
      },
      end: (error) => this.onLinkEnd(error),
    };
    let helloBytes: Uint8Array;
    try {
      helloBytes = this.codec.encodeToBytes(this.options.hello);
    } catch (error) {
      link.start(sink);
      this.fail(new SessionClosedError('the hello value cannot be sent', { cause: error }));
      return;
    }
    this.helloBytes = helloBytes;
    // The timer starts before the link does: a link may hand over the peer's HELLO at once
    // (it can arrive with a WebSocket upgrade), and that must be able to clear it.
    this.handshakeTimer = setTimeout(() => {
      this.failProtocol(new ProtocolError(`no handshake within ${this.options.handshakeTimeoutMs} ms`, { code: 'HANDSHAKE_TIMEOUT' }));
    }, this.options.handshakeTimeoutMs);
    unrefTimer(this.handshakeTimer);
    link.start(sink);
    if (!this.verifyHello && this.phase < Phase.Closed) this.sendHello();
  }

  private sendHello(): void {
    const limits = Object.fromEntries(limitOrder.map((k) => [k, this.options[k]])) as AnnouncedLimits;
    this.writeControl(encodeHello(this.nonce, Capability.StreamWindow, limits, this.helloBytes as Uint8Array));
    this.helloBytes = undefined;
  }

  // ---- public API ----

  /** A new top-level channel to the peer (libchan's NewSendChannel). */
  async openSender<T>(): Promise<Sender<T>> {
    await this.ready;
    this.checkUsable();
    if (this.peerGoingAway) throw new ChannelClosedError('the peer is closing the session', { code: 'REFUSED' });
    if (this.openSlots <= 0) {
      throw new LimitExceededError('the peer has too many channels waiting to be accepted', { limit: 'maxPendingAccepts' });
    }
    if (this.localOpened >= this.peerLimits.maxChannels) {
      throw new LimitExceededError('too many open channels', { limit: 'maxChannels' });
    }
    const stream = this.newOut(this.allocId(), StreamKind.Channel, 0, true);
    this.openSlots--;
    this.announce(stream, 0);
    return new RemoteSender<T>(stream);
  }

  /** The next top-level channel the peer opened (libchan's WaitReceiveChannel). */
  async accept<T = unknown>(options?: AcceptOptions<T>): Promise<Receiver<T>> {
    let stream: InStream;
    try {
      stream = await this.acceptQueue.receive(options?.signal);
    } catch (error) {
      if (error === options?.signal?.reason && options?.signal?.aborted) throw error;
      throw this.failure ?? new SessionClosedError('the session is closed');
    }
    this.pendingAccepts--;
    if (stream.id > this.lastAcceptedId) this.lastAcceptedId = stream.id;
    this.writeControl(encodeOpens(1));
    stream.schema = options?.schema;
    return stream.makeReceiver() as Receiver<T>;
  }

  /**
   * Every top-level channel, for server loops. Ends (quietly) when the
   * session ends, cleanly or not — `closed` says how; leaving the loop does
   * not close the session.
   */
  incoming<T = unknown>(): AsyncIterable<Receiver<T>> {
    return {
      [Symbol.asyncIterator]: () => ({
        next: () =>
          this.accept<T>().then(
            (value): IteratorResult<Receiver<T>> => ({ done: false, value }),
            // A server loop ends quietly however the session ended; `closed` tells why.
            (): IteratorResult<Receiver<T>> => ({ done: true, value: undefined }),
          ),
        return: () => Promise.resolve({ done: true as const, value: undefined }),
      }),
    };
  }

  /**
   * Graceful close: GOAWAY names the last peer channel accepted; channels not
   * accepted yet and later ones are refused (`REFUSED`). Resolves once every
   * channel has ended; aborting `signal` aborts the session.
   */
  close(options?: CloseOptions): Promise<void> {
    if (this.phase === Phase.Closed) return Promise.resolve();
    if (this.phase === Phase.Failed) return this.closed;
    const promise = new Promise<void>((resolve, reject) => this.closeWaiters.push({ resolve, reject }));
    const signal = options?.signal;
    if (signal) {
      if (signal.aborted) this.abort(signal.reason);
      else signal.addEventListener('abort', () => this.abort(signal.reason), { once: true });
    }
    if (!this.closing) {
      this.closing = true;
      if (this.phase < Phase.Open) {
        this.finishClean();
      } else {
        this.refuseQueued();
        this.sendGoAway();
        this.maybeFinish();
      }
    }
    return promise;
  }

  /** Tears the session down now; everything pending rejects with `SessionClosedError`. */
  abort(reason?: unknown): void {
    this.fail(new SessionClosedError('the session was aborted', { cause: reason }), reason);
  }

  /** A picture of the session and its live sub-streams (for inspectors; cheap enough to poll). */
  snapshot(): SessionSnapshot {
    const state =
      this.phase === Phase.Failed ? 'failed' : this.phase === Phase.Closed ? 'closed' : this.closing ? 'closing' : this.phase === Phase.Open ? 'open' : 'handshake';
    return {
      state,
      peerHello: this.peer.hello,
      streams: [...this.streams.values()].map((s) => s.snapshot()).sort((x, y) => x.id - y.id),
      ended: [...this.ended],
      sendCredit: this.sendCredit,
      sessionWindow: this.peerLimits?.sessionWindowBytes ?? 0,
      ...this.stats,
    };
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close().catch(() => {});
  }

  // ---- StreamHost ----

  /** Channels and streams named by the message being encoded (a stack slot: a getter may send while a value is encoded). */
  private encodingRefs: { kind: RefKind; object: object; id: number }[] | undefined;
  private readonly encodeContext: EncodeContext = {
    ref: (kind, object) => {
      checkTransferable(kind, object);
      const id = this.allocId();
      (this.encodingRefs ??= []).push({ kind, object, id });
      return id;
    },
  };

  prepareMessage(value: unknown, parent: number): PreparedMessage {
    const outer = this.encodingRefs;
    this.encodingRefs = undefined;
    let refs: { kind: RefKind; object: object; id: number }[] | undefined;
    let encoded;
    try {
      encoded = this.codec.encode(value, this.encodeContext, HEADROOM, Math.min(this.options.maxNestingDepth, this.peerLimits.maxNestingDepth));
    } finally {
      refs = this.encodingRefs as typeof refs; // filled by encodeContext.ref during encode
      this.encodingRefs = outer;
    }
    if (encoded.byteLength > this.peerLimits.maxMessageBytes) {
      throw new LimitExceededError(`message of ${encoded.byteLength} bytes exceeds the peer's maxMessageBytes (${this.peerLimits.maxMessageBytes})`, {
        limit: 'maxMessageBytes',
      });
    }
    let children: Child[] | undefined;
    if (refs) {
      if (this.localOpened + refs.length > this.peerLimits.maxChannels) {
        throw new LimitExceededError(`too many open channels (the peer allows ${this.peerLimits.maxChannels})`, { limit: 'maxChannels' });
      }
      if (this.failure !== undefined) throw this.failure;
      children = refs.map((r) => this.materialize(r.kind, r.object, r.id, parent));
    }
    return { bytes: encoded.bytes, offset: encoded.offset, size: encoded.byteLength, children };
  }

  writeControl(frame: Uint8Array, lane = 0): void {
    if (!this.linkOpen) return;
    this.stats.framesOut++;
    this.stats.bytesOut += frame.byteLength;
    this.link.send(frame, lane);
  }

  writeData(frame: Uint8Array, lane: number): void {
    if (!this.linkOpen) return;
    this.stats.framesOut++;
    this.stats.bytesOut += frame.byteLength;
    if (!this.link.send(frame, lane)) this.paused = true;
  }

  writeDataCopying(type: number, lane: number, payload: Uint8Array, flags = 0, total = -1): number {
    const link = this.link;
    // Big payloads go to a link that joins frames anyway as two parts: one copy instead of two.
    if (link.sendSplit === undefined || payload.byteLength < MIN_SPLIT_PAYLOAD) {
      const frame = encodeDataFrame(type, lane, payload, flags, total);
      this.writeData(frame, lane);
      return frame.byteLength;
    }
    const head = encodeDataHeader(type, lane, flags, total);
    const length = head.byteLength + payload.byteLength;
    if (!this.linkOpen) return length;
    this.stats.framesOut++;
    this.stats.bytesOut += length;
    if (!link.sendSplit(head, payload, lane)) this.paused = true;
    return length;
  }

  endLane(lane: number, how: 'close' | 'reset' | 'stop'): void {
    if (this.linkOpen) this.link.endLane?.(lane, how);
  }

  announce(child: Child, parent: number): void {
    child.announced = true;
    // On the parent's lane, so on stream links too the OPEN precedes the message naming it.
    this.writeControl(encodeOpen(child.id, child.kind, child.sendsHere, parent), parent);
    if (child.endFrame) {
      this.writeControl(child.endFrame);
      child.endFrame = undefined;
    }
    if (child instanceof OutStream && child.hasData) this.schedule(child);
  }

  schedule(stream: OutStream): void {
    if (!stream.announced || stream.inRR) return;
    stream.inRR = true;
    this.rr.push(stream);
    this.flush();
  }

  blockedOnCredit(stream: OutStream): void {
    this.blocked.add(stream);
  }

  restoreCredit(bytes: number): void {
    this.sendCredit += bytes;
    if (this.phase === Phase.Open) this.retryBlocked();
  }

  growWindow(id: number, bytes: number): boolean {
    if ((this.peerCapabilities & Capability.StreamWindow) === 0) return false;
    this.writeControl(encodeWindow(id, bytes));
    // Like an urgent credit return: the sender may be waiting for it.
    if (this.linkOpen) this.link.flush?.();
    return true;
  }

  returnCredit(id: number, bytes: number, urgent = false): void {
    if (bytes === 0) return;
    this.writeControl(encodeCredit(id, bytes));
    if (urgent && this.linkOpen) this.link.flush?.();
  }

  encodeReason(reason: unknown): Uint8Array {
    if (reason === undefined) return new Uint8Array(0);
    try {
      const bytes = this.codec.encodeToBytes(reason);
      if (bytes.byteLength <= MAX_REASON_BYTES) return bytes;
    } catch {
      // not serializable: fall through to a plain error
    }
    return this.codec.encodeToBytes(new Error(String((reason as Error)?.message ?? reason).slice(0, 1024)));
  }

  streamDone(stream: AnyStream): void {
    if (!stream.claimed) return; // kept until its naming message claims it
    if (this.streams.get(stream.id) === stream) {
      this.streams.delete(stream.id);
      if (this.options.inspectorHistory > 0) {
        this.ended.push(stream.snapshot());
        if (this.ended.length > this.options.inspectorHistory) this.ended.shift();
      }
    }
    if (stream instanceof OutStream) this.blocked.delete(stream);
    this.maybeFinish();
  }

  uncount(stream: AnyStream): void {
    if (!stream.counted) return;
    stream.counted = false;
    if (stream.openedHere) this.localOpened--;
    else this.peerOpened--;
  }

  /** The stream whose message is being decoded (a stack slot, as encodingRefs). */
  private decodingStream: InStream | undefined;
  private readonly decodeContext: DecodeContext = {
    resolve: (kind, token) => this.claim(kind, token, this.decodingStream as InStream),
  };

  decodeMessage(payload: Uint8Array, stream: InStream): unknown {
    const outer = this.decodingStream;
    this.decodingStream = stream;
    let value: unknown;
    try {
      value = this.codec.decode(payload, this.decodeContext);
    } finally {
      this.decodingStream = outer;
    }
    // Streams announced for this message but not named in it: the peer will never use them.
    if (stream.children.length > 0) {
      for (const child of stream.children.splice(0)) {
        this.unclaimed--;
        (child as AnyStream).claimed = true;
        child.drop(undefined);
        this.streamDone(child as AnyStream);
      }
    }
    return value;
  }

  /**
   * Credit goes back in bulk: a stream's at half its window (InStream), everything once
   * CREDIT_FLUSH_SHARE of the session window waits, and the rest after CREDIT_DELAY_MS.
   * Returning it with every frame written cost a CREDIT frame each way per request/reply.
   */
  creditPending(stream: InStream, bytes: number): void {
    this.unreturned += bytes;
    if (!stream.creditScheduled) {
      stream.creditScheduled = true;
      this.creditFlushes.add(stream);
    }
    this.creditWaits();
  }

  /** Some credit waits: all of it goes now if it is a share of the session window, else after the delay. */
  private creditWaits(): void {
    if (this.unreturned >= this.options.sessionWindowBytes * CREDIT_FLUSH_SHARE) {
      this.flushCredits();
      if (this.linkOpen) this.link.flush?.();
      return;
    }
    if (this.creditTimer !== undefined) return;
    this.creditTimer = setTimeout(() => {
      this.creditTimer = undefined;
      this.flushCredits();
    }, CREDIT_DELAY_MS);
    unrefTimer(this.creditTimer);
  }

  /**
   * A stream ended with `bytes` of its credit not yet returned: they are the session's
   * alone now, and go with the next bulk flush without holding on to the stream.
   */
  creditEnded(stream: InStream, bytes: number): void {
    if (stream.creditScheduled) {
      stream.creditScheduled = false;
      this.creditFlushes.delete(stream);
    }
    this.sessionCreditDue += bytes;
    this.creditWaits();
  }

  private flushCredits(): void {
    if (this.flushingCredits) return;
    this.flushingCredits = true;
    try {
      // Taken first: a stream scheduled while these flush must stay in the set.
      const streams = [...this.creditFlushes];
      this.creditFlushes.clear();
      for (const s of streams) s.flushCredit();
    } finally {
      this.flushingCredits = false;
    }
    const due = this.sessionCreditDue;
    if (due === 0) return;
    this.sessionCreditDue = 0;
    this.unreturned -= due;
    this.returnCredit(0, due);
  }


  // ---- streams ----

  private allocId(): number {
    return (this.nextLocalId += 2);
  }

  private isLocalId(id: number): boolean {
    return (id & 1) === (this.nextLocalId & 1);
  }

  private newOut(id: number, kind: StreamKind, parent: number, openedHere: boolean): OutStream {
    const stream = new OutStream(this, id, kind, parent, openedHere);
    this.streams.set(id, stream);
    if (openedHere) this.localOpened++;
    else this.peerOpened++;
    return stream;
  }

  private newIn(id: number, kind: StreamKind, parent: number, openedHere: boolean): InStream {
    const stream = new InStream(this, id, kind, parent, openedHere);
    this.streams.set(id, stream);
    if (openedHere) this.localOpened++;
    else this.peerOpened++;
    return stream;
  }

  /** Our side names a channel or stream in a message: make its sub-stream and take the object over. */
  private materialize(kind: RefKind, object: object, id: number, parent: number): Child {
    switch (kind) {
      case 'sender': {
        const stream = this.newIn(id, StreamKind.Channel, parent, true);
        stream.attachSender((object as AbstractSender<unknown>)[kDetach]());
        return stream;
      }
      case 'receiver': {
        const stream = this.newOut(id, StreamKind.Channel, parent, true);
        pumpChannel(stream, (object as AbstractReceiver<unknown>)[kDetach]() as PipeReceiver<unknown>);
        return stream;
      }
      case 'readable': {
        const stream = this.newOut(id, StreamKind.Bytes, parent, true);
        pumpBytes(stream, (object as ReadableStream<unknown>).getReader());
        return stream;
      }
      case 'writable': {
        const stream = this.newIn(id, StreamKind.Bytes, parent, true);
        stream.attachWriter((object as WritableStream<Uint8Array>).getWriter());
        return stream;
      }
    }
  }

  /** The peer named a stream in a message of `parent`: hand out the live object. */
  private claim(kind: RefKind, token: number, parent: InStream): unknown {
    const stream = this.streams.get(token);
    const wantOut = kind === 'sender' || kind === 'writable';
    const wantKind = kind === 'sender' || kind === 'receiver' ? StreamKind.Channel : StreamKind.Bytes;
    if (
      stream === undefined ||
      stream.claimed ||
      stream.parent !== parent.id ||
      stream.kind !== wantKind ||
      stream instanceof OutStream !== wantOut
    ) {
      throw new ProtocolError(`message names an unknown ${kind} (stream ${token})`, { code: 'UNKNOWN_STREAM' });
    }
    stream.claimed = true;
    this.unclaimed--;
    const i = parent.children.indexOf(stream);
    if (i >= 0) parent.children.splice(i, 1);
    let result: unknown;
    if (stream instanceof OutStream) {
      result = kind === 'sender' ? new RemoteSender(stream) : makeWritable(stream);
      if (!stream.isOpen) this.streamDone(stream);
    } else {
      result = kind === 'receiver' ? stream.makeReceiver() : stream.makeReadable();
      if (stream.isDone) this.streamDone(stream);
    }
    return result;
  }

  // ---- frames in ----

  private onFrame(bytes: Uint8Array): void {
    if (this.phase >= Phase.Closed) return;
    this.framesReceived++;
    this.stats.framesIn++;
    this.stats.bytesIn += bytes.byteLength;
    try {
      const frame = decodeFrame(bytes);
      if (this.unordered && this.phase === Phase.Open && this.holdEarly(frame)) return;
      this.handle(frame);
    } catch (error) {
      this.failProtocol(error);
    }
  }

  // ---- stream links: frames that overtook their stream's OPEN ----

  private readonly unordered: boolean;
  /** Never used: they keep the stream classes' object layouts alive while no stream is open (see keepLayouts). */
  private dormantStreams: readonly object[] = [];
  /** Peer ids below `highestPeerId` whose OPEN has not arrived (lanes overtake each other). */
  private readonly skippedPeerIds = new Set<number>();
  private readonly early = new Map<number, Frame[]>();
  private earlyBytes = 0;

  /** On a stream link, keeps a frame for a peer stream not opened yet; true if kept. */
  private holdEarly(frame: Frame): boolean {
    if (frame.type === FrameType.Open || !('id' in frame) || frame.id === 0 || this.isLocalId(frame.id)) return false;
    const id = frame.id;
    if (id <= this.highestPeerId && !this.skippedPeerIds.has(id)) return false;
    let list = this.early.get(id);
    if (!list) {
      if (this.early.size >= this.options.maxUnclaimedStreams) {
        throw new ProtocolError('too many streams with frames ahead of their OPEN', { code: 'FLOW_CONTROL' });
      }
      this.early.set(id, (list = []));
    }
    this.earlyBytes += 'payload' in frame ? frame.payload.byteLength : 16;
    if (this.earlyBytes > this.options.sessionWindowBytes) {
      throw new ProtocolError('too many bytes ahead of their OPEN', { code: 'FLOW_CONTROL' });
    }
    list.push(frame);
    return true;
  }

  /** Accepts an OPEN id: in order on frame links; on stream links, any id not used before. */
  private acceptPeerId(id: number): void {
    if (this.isLocalId(id)) throw new ProtocolError(`OPEN with a stream id the peer may not use (${id})`, { code: 'BAD_FRAME' });
    if (id > this.highestPeerId) {
      if (this.unordered) {
        if (id - this.highestPeerId > 2 * this.options.maxUnclaimedStreams + 2) {
          throw new ProtocolError(`OPEN skips too many stream ids (${id})`, { code: 'BAD_FRAME' });
        }
        for (let skipped = this.highestPeerId + 2; skipped < id; skipped += 2) this.skippedPeerIds.add(skipped);
        // Ids burned by the peer's failed sends never open: forget the oldest beyond a bound.
        while (this.skippedPeerIds.size > 4 * this.options.maxUnclaimedStreams) {
          const oldest = this.skippedPeerIds.values().next().value as number;
          this.skippedPeerIds.delete(oldest);
        }
      }
      this.highestPeerId = id;
      return;
    }
    if (this.unordered && this.skippedPeerIds.delete(id)) return;
    throw new ProtocolError(`OPEN with a stream id the peer may not use (${id})`, { code: 'BAD_FRAME' });
  }

  /** Replays frames that arrived before this stream's OPEN. */
  private releaseEarly(id: number): void {
    const list = this.early.get(id);
    if (!list) return;
    this.early.delete(id);
    for (const frame of list) {
      this.earlyBytes -= 'payload' in frame ? frame.payload.byteLength : 16;
      this.handle(frame);
    }
  }

  private handle(frame: Frame): void {
    if (this.phase === Phase.Handshake || this.phase === Phase.Verifying) {
      if (frame.type === FrameType.GoAway && frame.error) {
        this.fail(new SessionClosedError('the peer refused the session', { cause: this.decodeReason(frame.reason) }));
        return;
      }
      if (frame.type !== FrameType.Hello || this.phase === Phase.Verifying) {
        throw new ProtocolError('the first frame must be HELLO', { code: 'BAD_HANDSHAKE' });
      }
      this.onHello(frame);
      return;
    }
    switch (frame.type) {
      case FrameType.Message:
      case FrameType.Bytes: {
        const stream = this.inStreamFor(frame.id);
        const n = frame.payload.byteLength;
        if (stream === undefined) {
          this.returnCredit(0, n); // data racing a reset: give the credit back
          return;
        }
        this.recvUnacked += n;
        if (this.recvUnacked > Math.max(this.options.sessionWindowBytes, this.options.maxMessageBytes)) {
          throw new ProtocolError('the peer exceeded the session window', { code: 'FLOW_CONTROL' });
        }
        stream.onData(frame.type, frame.type === FrameType.Message ? frame.flags : 0, frame.type === FrameType.Message ? frame.total : -1, frame.payload);
        return;
      }
      case FrameType.Credit: {
        if (frame.increment === 0) return;
        this.sendCredit += frame.increment;
        if (frame.id !== 0) this.outStreamFor(frame.id)?.onCredit(frame.increment);
        this.retryBlocked();
        return;
      }
      case FrameType.Window:
        if (frame.increment !== 0) this.outStreamFor(frame.id)?.onCredit(frame.increment);
        return;
      case FrameType.Open:
        this.onOpen(frame);
        if (this.early.size > 0) this.releaseEarly(frame.id);
        return;
      case FrameType.Close:
        this.inStreamFor(frame.id)?.onClose();
        return;
      case FrameType.Reset:
        this.inStreamFor(frame.id)?.onReset(this.decodeReason(frame.reason));
        return;
      case FrameType.Stop:
        this.outStreamFor(frame.id)?.onStop(this.decodeReason(frame.reason));
        return;
      case FrameType.Ping:
        this.writeControl(encodePing(FrameType.Pong, frame.data));
        return;
      case FrameType.Pong:
        return;
      case FrameType.GoAway:
        if (frame.error) {
          const reason = this.decodeReason(frame.reason);
          this.fail(new SessionClosedError('the peer aborted the session', { cause: reason }));
          return;
        }
        this.onGoAway(frame.lastId);
        return;
      case FrameType.Opens:
        this.openSlots += frame.count;
        return;
      case FrameType.Hello:
        throw new ProtocolError('HELLO after the handshake', { code: 'BAD_HANDSHAKE' });
    }
  }

  private onHello(frame: HelloFrame): void {
    if (frame.major !== PROTOCOL_MAJOR) {
      throw new ProtocolError(`peer speaks protocol ${frame.major}.${frame.minor}, this side ${PROTOCOL_MAJOR}.x`, { code: 'VERSION_MISMATCH' });
    }
    const l = frame.limits;
    if (l.maxMessageBytes < 1024 || l.initialWindowBytes < 1024 || l.sessionWindowBytes < 1024 || l.maxChannels < 1 || l.maxNestingDepth < 2 || l.maxPendingAccepts < 1) {
      throw new ProtocolError('peer announced unusable limits', { code: 'BAD_HANDSHAKE' });
    }
    const order = compareBytes(this.nonce, frame.nonce);
    if (order === 0) throw new ProtocolError('handshake nonces collide', { code: 'BAD_HANDSHAKE' });
    // The larger nonce takes odd stream ids, so symmetric links need no roles.
    this.nextLocalId = order > 0 ? -1 : 0;
    this.peerLimits = l;
    this.peerCapabilities = frame.capabilities;
    this.sendCredit = l.sessionWindowBytes;
    this.openSlots = l.maxPendingAccepts;
    this.peer.hello = this.codec.decode(frame.hello);
    if (this.verifyHello) {
      this.phase = Phase.Verifying;
      const refused = (cause?: unknown): void =>
        this.fail(
          new SessionClosedError('the session was refused', { cause: new ProtocolError('the server refused the handshake', { code: 'REFUSED_BY_PEER', cause }) }),
        );
      let verdict: boolean | Promise<boolean>;
      try {
        verdict = this.verifyHello(this.peer.hello);
      } catch (error) {
        refused(error);
        return;
      }
      Promise.resolve(verdict).then(
        (ok) => {
          if (this.phase !== Phase.Verifying) return;
          if (!ok) return refused();
          this.sendHello();
          this.open();
        },
        (error: unknown) => refused(error),
      );
      return;
    }
    this.open();
  }

  private open(): void {
    this.phase = Phase.Open;
    // The stream classes' layouts (see keepLayouts), per session: these need its limits.
    const dormantOut = new OutStream(this, 0, StreamKind.Channel, 0, true);
    this.dormantStreams = [new InStream(this, 0, StreamKind.Channel, 0, true), dormantOut, new RemoteSender(dormantOut, false)];
    clearTimeout(this.handshakeTimer);
    this.startKeepAlive();
    this.readySignal.resolve();
  }

  private onOpen(frame: OpenFrame): void {
    const { id, parent } = frame;
    this.acceptPeerId(id);
    if (this.peerOpened >= this.options.maxChannels) {
      throw new ProtocolError(`the peer opened more than maxChannels (${this.options.maxChannels})`, { code: 'FLOW_CONTROL' });
    }
    if (parent === 0) {
      if (frame.kind !== StreamKind.Channel || !frame.openerSends) throw new ProtocolError('a top-level stream must be a channel the opener sends on', { code: 'BAD_FRAME' });
      if (this.closing) {
        this.writeControl(encodeReset(FrameType.Stop, id, this.encodeReason(refusedError())));
        return;
      }
      if (this.pendingAccepts >= this.options.maxPendingAccepts) {
        throw new ProtocolError(`the peer opened more than maxPendingAccepts (${this.options.maxPendingAccepts})`, { code: 'FLOW_CONTROL' });
      }
      const stream = this.newIn(id, StreamKind.Channel, 0, false);
      stream.announced = true;
      stream.claimed = true;
      this.pendingAccepts++;
      this.acceptQueue.offer(stream);
      return;
    }
    const owner = this.streams.get(parent);
    if (owner === undefined) {
      if (!this.knownId(parent)) throw new ProtocolError(`OPEN names an unknown parent ${parent}`, { code: 'UNKNOWN_STREAM' });
      // The parent already ended here: its message will never be read.
      const type = frame.openerSends ? FrameType.Stop : FrameType.Reset;
      this.writeControl(encodeReset(type, id, this.encodeReason(new ChannelClosedError('unclaimed', { code: 'UNCLAIMED' }))));
      return;
    }
    if (!(owner instanceof InStream)) throw new ProtocolError(`OPEN with parent ${parent}, a stream the peer receives on`, { code: 'BAD_FRAME' });
    if (this.unclaimed >= this.options.maxUnclaimedStreams) {
      throw new ProtocolError(`more than maxUnclaimedStreams (${this.options.maxUnclaimedStreams}) announced streams wait for their message`, {
        code: 'FLOW_CONTROL',
      });
    }
    const stream = frame.openerSends ? this.newIn(id, frame.kind, parent, false) : this.newOut(id, frame.kind, parent, false);
    stream.announced = true;
    this.unclaimed++;
    owner.children.push(stream);
  }

  private knownId(id: number): boolean {
    return this.isLocalId(id) ? id <= this.nextLocalId : id <= this.highestPeerId && !this.skippedPeerIds.has(id);
  }

  private inStreamFor(id: number): InStream | undefined {
    const stream = this.streams.get(id);
    if (stream instanceof InStream) return stream;
    if (stream !== undefined) throw new ProtocolError(`frame for stream ${id}, on which the peer receives`, { code: 'BAD_FRAME' });
    if (!this.knownId(id)) throw new ProtocolError(`frame for unknown stream ${id}`, { code: 'UNKNOWN_STREAM' });
    return undefined;
  }

  private outStreamFor(id: number): OutStream | undefined {
    const stream = this.streams.get(id);
    if (stream instanceof OutStream) return stream;
    if (stream !== undefined) throw new ProtocolError(`frame for stream ${id}, on which the peer sends`, { code: 'BAD_FRAME' });
    if (!this.knownId(id)) throw new ProtocolError(`frame for unknown stream ${id}`, { code: 'UNKNOWN_STREAM' });
    return undefined;
  }

  private decodeReason(bytes: Uint8Array): unknown {
    if (bytes.byteLength === 0) return undefined;
    try {
      return this.codec.decode(bytes);
    } catch (error) {
      return new ProtocolError('the peer sent a malformed reason', { code: 'BAD_MESSAGE', cause: error });
    }
  }

  // ---- writing ----

  /** Round-robin over streams with data, one frame each, until the link pushes back. */
  private flush(): void {
    if (this.flushing) return;
    this.flushing = true;
    try {
      while (!this.paused && this.rr.length > 0) {
        const stream = this.rr.shift() as OutStream;
        stream.inRR = false;
        stream.writeNext();
        if (stream.hasData && stream.announced && !stream.inRR) {
          stream.inRR = true;
          this.rr.push(stream);
        }
      }
    } finally {
      this.flushing = false;
    }
  }

  private retryBlocked(): void {
    if (this.blocked.size === 0) return;
    for (const stream of [...this.blocked]) {
      if (!stream.retry()) this.blocked.delete(stream);
    }
  }

  // ---- lifecycle ----

  private startKeepAlive(): void {
    const interval = this.options.keepAliveMs;
    if (interval === 0) return;
    this.keepAliveTimer = setInterval(() => {
      if (this.framesReceived !== this.framesAtLastTick) {
        this.framesAtLastTick = this.framesReceived;
        this.idleTicks = 0;
        return;
      }
      if (++this.idleTicks > 2) {
        this.failProtocol(new ProtocolError(`peer silent for ${2 * interval} ms`, { code: 'KEEPALIVE_TIMEOUT' }));
        return;
      }
      const data = new Uint8Array(8);
      crypto.getRandomValues(data);
      this.writeControl(encodePing(FrameType.Ping, data));
    }, interval);
    unrefTimer(this.keepAliveTimer);
  }

  private checkUsable(): void {
    if (this.failure !== undefined) throw this.failure;
    if (this.closing || this.phase === Phase.Closed) throw new SessionClosedError('the session is closing');
  }

  private refuseQueued(): void {
    for (;;) {
      const stream = this.acceptQueue.poll();
      if (typeof stream !== 'object') break;
      this.pendingAccepts--;
      stream.stop(refusedError());
    }
    this.acceptQueue.abort(new SessionClosedError('the session is closing'));
  }

  private sendGoAway(): void {
    if (this.goAwaySent) return;
    this.goAwaySent = true;
    this.writeControl(encodeGoAway(this.lastAcceptedId, false, new Uint8Array(0)));
  }

  private onGoAway(lastId: number): void {
    this.peerGoingAway = true;
    for (const stream of [...this.streams.values()]) {
      if (stream instanceof OutStream && stream.parent === 0 && stream.openedHere && stream.id > lastId) stream.onStop(refusedError());
    }
    this.maybeFinish();
  }

  private maybeFinish(): void {
    if ((this.closing || this.peerGoingAway) && this.streams.size === 0 && this.phase === Phase.Open) this.finishClean();
  }

  private finishClean(): void {
    if (this.phase >= Phase.Closed) return;
    // Once our HELLO is out the peer may already be open: tell it we are going, so its end is clean too.
    if (this.helloBytes === undefined) this.sendGoAway();
    this.phase = Phase.Closed;
    this.stopTimers();
    this.acceptQueue.abort(new SessionClosedError('the session is closed'));
    this.readySignal.reject(new SessionClosedError('the session closed before its handshake'));
    if (this.linkOpen) {
      this.linkOpen = false;
      this.link.close();
    }
    this.closedSignal.resolve();
    for (const w of this.closeWaiters.splice(0)) w.resolve();
  }

  private onLinkEnd(error: unknown): void {
    this.linkOpen = false;
    if (this.phase >= Phase.Closed) return;
    if (error === undefined && (this.closing || this.peerGoingAway)) {
      // An orderly end after GOAWAY: what already arrived is still delivered.
      for (const stream of [...this.streams.values()]) {
        if (stream instanceof InStream && stream.isDraining) continue;
        stream.fail(new SessionClosedError('the session closed', {}));
        this.streams.delete(stream.id);
      }
      this.closing = true; // finishes once the draining streams are done
      if (this.streams.size === 0) this.finishClean();
      return;
    }
    this.fail(new SessionClosedError(error === undefined ? 'the link closed' : 'the link failed', error === undefined ? {} : { cause: error }));
  }

  private failProtocol(error: unknown): void {
    const cause = error instanceof ProtocolError ? error : new ProtocolError(String((error as Error)?.message ?? error), { cause: error });
    this.fail(new SessionClosedError(`protocol error: ${cause.message}`, { cause, code: 'PROTOCOL_ERROR' }), cause);
  }

  /** Ends the session: tells the peer why (if the link still works), closes the link, settles everything. */
  private fail(error: SessionClosedError, reason: unknown = error.cause): void {
    if (this.phase >= Phase.Closed) return;
    this.phase = Phase.Failed;
    this.failure = error;
    this.stopTimers();
    if (this.linkOpen) {
      try {
        this.link.send(encodeGoAway(this.highestPeerId, true, this.encodeReason(reason)));
      } catch {
        // the link may already be broken
      }
      this.linkOpen = false;
      this.link.close(error);
    }
    for (const stream of this.streams.values()) stream.fail(error);
    this.streams.clear();
    this.blocked.clear();
    this.acceptQueue.abort(error);
    this.readySignal.reject(error);
    this.closedSignal.reject(error);
    for (const w of this.closeWaiters.splice(0)) w.reject(error);
  }

  private stopTimers(): void {
    clearTimeout(this.creditTimer);
    clearTimeout(this.handshakeTimer);
    clearInterval(this.keepAliveTimer);
  }
}

function refusedError(): ChannelClosedError {
  return new ChannelClosedError('the session is closing: the channel was refused (safe to retry elsewhere)', { code: 'REFUSED' });
}

function checkTransferable(kind: RefKind, object: object): void {
  switch (kind) {
    case 'sender':
    case 'receiver':
      if ((object as AbstractSender<unknown> | AbstractReceiver<unknown>)[kIsTransferred]) {
        throw new TypeError(`this ${kind === 'sender' ? 'Sender' : 'Receiver'} was already transferred`);
      }
      return;
    case 'readable':
    case 'writable':
      if ((object as ReadableStream | WritableStream).locked) throw new TypeError(`a locked ${kind === 'readable' ? 'ReadableStream' : 'WritableStream'} cannot be sent`);
  }
}
