// @ts-self-types="./pipe.d.ts"

/**
 * The in-memory channel: Go semantics (capacity 0 = rendezvous, N = buffer of
 * N), passing values by reference. Every Receiver in libchan is one of these;
 * a session delivers into a pipe, so `select` and async iteration work the
 * same for local and remote channels.
 */
import { ChannelClosedError, transferredError } from '../errors.js';
import { AbstractReceiver, AbstractSender, EndSignal, endWatcher, kDetach, kIsTransferred, kOffer, kOnStop, kReset } from './ends.js';
import { keepLayouts } from '../layout.js';
import { Queue } from './queue.js';
import type { PipeOptions, Receiver, Sender, WaitOptions } from './types.js';
import { disposeValue } from './unclaimed.js';
import { EndWaiters, RESOLVED } from './waiters.js';

/** Returned by `poll()` when no value is ready. */
export const EMPTY: unique symbol = Symbol('libchan.empty');

/** Marks errors that mean "this receiver ended normally", so iteration stops quietly. */
const kCleanEnd: unique symbol = Symbol('libchan.cleanEnd');

const DONE: IteratorReturnResult<undefined> = Object.freeze({ done: true, value: undefined });

const enum State {
  Open,
  /** `close()` was called while sends were still waiting; they finish first. */
  Closing,
  /** The end is queued behind the buffer. */
  Ended,
  ReceiverClosed,
  Reset,
}

interface PendingSend<T> {
  value: T;
  /** The end that made the call: a pending call keeps its end alive (no GC reset under a waiting caller). */
  owner: object | undefined;
  resolve(): void;
  reject(reason: unknown): void;
  signal: AbortSignal | undefined;
  onAbort: (() => void) | undefined;
}

/** A waiting receive (plain, or one arm of a `select`). */
export interface ReceiveWaiter<T> {
  /** The end (or select arms) waiting: held so the garbage collector cannot reset it meanwhile. */
  owner?: unknown;
  onValue(value: T): void;
  /** `clean` is true for the sender's end, false for a reset (then `reason` is set). */
  onEnd(reason: unknown, clean: boolean): void;
}

export function isCleanEnd(error: unknown): boolean {
  return typeof error === 'object' && error !== null && (error as { [kCleanEnd]?: boolean })[kCleanEnd] === true;
}

function cleanEndError(message: string, code: 'CLOSED' | 'RECEIVER_CLOSED', cause?: unknown): ChannelClosedError {
  const error = new ChannelClosedError(message, cause === undefined ? { code } : { code, cause });
  Object.defineProperty(error, kCleanEnd, { value: true });
  return error;
}

function checkCapacity(capacity: number): number {
  if (!Number.isInteger(capacity) || capacity < 0) {
    throw new RangeError(`pipe capacity must be a non-negative integer, got ${String(capacity)}`);
  }
  return capacity;
}

export class PipeCore<T> {
  private state = State.Open;
  private reason: unknown = undefined;
  private readonly buf = new Queue<T>();
  private readonly sendQ = new Queue<PendingSend<T>>();
  private readonly recvQ = new Queue<ReceiveWaiter<T>>();
  /** Who waits for a close and who is hooked to the stop: made when the first comes. */
  private ends: EndWaiters | undefined;
  readonly senderClosed = new EndSignal();
  readonly receiverClosed = new EndSignal();

  constructor(readonly capacity: number) {}

  /** Values buffered plus sends waiting; what a receiver could take without waiting. */
  get pending(): number {
    return this.buf.length + this.sendQ.length;
  }

  onStop(callback: (reason: unknown) => void): void {
    if (this.state === State.ReceiverClosed) callback(this.reason);
    else (this.ends ??= new EndWaiters()).hook(callback);
  }

  /** Delivers without waiting when a receive is waiting or the buffer has room. */
  offer(value: T): boolean {
    if (this.state !== State.Open) return false;
    const waiter = this.recvQ.shift();
    if (waiter !== undefined) {
      waiter.onValue(value);
      return true;
    }
    if (this.buf.length < this.capacity) {
      this.buf.push(value);
      return true;
    }
    return false;
  }

