/**
 * When links run their deferred work. Node's `queueMicrotask` wraps every
 * callback in an AsyncResource, which costs more than the work on hot
 * paths; a resolved promise's `then` does not.
 */
const resolved = Promise.resolve();

/** Runs `callback` in a microtask (after the current synchronous work). */
export function microtask(callback: () => void): void {
  void resolved.then(callback);
}

const setImmediateFn = (globalThis as { setImmediate?: (callback: () => void) => unknown }).setImmediate;

/**
 * Runs `callback` once the current macrotask and its microtasks are done:
 * `setImmediate` where it exists (Node, Bun, Deno), a microtask elsewhere.
 * Socket links batch with it, so a handler's several writes share one
 * network message.
 */
export function afterTick(callback: () => void): void {
  if (setImmediateFn) setImmediateFn(callback);
  else void resolved.then(callback);
}
