/**
 * Shared helpers for the channel tests. Nothing here relies on wall-clock
 * timing for correctness: "still pending" is checked after letting a few
 * macrotasks run (every microtask chain started before has settled by then).
 */
import { setImmediate as immediate } from 'node:timers/promises';

/** Lets `n` macrotasks pass (all microtasks queued before them run first). */
export async function macrotasks(n = 3): Promise<void> {
  for (let i = 0; i < n; i++) await immediate();
}

export interface Tracked<T> {
  readonly state: 'pending' | 'fulfilled' | 'rejected';
  readonly value: T | undefined;
  readonly reason: unknown;
  readonly promise: Promise<T>;
}

/** Observes a promise without awaiting it (and marks its rejection handled). */
export function track<T>(promise: Promise<T>): Tracked<T> {
  const tracked: { state: Tracked<T>['state']; value: T | undefined; reason: unknown; promise: Promise<T> } = {
    state: 'pending',
    value: undefined,
    reason: undefined,
    promise,
  };
  promise.then(
    (value) => {
      tracked.state = 'fulfilled';
      tracked.value = value;
    },
    (reason: unknown) => {
      tracked.state = 'rejected';
      tracked.reason = reason;
    },
  );
  return tracked;
}

/** The reason `promise` rejects with; fails the test if it resolves. */
export async function rejectionOf(promise: Promise<unknown>): Promise<unknown> {
  let value: unknown;
  try {
    value = await promise;
  } catch (error) {
    return error;
  }
  throw new Error(`expected the promise to reject, but it resolved with ${String(value)}`);
}

/**
 * Records every `unhandledRejection` from now on. `stop()` lets the event
 * loop turn a few times (Node reports unhandled rejections after the
 * microtask queue drains), removes the listener and returns what was seen.
 */
export function watchUnhandledRejections(): { stop(): Promise<unknown[]> } {
  const seen: unknown[] = [];
  const listener = (reason: unknown): void => {
    seen.push(reason);
  };
  process.on('unhandledRejection', listener);
  return {
    async stop() {
      await macrotasks(5);
      await new Promise((resolve) => setTimeout(resolve, 5));
      await macrotasks(2);
      process.off('unhandledRejection', listener);
      return seen;
    },
  };
}
