// @ts-self-types="./ends.d.ts"

/**
 * The base classes every Sender and Receiver share, whatever carries them
 * (an in-memory pipe or a session). They hold the brand used by `isSender` /
 * `isReceiver` and the detach hook a session uses to take an end over when
 * it is transferred (postMessage-style: the local object stops working).
 */
import { MAX_WAITING_WATCHES, WATCH_DELAY_MS } from '../config.js';
import { unrefTimer } from '../schedule.js';
import type { Receiver, Sender, WaitOptions } from './types.js';

export const kDetach: unique symbol = Symbol('libchan.detach');
export const kIsTransferred: unique symbol = Symbol('libchan.isTransferred');
/** Delivers a value at once if that needs no waiting; false otherwise (nothing delivered). */
export const kOffer: unique symbol = Symbol('libchan.offer');
/** Registers a callback for the receiving side stopping the channel (`Receiver.close(reason)`). */
export const kOnStop: unique symbol = Symbol('libchan.onStop');
/** Resets a receiver's whole channel (its sender sees the reason too). */
export const kReset: unique symbol = Symbol('libchan.reset');

/**
 * A `closed`-style signal: settles once, its rejection never counts as
 * unhandled, and its promise is only made when someone asks (most channels
 * end without anyone awaiting `closed`, and promises are not free).
 */
export class EndSignal {
  private state: 0 | 1 | 2 = 0;
  private reason: unknown;
  private made: Promise<void> | undefined;
  private settle: { resolve(): void; reject(reason: unknown): void } | undefined;
  /** Runs once when the signal settles (a garbage-collection watch stops here). */
  onSettle: (() => void) | undefined;

  get settled(): boolean {
    return this.state !== 0;
  }

  resolve(): void {
    if (this.state !== 0) return;
    this.state = 1;
    this.settle?.resolve();
    this.runSettleHook();
  }

  reject(reason: unknown): void {
    if (this.state !== 0) return;
    this.state = 2;
    this.reason = reason;
    this.settle?.reject(reason);
    this.runSettleHook();
  }

  private runSettleHook(): void {
    const hook = this.onSettle;
    if (hook === undefined) return;
    this.onSettle = undefined;
    hook();
  }

  get promise(): Promise<void> {
    if (this.made === undefined) {
      if (this.state === 1) this.made = Promise.resolve();
      else if (this.state === 2) this.made = Promise.reject(this.reason);
      else this.made = new Promise<void>((resolve, reject) => (this.settle = { resolve, reject }));
      this.made.catch(() => {});
    }
    return this.made;
  }
}

/** Starts watching a user-facing end; returns a function that stops the watch. */
export type WatchEnd<H> = (end: object, held: H, signal: EndSignal) => () => void;

const noop = (): void => {};

/** One watched end: what the registry holds (the end only until it is registered). */
interface Watch<H> {
  held: H | undefined;
  end: object | undefined;
  registered: boolean;
}

/**
 * Resets ends dropped while their channel is open (API.md: best effort), via a
 * FinalizationRegistry that calls `onCollected(held)`. Registering and
 * unregistering cost more than most channels live: a Ret is answered and
 * closed, a sent end is taken over by the session, usually within
 * milliseconds (over WebSocket the registry cost about 4 µs per request/reply
 * with a Ret, docs/BENCHMARKS.md 2026-11-26). So ends are registered once they
 * have been open for WATCH_DELAY_MS, only if still open then (a list holds
 * them until then, so none can be collected unwatched), and a registered end
 * that settles is unregistered at the next such round. V8 also keeps what a
 * registry's cells hold alive through young-generation collections, so a
 * watch lets go of `held` the moment the end's `signal` settles.
 */
export function endWatcher<H>(onCollected: (held: H) => void): WatchEnd<H> {
  if (typeof FinalizationRegistry !== 'function') return () => noop;
  const registry = new FinalizationRegistry<Watch<H>>((watch) => {
    if (watch.held !== undefined) onCollected(watch.held);
  });
  let waiting: Watch<H>[] = [];
  // Registered watches whose end settled: unregistered at the next round, not while a frame is handled.
  let settled: Watch<H>[] = [];
  let scheduled = false;
  const housekeeping = (): void => {
    scheduled = false;
    const list = waiting;
    waiting = [];
    for (const watch of list) {
      if (watch.held !== undefined && watch.end !== undefined) {
        // The watch is its own unregister token: held by the registry, it lives as long as the cell.
        registry.register(watch.end, watch, watch);
        watch.registered = true;
      }
      watch.end = undefined;
    }
    const done = settled;
    settled = [];
    for (const watch of done) registry.unregister(watch);
  };
  const schedule = (): void => {
    if (scheduled) return;
    scheduled = true;
    unrefTimer(setTimeout(housekeeping, WATCH_DELAY_MS));
  };
  return (end, held, signal) => {
    if (signal.settled) return noop;
    const watch: Watch<H> = { held, end, registered: false };
    const n = waiting.push(watch);
    schedule();
    // Many ends at once (a burst, or a long task) are not piled up unwatched.
    if (n >= MAX_WAITING_WATCHES) housekeeping();
    const stop = (): void => {
      if (watch.held === undefined) return;
      watch.held = undefined;
      watch.end = undefined;
      if (watch.registered) {
        // Harmless if the end is collected first: the registry's callback finds `held` gone.
        if (settled.push(watch) >= MAX_WAITING_WATCHES) housekeeping();
        else schedule();
      }
    };
    signal.onSettle = stop;
    return stop;
  };
}

/** A settled-later promise whose rejection never counts as unhandled. */
export function handledPromise(): EndSignal {
  return new EndSignal();
}

export abstract class AbstractSender<T> implements Sender<T> {
  abstract send(value: T, options?: WaitOptions): Promise<void>;
  abstract close(): Promise<void>;
  abstract abort(reason?: unknown): void;
  abstract readonly closed: Promise<void>;
  /**
   * Moves the live end into a new object owned by the caller (a session) and
   * leaves this one detached. Throws `TypeError` if already transferred.
   */
  abstract [kDetach](): AbstractSender<T>;
  abstract get [kIsTransferred](): boolean;
  abstract [kOffer](value: T): boolean;
  abstract [kOnStop](callback: (reason: unknown) => void): void;

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close().catch(() => {});
  }
}

export abstract class AbstractReceiver<T> implements Receiver<T> {
  abstract receive(options?: WaitOptions): Promise<T>;
  abstract close(reason?: unknown): void;
  abstract readonly closed: Promise<void>;
  abstract [kDetach](): AbstractReceiver<T>;
  abstract [kReset](reason: unknown): void;
  abstract get [kIsTransferred](): boolean;
  abstract [Symbol.asyncIterator](): AsyncIterator<T, undefined, undefined>;

  async [Symbol.asyncDispose](): Promise<void> {
    this.close();
  }
}

/** True for any libchan `Sender`, in memory or across a session (its value type is unknown, hence `never`). */
export function isSender(x: unknown): x is Sender<never> {
  return x instanceof AbstractSender;
}

/** True for any libchan `Receiver`, in memory or across a session. */
export function isReceiver(x: unknown): x is Receiver<unknown> {
  return x instanceof AbstractReceiver;
}
