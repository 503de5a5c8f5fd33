/**
 * The garbage-collection watch on channel ends (endWatcher) against a recording
 * FinalizationRegistry: ends still open WATCH_DELAY_MS later get registered,
 * ends that settle sooner never touch the registry, a registered end that
 * settles is unregistered at the next round (not while the frame that ended it
 * is handled), and a burst of ends is registered at once past
 * MAX_WAITING_WATCHES.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { EndSignal, endWatcher } from '../../src/channel/ends.js';
import { MAX_WAITING_WATCHES, WATCH_DELAY_MS } from '../../src/config.js';

const calls: string[] = [];
let registered: { callback: (held: unknown) => void; held: unknown[] } | undefined;

class RecordingRegistry {
  constructor(callback: (held: unknown) => void) {
    registered = { callback, held: [] };
  }
  register(_target: object, held: unknown, _token?: object): void {
    registered?.held.push(held);
    calls.push('register');
  }
  unregister(_token: object): boolean {
    calls.push('unregister');
    return true;
  }
}

beforeEach(() => {
  vi.useFakeTimers();
  vi.stubGlobal('FinalizationRegistry', RecordingRegistry);
});

afterEach(() => {
  vi.useRealTimers();
  vi.unstubAllGlobals();
  calls.length = 0;
  registered = undefined;
});

describe('endWatcher', () => {
  it('registers ends still open after WATCH_DELAY_MS, never the ones settled sooner, and unregisters at the next round', () => {
    const watch = endWatcher<string>(() => {});
    const open = new EndSignal();
    const quick = new EndSignal();
    watch({}, 'open', open);
    watch({}, 'quick', quick);
    vi.advanceTimersByTime(WATCH_DELAY_MS - 1);
    quick.resolve(); // answered within the delay: never registered
    expect(calls).toEqual([]);
    vi.advanceTimersByTime(1);
    expect(calls).toEqual(['register']);
    expect(registered?.held).toEqual([expect.objectContaining({ held: 'open' })]);
    calls.length = 0;
    open.resolve();
    expect(calls, 'not unregistered while the settling frame is handled').toEqual([]);
    vi.advanceTimersByTime(WATCH_DELAY_MS);
    expect(calls).toEqual(['unregister']);
    // Settling again does nothing more.
    open.resolve();
    vi.advanceTimersByTime(WATCH_DELAY_MS);
    expect(calls).toEqual(['unregister']);
  });

  it('past MAX_WAITING_WATCHES waiting ends, they are registered at once', () => {
    const watch = endWatcher<number>(() => {});
    const signals = Array.from({ length: MAX_WAITING_WATCHES }, () => new EndSignal());
    signals.forEach((signal, i) => watch({}, i, signal));
    expect(calls.length).toBe(MAX_WAITING_WATCHES);
    expect(calls.every((c) => c === 'register')).toBe(true);
  });

  it("a collected end's callback resets its channel while it is open, and does nothing once its signal settled", () => {
    const collected: string[] = [];
    const watch = endWatcher<string>((held) => collected.push(held));
    const a = new EndSignal();
    const b = new EndSignal();
    watch({}, 'a', a);
    watch({}, 'b', b);
    vi.advanceTimersByTime(WATCH_DELAY_MS);
    expect(registered?.held.length).toBe(2);
    b.resolve();
    // The registry reports both collected: only the one still open resets its channel.
    for (const held of registered?.held ?? []) registered?.callback(held);
    expect(collected).toEqual(['a']);
  });
});
