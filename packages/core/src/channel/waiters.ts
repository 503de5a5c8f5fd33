// @ts-self-types="./waiters.d.ts"

/**
 * Lists of waiting callers and hooks that most channels never make: a field
 * holds one only once something waits (a Ret closes without anyone waiting on
 * its close or hooked to its stop), and whoever ends it takes the list over.
 */

/** The settled promise a call returns when it is done at once (callers may test for it). */
export const RESOLVED: Promise<void> = Promise.resolve();

/** A caller waiting for an end (a close to finish). */
export interface Settler {
  resolve(): void;
  reject(reason: unknown): void;
}

/** Settles every waiter of a list the caller took over (undefined: none waited). */
export function settleAll(waiters: readonly Settler[] | undefined, failed: boolean, reason?: unknown): void {
  if (waiters === undefined) return;
  for (const w of waiters) {
    if (failed) w.reject(reason);
    else w.resolve();
  }
}

/** Runs every hook of a list the caller took over (undefined: none was added). */
export function runHooks(hooks: readonly ((reason: unknown) => void)[] | undefined, reason: unknown): void {
  if (hooks === undefined) return;
  for (const hook of hooks) hook(reason);
}
