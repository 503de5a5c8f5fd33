// @ts-self-types="./out-stream.d.ts"

/**
 * One sub-stream this side sends on: its credit window, the sends waiting
 * for credit, the admitted data waiting for the link, and its end (CLOSE,
 * RESET, or the peer's STOP). A send is "committed" once admitted: that is
 * when `Sender.send()` resolves.
 */
import { handledPromise } from '../channel/ends.js';
import { MAX_BYTES_FRAME_PAYLOAD, MAX_FRAME_PAYLOAD } from '../config.js';
import { Queue } from '../channel/queue.js';
import { ChannelClosedError, unclaimedError } from '../errors.js';
import {
  encodeClose,
  encodeReset,
  FrameType,
  MessageFlag,
  StreamKind,
  writeDataHeaderBefore,
} from './frames.js';
import type { Child, StreamHost, StreamSnapshot } from './host.js';
import { EndWaiters, RESOLVED } from '../channel/waiters.js';


interface Waiting {
  /** The user's end that is waiting: held so the garbage collector cannot reset it meanwhile. */
  owner: object | undefined;
  bytes: Uint8Array;
  offset: number;
  size: number;
  children: Child[] | undefined;
  resolve(): void;
  reject(reason: unknown): void;
  signal: AbortSignal | undefined;
  onAbort: (() => void) | undefined;
}

interface Outgoing {
  bytes: Uint8Array;
  offset: number;
  size: number;
  /** Payload bytes already written. */
  sent: number;
  /** Streams this message names, announced (OPEN) right before its first frame. */
  children: Child[] | undefined;
}

/** A CLOSE queued behind the data. */
const CLOSE_MARK: Outgoing = { bytes: new Uint8Array(0), offset: 0, size: 0, sent: 0, children: undefined };

const enum State {
  Open,
  Closing,
  Closed,
  Stopped,
  Reset,
  Failed,
}

export class OutStream implements Child {
  readonly sendsHere = true as const;
  credit: number;
  readonly window: number;
  /** OPEN is on the wire (frames may follow). */
  announced = false;
  /** In the session's round-robin queue. */
  inRR = false;
  endFrame: Uint8Array | undefined;
  /** Counted against the opener's channel limit until a terminal frame. */
  counted = true;
  /** The user-facing end was created (a Sender or WritableStream). */
  bound = false;
  /** For streams the peer opened: the naming message has been decoded. */
  claimed: boolean;
  private state = State.Open;
  private readonly waiting: Waiting[] = [];
  private readonly outbox = new Queue<Outgoing>();
  /** Who waits for the close and who is hooked to a STOP: made when the first comes (a Ret has neither). */
  private ends: EndWaiters | undefined;
  readonly closed = handledPromise();
  /** Bytes written on this stream and messages admitted (for the inspector). */
  messages = 0;
  bytesSent = 0;

  constructor(
    readonly host: StreamHost,
    readonly id: number,
    readonly kind: StreamKind,
    readonly parent: number,
    readonly openedHere: boolean,
  ) {
    this.window = host.peerLimits.initialWindowBytes;
    this.credit = this.window;
    this.claimed = openedHere;
  }

  snapshot(): StreamSnapshot {
    const states: Record<State, StreamSnapshot['state']> = {
      [State.Open]: 'open',
      [State.Closing]: 'closing',
      [State.Closed]: 'ended',
      [State.Stopped]: 'ended',
      [State.Reset]: 'ended',
      [State.Failed]: 'ended',
    };
    return {
      id: this.id,
      parent: this.parent,
      kind: this.kind === StreamKind.Channel ? 'channel' : 'bytes',
      direction: 'send',
      openedBy: this.openedHere ? 'local' : 'peer',
      state: states[this.state],
      messages: this.messages,
      bytes: this.bytesSent,
      window: this.window,
      credit: this.credit,
      buffered: this.waiting.reduce((n, w) => n + w.size, 0),
    };
  }

  get isOpen(): boolean {
    return this.state === State.Open;
  }

  get hasData(): boolean {
    return this.outbox.length > 0;
  }

  /** Encodes and queues a value (channel streams). */
  sendValue(value: unknown, signal?: AbortSignal, owner?: object): Promise<void> {
    if (this.state !== State.Open) return Promise.reject(this.sendError());
    if (signal?.aborted) return Promise.reject(signal.reason);
    let prepared;
    try {
      prepared = this.host.prepareMessage(value, this.id);
    } catch (error) {
      return Promise.reject(error);
    }
    this.messages++;
    return this.enqueue(prepared.bytes, prepared.offset, prepared.size, prepared.children, signal, owner);
  }

