/**
 * The garbage-collection watch on channel ends (endWatcher) against a recording
 * FinalizationRegistry: ends still open once the tick's frames are sent get
 * registered, ends that settle first never touch the registry, and a
 * registered end that settles is unregistered after the flush, not while the
 * frame that ended it is handled.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { EndSignal, endWatcher } from '../../src/channel/ends.js';

const calls: string[] = [];
class RecordingRegistry {
  constructor(readonly callback: (held: unknown) => void) {}
  register(_target: object, _held: unknown, _token?: object): void {
    calls.push('register');
  }
  unregister(_token: object): boolean {
    calls.push('unregister');
    return true;
  }
}

function nextImmediate(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

afterEach(() => {
  vi.unstubAllGlobals();
  calls.length = 0;
});

describe('endWatcher', () => {
  it('registers ends still open after the flush, never the ones settled before it, and unregisters after the next flush', async () => {
    vi.stubGlobal('FinalizationRegistry', RecordingRegistry);
    const watch = endWatcher<string>(() => {});
    const open = new EndSignal();
    const quick = new EndSignal();
    const openEnd = {};
    watch(openEnd, 'open', open);
    watch({}, 'quick', quick);
    quick.resolve(); // settled in the same tick: never registered
    expect(calls).toEqual([]);
    await nextImmediate();
    expect(calls).toEqual(['register']);
    calls.length = 0;
    open.resolve();
    expect(calls, 'not unregistered while the settling frame is handled').toEqual([]);
    await nextImmediate();
    expect(calls).toEqual(['unregister']);
    // Settling again (or the end being collected later) does nothing more.
    open.resolve();
    await nextImmediate();
    expect(calls).toEqual(['unregister']);
    expect(openEnd).toBeDefined();
  });

  it("a collected end's callback sees what it holds until its signal settles, then nothing", async () => {
    let registered: { callback: (held: unknown) => void; held: unknown[] } | undefined;
    class CapturingRegistry extends RecordingRegistry {
      constructor(callback: (held: unknown) => void) {
        super(callback);
        registered = { callback, held: [] };
      }
      override register(target: object, held: unknown, token?: object): void {
        registered?.held.push(held);
        super.register(target, held, token);
      }
    }
    vi.stubGlobal('FinalizationRegistry', CapturingRegistry);
    const collected: string[] = [];
    const watch = endWatcher<string>((held) => collected.push(held));
    const a = new EndSignal();
    const b = new EndSignal();
    watch({}, 'a', a);
    watch({}, 'b', b);
    await nextImmediate();
    expect(registered?.held.length).toBe(2);
    b.resolve();
    // The registry reports both collected: only the one still open resets its channel.
    for (const held of registered?.held ?? []) registered?.callback(held);
    expect(collected).toEqual(['a']);
  });
});
