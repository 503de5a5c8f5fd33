// @ts-self-types="./in-stream.d.ts"

/**
 * One sub-stream this side receives on: reassembles messages, decodes them,
 * delivers values (or byte chunks) to their target one at a time, and
 * returns credit only as the target takes them, so a receiver that stops
 * reading stops its sender after one window.
 */
import type { StandardSchemaV1 } from '@standard-schema/spec';
import { AbstractSender, kOffer, kOnStop } from '../channel/ends.js';
import { PipeCore, PipeReceiver, PipeSender } from '../channel/pipe.js';
import { Queue } from '../channel/queue.js';
import type { Receiver } from '../channel/types.js';
import { disposeValue } from '../channel/unclaimed.js';
import { RESOLVED } from '../channel/waiters.js';
import { MAX_STREAM_WINDOW_SHARE } from '../config.js';
import { ProtocolError, unclaimedError } from '../errors.js';
import { encodeReset, FrameType, MessageFlag, StreamKind } from './frames.js';
import type { Child, StreamHost, StreamSnapshot } from './host.js';

type Target =
  | { type: 'channel'; sender: AbstractSender<unknown> }
  | { type: 'readable'; controller: ReadableStreamDefaultController<Uint8Array>; pull: (() => void) | undefined }
  | { type: 'writer'; writer: WritableStreamDefaultWriter<Uint8Array> };

interface Item {
  value: unknown;
  size: number;
}

const enum State {
  Open,
  /** CLOSE arrived; what is queued is still delivered. */
  PeerClosed,
  /** RESET arrived before the user end existed; applied when it does. */
  PeerReset,
  Done,
}

export interface InStreamDecoder {
  /** Decodes a complete message of stream `stream` (claiming the streams it names). */
  decodeMessage(payload: Uint8Array, stream: InStream): unknown;
  /** `bytes` more were consumed from `stream` and wait to go back as credit. */
  creditPending(stream: InStream, bytes: number): void;
  /** `stream` ended with `bytes` consumed and not yet returned. */
  creditEnded(stream: InStream, bytes: number): void;
  /** Session-wide bytes received and not yet returned. */
  recvUnacked: number;
  /** Session-wide bytes consumed and not yet returned. */
  unreturned: number;
}

function flowControlError(message: string): ProtocolError {
  return new ProtocolError(message, { code: 'FLOW_CONTROL' });
}

export class InStream implements Child {
  readonly sendsHere = false as const;
  announced = false;
  endFrame: Uint8Array | undefined;
  counted = true;
  claimed: boolean;
  bound = false;
  /** Set by `accept({ schema })`: every value is validated before delivery. */
  schema: StandardSchemaV1 | undefined;
  /** Streams the peer opened that a message of this stream will name. */
  readonly children: Child[] = [];
  private state = State.Open;
  private resetReason: unknown;
  /** The credit this stream grants (grows for a byte stream whose reader keeps up). */
  private window: number;
  /** How far the window may grow (the initial window for channels, or when the peer cannot grow it). */
  private maxWindow: number;
  private maxOutstanding: number;
  /** The reader waited on an empty queue since the window last had a chance to grow. */
  private starved = false;
  private unacked = 0;
  private toReturn = 0;
  creditScheduled = false;
  private assembling: Uint8Array | null = null;
  private assembled = 0;
  private readonly queue = new Queue<Item>();
  private target: Target | undefined;
  private delivering = false;
  messages = 0;
  bytesReceived = 0;

  constructor(
    readonly host: StreamHost & InStreamDecoder,
    readonly id: number,
    readonly kind: StreamKind,
    readonly parent: number,
    readonly openedHere: boolean,
  ) {
    this.window = host.options.initialWindowBytes;
    this.maxWindow = kind === StreamKind.Bytes ? Math.max(this.window, Math.floor(host.options.sessionWindowBytes * MAX_STREAM_WINDOW_SHARE)) : this.window;
    this.maxOutstanding = Math.max(this.window, host.options.maxMessageBytes);
    this.claimed = openedHere;
  }

  snapshot(): StreamSnapshot {
    return {
      id: this.id,
      parent: this.parent,
      kind: this.kind === StreamKind.Channel ? 'channel' : 'bytes',
      direction: 'receive',
      openedBy: this.openedHere ? 'local' : 'peer',
      state: this.state === State.Open ? 'open' : this.state === State.PeerClosed ? 'draining' : 'ended',
      messages: this.messages,
      bytes: this.bytesReceived,
      window: this.window,
      buffered: this.buffered,
    };
  }

