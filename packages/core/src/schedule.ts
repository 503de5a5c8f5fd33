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

/**
 * Node only (not Deno or Bun, whose tick queues run on other schedules): a
 * `process.nextTick` queued from a promise job runs once the whole microtask
 * queue has drained, inside the same I/O callback. That is the end of the
 * current tick, without a trip through the event loop's check phase: a reply
 * goes out 1–2 µs sooner than with setImmediate, and about 10 µs of CPU per
 * request/reply less on a cold loop (docs/BENCHMARKS.md, 2026-11-26).
 */
function nodeTickEnd(): ((callback: () => void) => void) | undefined {
  const g = globalThis as { process?: { nextTick?: (callback: () => void) => void; versions?: Record<string, string | undefined> }; Deno?: unknown };
  const process = g.process;
  if (g.Deno !== undefined || process?.versions?.node === undefined || process.versions.bun !== undefined) return undefined;
  const nextTick = process.nextTick;
  if (typeof nextTick !== 'function') return undefined;
  return (callback) => void resolved.then(() => nextTick(callback));
}

const tickEnd: (callback: () => void) => void =
  nodeTickEnd() ?? (setImmediateFn ? (callback) => setImmediateFn(callback) : (taskViaMessageChannel() ?? ((callback) => void resolved.then(callback))));

/**
 * Runs `callback` once the current task and its microtasks are done: at the
 * end of the tick in Node, `setImmediate` in Bun, a MessageChannel task in
 * browsers and workers, a microtask elsewhere (Deno). Links batch with it,
 * so a handler's several writes share one network message (or one postMessage).
 */
export function afterTick(callback: () => void): void {
  tickEnd(callback);
}

/** Lets a timer not keep the process alive (Node, Bun; elsewhere timers have no `unref`). */
export function unrefTimer(timer: unknown): void {
  (timer as { unref?: () => void } | undefined)?.unref?.();
}
