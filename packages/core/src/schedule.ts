// @ts-self-types="./schedule.d.ts"

/**
 * When deferred work runs (links batching frames, channel ends being watched). Node's `queueMicrotask` wraps every
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
 * Browsers have no setImmediate; a MessageChannel message is the usual way to
 * run after the current task without setTimeout's clamping. Not used in Deno,
 * where a listening port would keep the process alive.
 */
function taskViaMessageChannel(): ((callback: () => void) => void) | undefined {
  const g = globalThis as { MessageChannel?: typeof MessageChannel; Deno?: unknown };
  if (typeof g.MessageChannel !== 'function' || g.Deno !== undefined) return undefined;
  let channel: MessageChannel | undefined;
  let queue: (() => void)[] = [];
  return (callback) => {
    queue.push(callback);
    if (queue.length > 1) return;
    if (!channel) {
      channel = new g.MessageChannel!();
      channel.port1.onmessage = () => {
        const run = queue;
        queue = [];
        for (const f of run) f();
      };
    }
    channel.port2.postMessage(null);
  };
}

const nextTask: (callback: () => void) => void = setImmediateFn
  ? (callback) => setImmediateFn(callback)
  : (taskViaMessageChannel() ?? ((callback) => void resolved.then(callback)));

/**
 * Runs `callback` once the current task and its microtasks are done:
 * `setImmediate` in Node and Bun, a MessageChannel task in browsers and
 * workers, a microtask elsewhere. Links batch with it, so a handler's several
 * writes share one network message (or one postMessage).
 */
export function afterTick(callback: () => void): void {
  nextTask(callback);
}