  get isDone(): boolean {
    return this.state === State.Done;
  }

  /** The peer closed; values that already arrived are still being delivered. */
  get isDraining(): boolean {
    return this.state === State.PeerClosed && this.target !== undefined;
  }

  /** Bytes buffered here, received but not yet taken by the target. */
  get buffered(): number {
    return this.unacked - this.toReturn;
  }

  // ---- frames from the peer ----

  onData(type: number, flags: number, total: number, payload: Uint8Array): void {
    const n = payload.byteLength;
    this.unacked += n;
    this.bytesReceived += n;
    if (this.unacked > this.maxOutstanding) throw flowControlError(`stream ${this.id} exceeded its window`);
    if (this.state !== State.Open) {
      if (this.state === State.PeerClosed) throw new ProtocolError(`data after CLOSE on stream ${this.id}`, { code: 'BAD_FRAME' });
      // Reset or stopped here: the bytes are dropped, their credit goes back.
      this.unacked -= n;
      this.host.returnCredit(0, n);
      return;
    }
    if (this.kind === StreamKind.Bytes) {
      if (type !== FrameType.Bytes) throw new ProtocolError('MESSAGE on a byte stream', { code: 'BAD_FRAME' });
      // Links hand over frame buffers for good (see link.ts), so the chunk is a view, not a copy.
      this.queue.push({ value: payload, size: n });
      this.deliver();
      return;
    }
    if (type !== FrameType.Message) throw new ProtocolError('BYTES on a channel', { code: 'BAD_FRAME' });
    if (this.assembling === null) {
      if ((flags & MessageFlag.More) === 0) {
        this.complete(payload, n);
        return;
      }
      if (total > this.host.options.maxMessageBytes) {
        throw new ProtocolError(`message of ${total} bytes exceeds maxMessageBytes`, { code: 'FLOW_CONTROL' });
      }
      if (total <= n) throw new ProtocolError('fragmented message shorter than its first fragment', { code: 'BAD_FRAME' });
      this.assembling = new Uint8Array(total);
      this.assembling.set(payload, 0);
      this.assembled = n;
      return;
    }
    if (flags & MessageFlag.Start) throw new ProtocolError('new message before the previous one ended', { code: 'BAD_FRAME' });
    if (this.assembled + n > this.assembling.byteLength) throw new ProtocolError('message longer than announced', { code: 'BAD_FRAME' });
    this.assembling.set(payload, this.assembled);
    this.assembled += n;
    if ((flags & MessageFlag.More) === 0) {
      const whole = this.assembling;
      this.assembling = null;
      if (this.assembled !== whole.byteLength) throw new ProtocolError('message shorter than announced', { code: 'BAD_FRAME' });
      this.complete(whole, whole.byteLength);
    }
  }

  private complete(payload: Uint8Array, size: number): void {
    const value = this.host.decodeMessage(payload, this);
    this.messages++;
    // Taken at once by a waiting receive (a reply into its Ret): no queue entry.
    const t = this.target;
    if (this.queue.length === 0 && t?.type === 'channel' && this.schema === undefined && !this.delivering && this.state !== State.Done && t.sender[kOffer](value)) {
      this.consumed(size);
      return;
    }
    this.queue.push({ value, size });
    this.deliver();
  }

  onClose(): void {
    if (this.state !== State.Open) return;
    if (this.assembling !== null) throw new ProtocolError(`CLOSE in the middle of a message on stream ${this.id}`, { code: 'BAD_FRAME' });
    this.host.uncount(this);
    this.state = State.PeerClosed;
    this.deliver();
  }

  onReset(reason: unknown): void {
    if (this.state === State.Done || this.state === State.PeerReset) return;
    this.host.uncount(this);
    this.dropQueue();
    if (this.target === undefined) {
      this.state = State.PeerReset;
      this.resetReason = reason;
      return;
    }
    this.abortTarget(reason);
    this.end();
  }

  // ---- local events ----

  /** The local receiver stopped (or its target failed): tell the peer, drop what is queued. */
  stop(reason: unknown): void {
    if (this.state === State.Done) return;
    const wasOpen = this.state === State.Open;
    this.dropQueue();
    if (wasOpen) {
      const frame = encodeReset(FrameType.Stop, this.id, this.host.encodeReason(reason));
      if (this.announced || !this.openedHere) {
        this.host.writeControl(frame);
        this.host.endLane(this.id, 'stop');
      } else this.endFrame = frame; // goes out right after the OPEN
    }
    if (wasOpen) this.host.uncount(this);
    this.end();
  }