  /** Queues raw bytes (byte streams), split into frames of at most 64 KiB. */
  sendBytes(chunk: Uint8Array, copy: boolean): Promise<void> {
    if (this.state !== State.Open) return Promise.reject(this.sendError());
    if (copy) chunk = new Uint8Array(chunk); // a real copy even for a Node Buffer
    let last: Promise<void> = RESOLVED;
    // A piece never exceeds the peer's windows: one that did could only go while a window is
    // fully open, and would then pass what the peer lets a stream or the session owe.
    const limits = this.host.peerLimits;
    const pieceSize = Math.min(MAX_BYTES_FRAME_PAYLOAD, limits.initialWindowBytes, limits.sessionWindowBytes);
    for (let o = 0; o < chunk.byteLength; o += pieceSize) {
      const piece = chunk.subarray(o, Math.min(o + pieceSize, chunk.byteLength));
      // Only the last piece's promise is returned; the others settle the same way and must not go unhandled.
      last.catch(() => {});
      last = this.enqueue(piece, 0, piece.byteLength, undefined, undefined, undefined);
    }
    return last;
  }

  private enqueue(
    bytes: Uint8Array,
    offset: number,
    size: number,
    children: Child[] | undefined,
    signal: AbortSignal | undefined,
    owner: object | undefined,
  ): Promise<void> {
    if (this.waiting.length === 0 && this.canAdmit(size)) {
      this.admit(bytes, offset, size, children);
      return RESOLVED;
    }
    return new Promise<void>((resolve, reject) => {
      const w: Waiting = { owner, bytes, offset, size, children, resolve, reject, signal, onAbort: undefined };
      if (signal) {
        w.onAbort = () => {
          const i = this.waiting.indexOf(w);
          if (i < 0) return;
          this.waiting.splice(i, 1);
          resetChildren(children, signal.reason);
          reject(signal.reason);
          this.afterWaitingShrunk();
        };
        signal.addEventListener('abort', w.onAbort, { once: true });
      }
      this.waiting.push(w);
      this.host.blockedOnCredit(this);
    });
  }

  /**
   * A message fits when it fits the stream's and the session's credit, or
   * when a window is fully open (so a message larger than the window can
   * still go, one at a time, up to maxMessageBytes).
   */
  private canAdmit(size: number): boolean {
    const host = this.host;
    return (
      (size <= this.credit || this.credit >= this.window) &&
      (size <= host.sendCredit || host.sendCredit >= host.peerLimits.sessionWindowBytes)
    );
  }

  private admit(bytes: Uint8Array, offset: number, size: number, children: Child[] | undefined): void {
    this.credit -= size;
    this.host.sendCredit -= size;
    this.outbox.push({ bytes, offset, size, sent: 0, children });
    this.host.schedule(this);
  }

  /** Credit arrived (for this stream or the session): admit what now fits. Returns true if still blocked. */
  retry(): boolean {
    while (this.waiting.length > 0) {
      const w = this.waiting[0] as Waiting;
      if (!this.canAdmit(w.size)) return true;
      this.waiting.shift();
      if (w.onAbort) w.signal?.removeEventListener('abort', w.onAbort);
      this.admit(w.bytes, w.offset, w.size, w.children);
      w.resolve();
    }
    this.afterWaitingShrunk();
    return false;
  }

  onCredit(increment: number): void {
    this.credit += increment;
    if (this.waiting.length > 0) this.retry();
  }

  private afterWaitingShrunk(): void {
    if (this.state === State.Closing && this.waiting.length === 0) {
      this.outbox.push(CLOSE_MARK);
      this.host.schedule(this);
    }
  }

  /** Lets queued sends go, then sends CLOSE; resolves when CLOSE is written. */
  close(): Promise<void> {
    switch (this.state) {
      case State.Open: {
        this.state = State.Closing;
        this.afterWaitingShrunk();
        const now = this.state as State; // writing the CLOSE (or failing to) moved it on
        // Nothing queued and the link took the CLOSE (a Ret answered): no promise to make.
        if (now === State.Closed) return RESOLVED;
        return now === State.Closing ? this.waitClose() : this.close();
      }
      case State.Closing:
        return this.waitClose();
      case State.Reset:
      case State.Failed:
        return this.closed.promise;
      default:
        return RESOLVED;
    }
  }

  private waitClose(): Promise<void> {
    return (this.ends ??= new EndWaiters()).wait();
  }

  /** Local abort: drops what is queued, sends RESET with the reason. */
  reset(reason: unknown): void {
    if (this.state !== State.Open && this.state !== State.Closing) return;
    this.state = State.Reset;
    this.dropQueued(reason, reason);
    const frame = encodeReset(FrameType.Reset, this.id, this.host.encodeReason(reason));
    if (this.announced) {
      this.host.writeControl(frame);
      this.host.endLane(this.id, 'reset');
    } else this.endFrame = frame; // goes out right after the OPEN, so the peer still sees the abort
    this.host.uncount(this);
    this.ends?.settle(true, reason);
    this.closed.reject(reason);
    this.finish();
  }

  /** The peer's receiver stopped the channel (STOP), with its reason. */
  onStop(reason: unknown): void {
    if (this.state !== State.Open && this.state !== State.Closing) return;
    this.state = State.Stopped;
    this.stopReason = reason;
    this.host.uncount(this);
    this.dropQueued(this.sendError(), undefined);
    // A native lane ends after what was written (the receiver reads it to the end).
    if (this.announced) this.host.endLane(this.id, 'close');
    this.ends?.settle(false);
    this.closed.resolve();
    this.ends?.runHooks(reason);
    this.finish();
  }
  private stopReason: unknown;

