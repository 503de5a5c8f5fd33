/**
 * The shared session scenario suite (core/test/session/scenarios.ts) over
 * real WebTransport on loopback, Node ↔ Node: side B is a
 * `listenWebTransport` server session (@fails-components HttpServer), side A
 * the `connectWebTransport` client (@fails-components' Node client). Without
 * the optional quiche add-on that is WebTransport over HTTP/2; either way
 * every sub-stream is a native WebTransport stream (a stream link).
 */
import { vi } from 'vitest';
import { scenarioSuite } from '../../core/test/session/scenarios.js';
import { connectedPair } from './helpers.js';

vi.mock('@libchan/core', () => import('../../core/src/index.js'));

scenarioSuite('WebTransport loopback (listenWebTransport ↔ connectWebTransport)', async (optsA, optsB) => {
  const { a, b, cleanup } = await connectedPair(optsA, optsB);
  return { a, b, cleanup };
});
