// @ts-self-types="./waiters.d.ts"

/**
 * Who waits for a channel's close to finish and who is hooked to its stop.
 * Many channels have neither (the stream a server answers a Ret on), and a
 * close is rarely waited for, so owners make an EndWaiters only when the
 * first one comes, and each list only when needed.
 */

import { keepLayouts } from '../layout.js';

/** The settled promise a call returns when it is done at once (callers may test for it). */
export const RESOLVED: Promise<void> = Promise.resolve();

interface Settler {
  resolve(): void;
  reject(reason: unknown): void;
}

export class EndWaiters {
  private waiters: Settler[] | undefined;
  private hooks: ((reason: unknown) => void)[] | undefined;

  /** A promise settled by the next `settle`. */
  wait(): Promise<void> {
    return new Promise<void>((resolve, reject) => (this.waiters ??= []).push({ resolve, reject }));
  }

  /** Settles (and forgets) everyone waiting. */
  settle(failed: boolean, reason?: unknown): void {
    const waiters = this.waiters;
    if (waiters === undefined) return;
    this.waiters = undefined;
    for (const w of waiters) {
      if (failed) w.reject(reason);
      else w.resolve();
    }
  }

  hook(callback: (reason: unknown) => void): void {
    (this.hooks ??= []).push(callback);
  }

  /** Runs (and forgets) every hook. */
  runHooks(reason: unknown): void {
    const hooks = this.hooks;
    if (hooks === undefined) return;
    this.hooks = undefined;
    for (const hook of hooks) hook(reason);
  }
}

// A Ret's pipe makes one, for the stop hook of the stream that feeds it (see keepLayouts).
keepLayouts(new EndWaiters());