  addStopHook(hook: (reason: unknown) => void): void {
    if (this.state === State.Stopped) hook(this.stopReason);
    else (this.ends ??= new EndWaiters()).hook(hook);
  }

  /** Its naming message was dropped undelivered. */
  drop(_reason: unknown): void {
    const error = unclaimedError();
    if (this.state === State.Open || this.state === State.Closing) {
      if (this.announced) {
        this.host.writeControl(encodeReset(FrameType.Reset, this.id, this.host.encodeReason(error)));
        this.host.endLane(this.id, 'reset');
      }
      this.host.uncount(this);
    }
    this.fail(error);
  }

  /** The session ended under this stream. */
  fail(error: unknown): void {
    if (this.state === State.Closed || this.state === State.Stopped || this.state === State.Reset || this.state === State.Failed) return;
    this.state = State.Failed;
    this.failure = error;
    this.dropQueued(error, error);
    this.ends?.settle(true, error);
    this.closed.reject(error);
    this.ends?.runHooks(error);
    this.finish();
  }
  private failure: unknown;


  private dropQueued(sendError: unknown, childReason: unknown): void {
    for (const w of this.waiting.splice(0)) {
      if (w.onAbort) w.signal?.removeEventListener('abort', w.onAbort);
      resetChildren(w.children, childReason);
      w.reject(sendError);
    }
    // Unwritten messages: their children were never announced (or only partly sent), so reset them.
    let unsent = 0;
    for (const o of this.outbox.drain()) {
      if (o === CLOSE_MARK) continue;
      resetChildren(o.children, childReason);
      unsent += o.size - o.sent;
    }
    // Admitted bytes that never went out took session credit the peer will never return.
    if (unsent > 0) this.host.restoreCredit(unsent);
  }

  private finish(): void {
    this.host.streamDone(this);
  }

  sendError(): unknown {
    switch (this.state) {
      case State.Stopped: {
        const reason = this.stopReason;
        // Resets that name their cause on both sides keep their code.
        if (reason instanceof ChannelClosedError && (reason.code === 'REFUSED' || reason.code === 'UNCLAIMED' || reason.code === 'GONE')) return reason;
        return new ChannelClosedError('the receiver closed the channel', reason === undefined ? { code: 'RECEIVER_CLOSED' } : { code: 'RECEIVER_CLOSED', cause: reason });
      }
      case State.Failed:
        return this.failure;
      case State.Reset:
        return new ChannelClosedError('send on an aborted channel', { code: 'ABORTED' });
      default:
        return new ChannelClosedError('send on a closed channel', { code: 'CLOSED' });
    }
  }

  /** Writes this stream's next frame (the scheduler calls it round-robin). */
  writeNext(): void {
    const head = this.outbox.peek();
    if (head === undefined) return;
    const host = this.host;
    if (head === CLOSE_MARK) {
      this.outbox.shift();
      this.state = State.Closed;
      host.writeData(encodeClose(this.id), this.id);
      host.endLane(this.id, 'close');
      host.uncount(this);
      this.ends?.settle(false);
      this.closed.resolve();
      this.finish();
      return;
    }
    if (head.sent === 0 && head.children) {
      for (const child of head.children) host.announce(child, this.id);
      head.children = undefined;
    }
    const type = this.kind === StreamKind.Channel ? FrameType.Message : FrameType.Bytes;
    // A byte chunk was split into frame-sized pieces by sendBytes: each goes whole.
    if (head.sent === 0 && (head.size <= MAX_FRAME_PAYLOAD || type === FrameType.Bytes)) {
      head.sent = head.size;
      this.outbox.shift();
      if (head.offset >= 16) {
        const start = writeDataHeaderBefore(head.bytes, head.offset, type, this.id);
        const frame = head.bytes.subarray(start, head.offset + head.size);
        this.bytesSent += frame.byteLength;
        host.writeData(frame, this.id);
      } else {
        this.bytesSent += host.writeDataCopying(type, this.id, head.bytes.subarray(head.offset, head.offset + head.size));
      }
      return;
    }
    const n = Math.min(MAX_FRAME_PAYLOAD, head.size - head.sent);
    const payload = head.bytes.subarray(head.offset + head.sent, head.offset + head.sent + n);
    const more = head.sent + n < head.size;
    const first = head.sent === 0;
    head.sent += n;
    if (head.sent === head.size) this.outbox.shift();
    this.bytesSent += host.writeDataCopying(type, this.id, payload, (more ? MessageFlag.More : 0) | (first ? MessageFlag.Start : 0), first ? head.size : -1);
  }
}

/** Resets the streams a dropped message would have carried (nobody will ever claim them). */
export function resetChildren(children: Child[] | undefined, reason: unknown): void {
  if (!children) return;
  for (const child of children) child.drop(reason);
}