  send(value: T, signal?: AbortSignal, owner?: object): Promise<void> {
    if (signal?.aborted) return Promise.reject(signal.reason);
    if (this.state !== State.Open) return Promise.reject(this.sendError());
    const waiter = this.recvQ.shift();
    if (waiter !== undefined) {
      waiter.onValue(value);
      return RESOLVED;
    }
    if (this.buf.length < this.capacity) {
      this.buf.push(value);
      return RESOLVED;
    }
    return new Promise<void>((resolve, reject) => {
      const pending: PendingSend<T> = { value, owner, resolve, reject, signal, onAbort: undefined };
      if (signal) {
        pending.onAbort = () => {
          if (this.sendQ.remove(pending)) {
            reject(signal.reason);
            this.afterSendQShrunk();
          }
        };
        signal.addEventListener('abort', pending.onAbort, { once: true });
      }
      this.sendQ.push(pending);
    });
  }

  /** Takes a value if one is ready, without waiting. */
  poll(): T | typeof EMPTY {
    if (this.buf.length > 0) {
      const value = this.buf.shift() as T;
      this.refill();
      if (this.state === State.Ended && this.buf.length === 0) this.receiverClosed.resolve();
      return value;
    }
    const pending = this.sendQ.shift();
    if (pending !== undefined) {
      settle(pending);
      pending.resolve();
      this.afterSendQShrunk();
      return pending.value;
    }
    return EMPTY;
  }

  /** After `poll()` returned EMPTY: the error a receive gets now, or undefined to wait. */
  endError(): unknown {
    switch (this.state) {
      case State.Ended:
        this.receiverClosed.resolve();
        return cleanEndError('channel closed by the sender', 'CLOSED');
      case State.ReceiverClosed:
        return cleanEndError('receiver closed', 'RECEIVER_CLOSED', this.reason);
      case State.Reset:
        return this.reason;
      default:
        return undefined;
    }
  }

  /** True when a receive would end (cleanly or not) rather than wait or take a value. */
  get ended(): boolean {
    return this.state >= State.Ended && this.buf.length === 0;
  }

  receive(signal?: AbortSignal, owner?: object): Promise<T> {
    if (signal?.aborted) return Promise.reject(signal.reason);
    const value = this.poll();
    if (value !== EMPTY) return Promise.resolve(value);
    const error = this.endError();
    if (error !== undefined) return Promise.reject(error);
    return new Promise<T>((resolve, reject) => {
      let onAbort: (() => void) | undefined;
      const waiter: ReceiveWaiter<T> = {
        owner,
        onValue: (v) => {
          if (onAbort) signal?.removeEventListener('abort', onAbort);
          resolve(v);
        },
        onEnd: (reason, clean) => {
          if (onAbort) signal?.removeEventListener('abort', onAbort);
          reject(clean ? this.endError() : reason);
        },
      };
      if (signal) {
        onAbort = () => {
          if (this.recvQ.remove(waiter)) reject(signal.reason);
        };
        signal.addEventListener('abort', onAbort, { once: true });
      }
      this.recvQ.push(waiter);
    });
  }

  /** `receive()` shaped for async iteration: one promise per step, a clean end is `done`. */
  next(owner?: object): Promise<IteratorResult<T, undefined>> {
    const value = this.poll();
    if (value !== EMPTY) return Promise.resolve({ done: false, value });
    const error = this.endError();
    if (error !== undefined) return isCleanEnd(error) ? Promise.resolve(DONE) : Promise.reject(error);
    return new Promise<IteratorResult<T, undefined>>((resolve, reject) => {
      this.recvQ.push({
        owner,
        onValue: (v) => resolve({ done: false, value: v }),
        onEnd: (reason, clean) => {
          const e = clean ? this.endError() : reason;
          if (isCleanEnd(e)) resolve(DONE);
          else reject(e);
        },
      });
    });
  }

  addWaiter(waiter: ReceiveWaiter<T>): void {
    this.recvQ.push(waiter);
  }

  removeWaiter(waiter: ReceiveWaiter<T>): void {
    this.recvQ.remove(waiter);
  }

  closeSender(): Promise<void> {
    switch (this.state) {
      case State.Open:
        if (this.sendQ.length === 0) {
          this.finishClose();
          return RESOLVED;
        }
        this.state = State.Closing;
        return this.waitClose();
      case State.Closing:
        return this.waitClose();
      case State.Reset:
        return Promise.reject(this.reason);
      default:
        return RESOLVED;
    }
  }