  /** Its naming message was dropped undelivered. */
  drop(_reason: unknown): void {
    if (this.state === State.Done) return;
    const error = unclaimedError();
    this.abortTarget(error);
    this.stop(error);
  }

  /** The session ended under this stream. */
  fail(error: unknown): void {
    if (this.state === State.Done) return;
    this.dropQueue();
    this.abortTarget(error);
    this.state = State.Done;
  }

  // ---- targets ----

  /** A fresh Receiver fed by this stream. */
  makeReceiver(): Receiver<unknown> {
    const core = new PipeCore<unknown>(0);
    this.attachSender(new PipeSender(core, false));
    return new PipeReceiver(core);
  }

  /** Delivers into an existing Sender (a transferred one, or one of another session: forwarding). */
  attachSender(sender: AbstractSender<unknown>): void {
    sender[kOnStop]((reason) => this.stop(reason));
    this.attach({ type: 'channel', sender });
  }

  makeReadable(): ReadableStream<Uint8Array> {
    let target: Extract<Target, { type: 'readable' }> | undefined;
    return new ReadableStream<Uint8Array>(
      {
        start: (controller) => {
          target = { type: 'readable', controller, pull: undefined };
          this.attach(target);
        },
        pull: () =>
          new Promise<void>((resolve) => {
            if (target) target.pull = resolve;
            this.deliver();
          }),
        cancel: (reason) => this.stop(reason),
      },
      { highWaterMark: 0 },
    );
  }

  attachWriter(writer: WritableStreamDefaultWriter<Uint8Array>): void {
    writer.closed.catch((error: unknown) => this.stop(error));
    this.attach({ type: 'writer', writer });
  }

  private attach(target: Target): void {
    this.target = target;
    this.bound = true;
    if (this.state === State.PeerReset) {
      this.abortTarget(this.resetReason);
      this.end();
      return;
    }
    if (this.state === State.Done) {
      this.abortTarget(unclaimedError());
      return;
    }
    this.deliver();
  }

  private deliver(): void {
    const t = this.target;
    if (t === undefined || this.delivering) return;
    while (this.queue.length > 0 && this.state !== State.Done) {
      if (t.type === 'channel') {
        const item = this.queue.shift() as Item;
        if (this.schema) {
          this.validateThenSend(t.sender, item);
          return;
        }
        if (t.sender[kOffer](item.value)) {
          this.consumed(item.size);
          continue;
        }
        this.sendAndContinue(t.sender, item, item.value);
        return;
      }
      if (t.type === 'readable') {
        if (t.pull === undefined) return;
        const item = this.queue.shift() as Item;
        t.controller.enqueue(item.value as Uint8Array);
        const pull = t.pull;
        t.pull = undefined;
        this.consumed(item.size);
        pull();
        return;
      }
      const item = this.queue.shift() as Item;
      this.awaitDelivery(t.writer.write(item.value as Uint8Array), item);
      return;
    }
    if (this.queue.length === 0) {
      if (this.state === State.PeerClosed) this.finishClean(t);
      // The reader asked for more than has arrived: the window (or the link) holds it back.
      else if (t.type !== 'channel' && (t.type !== 'readable' || t.pull !== undefined)) this.starved = true;
    }
  }

  private sendAndContinue(sender: AbstractSender<unknown>, item: Item, value: unknown): void {
    // A pipe reports its receiver closing through kOnStop; a rejection here is a failed forward.
    this.awaitDelivery(sender.send(value), item, () => disposeValue(value));
  }

  /** One delivery at a time: its credit goes back when the target took it; a failure stops the stream. */
  private awaitDelivery(taken: Promise<void>, item: Item, onFail?: () => void): void {
    this.delivering = true;
    taken.then(
      () => {
        this.delivering = false;
        this.consumed(item.size);
        this.deliver();
      },
      (error: unknown) => {
        this.delivering = false;
        onFail?.();
        this.stop(error);
      },
    );
  }

