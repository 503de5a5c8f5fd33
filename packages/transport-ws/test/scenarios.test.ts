/**
 * The shared session scenario suite (core/test/session/scenarios.ts) over a
 * real loopback WebSocket, Node ↔ Node: side B is a `listenWebSocket`
 * server session, side A the `connectWebSocket` client.
 */
import { vi } from 'vitest';
import { scenarioSuite } from '../../core/test/session/scenarios.js';
import { connect, listen, type Session } from './helpers.js';

vi.mock('@libchan/core', () => import('../../core/src/index.js'));

scenarioSuite('WebSocket loopback (listenWebSocket ↔ connectWebSocket)', async (optsA, optsB) => {
  let resolveB!: (s: Session) => void;
  const bReady = new Promise<Session>((resolve) => {
    resolveB = resolve;
  });
  const listener = await listen({ port: 0, ...optsB }, (s) => resolveB(s));
  try {
    const a = await connect(listener.url, optsA);
    const b = await bReady;
    return { a, b, cleanup: () => listener.close() };
  } catch (error) {
    await listener.close();
    throw error;
  }
});