  abort(reason: unknown): void {
    if (this.state !== State.Open && this.state !== State.Closing) return;
    this.state = State.Reset;
    this.reason = reason;
    const dropped: unknown[] = this.buf.drain();
    for (const pending of this.sendQ.drain()) {
      settle(pending);
      pending.reject(reason);
      dropped.push(pending.value);
    }
    for (const waiter of this.recvQ.drain()) waiter.onEnd(reason, false);
    this.ends?.settle(true, reason);
    this.senderClosed.reject(reason);
    this.receiverClosed.reject(reason);
    disposeDropped(dropped);
    // A reset from the receiving end (e.g. an unclaimed Receiver) must reach whoever feeds this pipe.
    this.ends?.runHooks(reason);
  }

  closeReceiver(reason: unknown): void {
    if (this.state === State.Reset || this.state === State.ReceiverClosed) return;
    const wasEnded = this.state === State.Ended;
    this.state = State.ReceiverClosed;
    this.reason = reason;
    const dropped: unknown[] = this.buf.drain();
    if (!wasEnded) {
      for (const pending of this.sendQ.drain()) {
        settle(pending);
        pending.reject(this.sendError());
        dropped.push(pending.value);
      }
      this.ends?.settle(false);
      this.senderClosed.resolve();
    }
    for (const waiter of this.recvQ.drain()) waiter.onEnd(this.endError(), false);
    this.receiverClosed.resolve();
    disposeDropped(dropped);
    if (!wasEnded) this.ends?.runHooks(reason);
  }


  private sendError(): unknown {
    switch (this.state) {
      case State.ReceiverClosed: {
        const options = this.reason === undefined ? {} : { cause: this.reason };
        return new ChannelClosedError('the receiver closed the channel', { code: 'RECEIVER_CLOSED', ...options });
      }
      case State.Reset:
        return this.reason;
      default:
        return new ChannelClosedError('send on a closed channel', { code: 'CLOSED' });
    }
  }

  private waitClose(): Promise<void> {
    return (this.ends ??= new EndWaiters()).wait();
  }

  /** Moves waiting sends into free buffer slots (they resolve: their value is in). */
  private refill(): void {
    while (this.buf.length < this.capacity && this.sendQ.length > 0) {
      const pending = this.sendQ.shift() as PendingSend<T>;
      settle(pending);
      this.buf.push(pending.value);
      pending.resolve();
    }
    this.afterSendQShrunk();
  }

  private afterSendQShrunk(): void {
    if (this.state === State.Closing && this.sendQ.length === 0) this.finishClose();
  }

  private finishClose(): void {
    this.state = State.Ended;
    this.ends?.settle(false);
    this.senderClosed.resolve();
    if (this.buf.length === 0) {
      if (this.recvQ.length > 0) for (const waiter of this.recvQ.drain()) waiter.onEnd(undefined, true);
      this.receiverClosed.resolve();
    }
  }
}

function settle<T>(pending: PendingSend<T>): void {
  if (pending.onAbort) pending.signal?.removeEventListener('abort', pending.onAbort);
}

function disposeDropped(values: unknown[]): void {
  for (const value of values) disposeValue(value);
}

export function abortReason(reason: unknown): unknown {
  return reason === undefined ? new ChannelClosedError('channel aborted', { code: 'ABORTED' }) : reason;
}

/**
 * An end dropped while its channel is still open is reset (best effort, when
 * the garbage collector notices): nothing stays open because nobody looked.
 */
const watchEnd = endWatcher<{ core: PipeCore<unknown>; end: 'sender' | 'receiver' }>(({ core, end }) => {
  if (end === 'sender' ? core.senderClosed.settled : core.ended) return; // already over: nothing to reset
  const error = new ChannelClosedError(`the ${end} of this channel was garbage-collected while open`, { code: 'GONE' });
  if (end === 'sender') core.abort(error);
  else core.closeReceiver(error);
});

export class PipeSender<T> extends AbstractSender<T> {
  private core: PipeCore<T> | null;
  private readonly signal: EndSignal;
  private readonly unwatch: (() => void) | undefined;