  private validateThenSend(sender: AbstractSender<unknown>, item: Item): void {
    const schema = this.schema as StandardSchemaV1;
    const onResult = (result: StandardSchemaV1.Result<unknown>): void => {
      if (this.state === State.Done) return;
      if (result.issues) {
        const error = new ProtocolError(`value failed the schema: ${result.issues.map((i) => i.message).join('; ')}`, {
          code: 'SCHEMA',
          cause: result.issues.map((i) => ({ message: i.message, path: i.path?.map((p) => (typeof p === 'object' ? p.key : p)) })),
        });
        disposeValue(item.value);
        this.abortTarget(error);
        this.stop(error);
        return;
      }
      this.sendAndContinue(sender, item, result.value);
    };
    let result: StandardSchemaV1.Result<unknown> | Promise<StandardSchemaV1.Result<unknown>>;
    try {
      result = schema['~standard'].validate(item.value);
    } catch (error) {
      onResult({ issues: [{ message: String((error as Error)?.message ?? error) }] });
      return;
    }
    if (result instanceof Promise) {
      this.delivering = true;
      result.then(
        (r) => {
          this.delivering = false;
          onResult(r);
        },
        (error: unknown) => {
          this.delivering = false;
          onResult({ issues: [{ message: String((error as Error)?.message ?? error) }] });
        },
      );
    } else {
      onResult(result);
    }
  }

  private finishClean(t: Target): void {
    this.state = State.Done;
    if (t.type === 'channel') {
      // Closing a pipe is done at once (a Ret's): no handler, no promise to make.
      const closing = t.sender.close();
      if (closing !== RESOLVED) closing.catch(() => {});
    }
    else if (t.type === 'readable') {
      t.controller.close();
      const pull = t.pull;
      t.pull = undefined;
      pull?.();
    } else t.writer.close().catch(() => {});
    this.handOverCredit();
    this.host.streamDone(this);
  }

  private abortTarget(reason: unknown): void {
    const t = this.target;
    if (t === undefined) return;
    if (t.type === 'channel') t.sender.abort(reason);
    else if (t.type === 'readable') {
      try {
        t.controller.error(reason);
      } catch {
        // already closed or errored
      }
      const pull = t.pull;
      t.pull = undefined;
      pull?.();
    } else t.writer.abort(reason).catch(() => {});
  }

  private consumed(n: number): void {
    this.toReturn += n;
    if (this.state === State.Done) {
      // Taken after the stream ended (the last value of a Ret): the session's credit alone.
      this.host.unreturned += n;
      this.handOverCredit();
    } else if (this.toReturn >= this.window / 2) {
      this.host.unreturned += n;
      this.flushCredit(true);
      this.growWindow();
    } else this.host.creditPending(this, n);
  }

  /**
   * Half a window was read: if the reader waited for data meanwhile (it is
   * faster than what arrives), the window doubles, up to `maxWindow`. One
   * window per round trip is what limits a byte stream on a fast link; a
   * reader that falls behind never waits, so its window stays and a stalled
   * stream holds at most that. Only byte streams grow: their frames never
   * exceed the credit, while a channel may send one message larger than the
   * window.
   */
  private growWindow(): void {
    const starved = this.starved;
    this.starved = false;
    if (!starved || this.window >= this.maxWindow) return;
    const extra = Math.min(this.window, this.maxWindow - this.window);
    if (!this.host.growWindow(this.id, extra)) {
      this.maxWindow = this.window;
      return;
    }
    this.window += extra;
    this.maxOutstanding = Math.max(this.window, this.host.options.maxMessageBytes);
  }

  /**
   * Sends the consumed bytes back as credit (stream and session). `urgent` (half a window
   * is back): the sender may have stopped for it, so the link sends it now rather than at
   * the end of this task — a task that can go on reading the rest of the window first.
   */
  flushCredit(urgent = false): void {
    this.creditScheduled = false;
    if (this.toReturn === 0) return;
    const n = this.toReturn;
    this.toReturn = 0;
    this.unacked -= n;
    this.host.recvUnacked -= n;
    this.host.unreturned -= n;
    this.host.returnCredit(this.state === State.Done ? 0 : this.id, n, urgent);
  }

  private dropQueue(): void {
    this.assembling = null;
    const items = this.queue.drain();
    for (const item of items) disposeValue(item.value);
    // Everything still unacknowledged will never be consumed: give it back to the session.
    if (this.unacked > 0) {
      this.host.recvUnacked -= this.unacked;
      this.host.unreturned -= this.toReturn;
      this.host.returnCredit(0, this.unacked);
      this.unacked = 0;
      this.toReturn = 0;
    }
  }

  private end(): void {
    this.state = State.Done;
    this.handOverCredit();
    this.host.streamDone(this);
  }

  /** Ended: credit not yet returned is the session's alone, and the session sends it without this stream. */
  private handOverCredit(): void {
    if (this.toReturn === 0) return;
    const n = this.toReturn;
    this.toReturn = 0;
    this.unacked -= n;
    this.host.recvUnacked -= n;
    this.host.creditEnded(this, n);
  }
}
