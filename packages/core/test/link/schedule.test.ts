/**
 * When links send what a tick wrote (afterTick), in Node: after every
 * microtask the tick chains (a handler's `await send(); await close()` shares
 * one batch), before the event loop moves on to setImmediate.
 */
import { describe, expect, it } from 'vitest';
import { afterTick } from '../../src/schedule.js';

function nextImmediate(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

describe('afterTick (Node)', () => {
  it('afterTick runs after a chain of awaits started in the same tick, and before setImmediate', async () => {
    const order: string[] = [];
    setImmediate(() => order.push('setImmediate'));
    afterTick(() => order.push('afterTick'));
    const chain = (async () => {
      for (let i = 0; i < 5; i++) {
        await null;
        order.push(`await ${i}`);
      }
    })();
    await chain;
    await nextImmediate();
    expect(order).toEqual(['await 0', 'await 1', 'await 2', 'await 3', 'await 4', 'afterTick', 'setImmediate']);
  });

  it('a callback that schedules more work gets it run in the same turn, in order', async () => {
    const order: string[] = [];
    afterTick(() => {
      order.push('first');
      afterTick(() => order.push('second'));
      void Promise.resolve().then(() => order.push('microtask of first'));
    });
    await nextImmediate();
    expect(order).toEqual(['first', 'microtask of first', 'second']);
  });
});