  /**
   * @param userFacing whether this object is the user's (tracked for GC);
   * objects a session owns are not, since the registry's held value would
   * keep them alive through the session's hooks.
   */
  constructor(core: PipeCore<T>, userFacing = true) {
    super();
    this.core = core;
    this.signal = core.senderClosed;
    if (userFacing) this.unwatch = watchEnd(this, { core: core as PipeCore<unknown>, end: 'sender' }, this.signal);
  }

  get closed(): Promise<void> {
    return this.signal.promise;
  }

  send(value: T, options?: WaitOptions): Promise<void> {
    const core = this.core;
    if (core === null) return Promise.reject(transferredError());
    return core.send(value, options?.signal, this);
  }

  close(): Promise<void> {
    return this.core === null ? Promise.reject(transferredError()) : this.core.closeSender();
  }

  abort(reason?: unknown): void {
    this.core?.abort(abortReason(reason));
  }

  get [kIsTransferred](): boolean {
    return this.core === null;
  }

  [kOffer](value: T): boolean {
    return this.core !== null && this.core.offer(value);
  }

  [kOnStop](callback: (reason: unknown) => void): void {
    this.core?.onStop(callback);
  }

  [kDetach](): PipeSender<T> {
    const core = this.core;
    if (core === null) throw new TypeError('this Sender was already transferred');
    this.core = null;
    this.unwatch?.();
    return new PipeSender(core, false);
  }
}

export class PipeReceiver<T> extends AbstractReceiver<T> {
  private core: PipeCore<T> | null;
  private readonly signal: EndSignal;
  private readonly unwatch: (() => void) | undefined;

  constructor(core: PipeCore<T>, userFacing = true) {
    super();
    this.core = core;
    this.signal = core.receiverClosed;
    if (userFacing) this.unwatch = watchEnd(this, { core: core as PipeCore<unknown>, end: 'receiver' }, this.signal);
  }

  /** The live core, or throws the transferred error (used by `select`). */
  get liveCore(): PipeCore<T> {
    if (this.core === null) throw transferredError();
    return this.core;
  }

  get closed(): Promise<void> {
    return this.signal.promise;
  }

  receive(options?: WaitOptions): Promise<T> {
    const core = this.core;
    if (core === null) return Promise.reject(transferredError());
    return core.receive(options?.signal, this);
  }

  close(reason?: unknown): void {
    this.core?.closeReceiver(reason);
  }

  /** Resets the whole channel from this end (a session failing under it): the sender's calls reject with `reason`. */
  abortChannel(reason: unknown): void {
    this.core?.abort(reason);
  }

  [kReset](reason: unknown): void {
    this.abortChannel(reason);
  }

  get [kIsTransferred](): boolean {
    return this.core === null;
  }

  [kDetach](): PipeReceiver<T> {
    const core = this.core;
    if (core === null) throw new TypeError('this Receiver was already transferred');
    this.core = null;
    this.unwatch?.();
    return new PipeReceiver(core, false);
  }

  [Symbol.asyncIterator](): AsyncIterator<T, undefined, undefined> & AsyncIterable<T> {
    const iterator = {
      next: (): Promise<IteratorResult<T, undefined>> => {
        const core = this.core;
        if (core === null) return Promise.reject(transferredError());
        return core.next(this);
      },
      return: (): Promise<IteratorResult<T, undefined>> => {
        this.close();
        return Promise.resolve(DONE);
      },
      [Symbol.asyncIterator]() {
        return iterator;
      },
    };
    return iterator;
  }
}

// A Ret's pipe often lives only while a request is out (see keepLayouts).
const dormant = new PipeCore<unknown>(0);
keepLayouts(dormant, new PipeSender(dormant, false), new PipeReceiver(dormant, false));

/**
 * Makes an in-memory channel. Returns `[receiver, sender]`, the order of
 * libchan's `Pipe()`. With `capacity` 0 (the default) `send` resolves only
 * when a `receive` has taken the value.
 */
export function pipe<T>(options?: PipeOptions): [Receiver<T>, Sender<T>] {
  const core = new PipeCore<T>(checkCapacity(options?.capacity ?? 0));
  return [new PipeReceiver(core), new PipeSender(core)];
}
