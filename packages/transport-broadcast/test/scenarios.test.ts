/**
 * The shared session scenario suite (packages/core/test/session/scenarios.ts)
 * over BroadcastChannel, in one thread: every pair uses a fresh random name;
 * `a` is `connectBroadcast(name, optsA)`, `b` the session the listener
 * (created with optsB) hands to `onSession`.
 */
import { vi } from 'vitest';
import { scenarioSuite } from '../../core/test/session/scenarios.js';
import { broadcastPair } from './helpers.js';

vi.mock('@libchan/core', () => import('../../core/src/index.js'));

scenarioSuite('BroadcastChannel (connectBroadcast ↔ listenBroadcast, one thread)', async (optionsA, optionsB) => {
  const { a, b, listener } = await broadcastPair(optionsA, optionsB ?? optionsA);
  return {
    a,
    b,
    async cleanup() {
      await listener.close();
    },
  };
});
