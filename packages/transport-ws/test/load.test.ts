/**
 * Many sessions at once over real loopback WebSockets: 200 concurrent client
 * sessions, each doing 50 request/replies with a fresh Ret pipe per request;
 * not one reply lost or wrong. Then every client leaves and the server's
 * session table empties.
 */
import { afterAll, describe, expect, it, vi } from 'vitest';
import { pipe } from '../../core/src/index.js';
import { connect, listen, within, type Listener, type Session } from './helpers.js';

vi.mock('@libchan/core', () => import('../../core/src/index.js'));

const SESSIONS = 200;
const REQUESTS = 50;

interface Req {
  client: number;
  seq: number;
  payload: string;
  ret: import('../../core/src/index.js').Sender<Res>;
}
interface Res {
  client: number;
  seq: number;
  echo: string;
  serverSeen: number;
}

let listener: Listener | undefined;
const clients: Session[] = [];

afterAll(async () => {
  for (const c of clients) c.abort(new Error('test over'));
  for (const s of listener?.sessions ?? []) s.abort(new Error('test over'));
  await listener?.close();
});

describe('load: concurrent sessions over loopback WebSockets', () => {
  it(`${SESSIONS} concurrent sessions × ${REQUESTS} request/replies (fresh Ret pipe each): 0 lost, all correct`, async () => {
    let served = 0;
    const serverErrors: unknown[] = [];
    listener = await listen({ port: 0 }, (session) => {
      void (async () => {
        for await (const rx of session.incoming<Req>()) {
          void (async () => {
            let seen = 0;
            for await (const req of rx) {
              seen++;
              served++;
              await req.ret.send({ client: req.client, seq: req.seq, echo: req.payload.toUpperCase(), serverSeen: seen });
              await req.ret.close();
            }
          })().catch((error: unknown) => serverErrors.push(error));
        }
      })().catch((error: unknown) => serverErrors.push(error));
    });
    const url = listener.url;

    // handshakeTimeoutMs is long so these sessions stay clear of the handshake-timer bug that
    // link.test.ts reports ('WebSocket session lifetime'); this test is about load.
    const sessions = await within(
      Promise.all(Array.from({ length: SESSIONS }, () => connect(url, { handshakeTimeoutMs: 600_000 }))),
      30_000,
      `${SESSIONS} clients connect`,
    );
    clients.push(...sessions);
    expect(listener.sessions.size).toBe(SESSIONS);

    const wrong: string[] = [];
    let correct = 0;
    await within(
      Promise.all(
        sessions.map(async (session, client) => {
          const requests = await session.openSender<Req>();
          for (let seq = 0; seq < REQUESTS; seq++) {
            const [replies, ret] = pipe<Res>();
            const payload = `c${client}-s${seq}-${'x'.repeat((client * 7 + seq) % 50)}`;
            await requests.send({ client, seq, payload, ret });
            const reply = await replies.receive();
            if (reply.client !== client || reply.seq !== seq || reply.echo !== payload.toUpperCase() || reply.serverSeen !== seq + 1) {
              wrong.push(`${client}/${seq}: ${JSON.stringify(reply)}`);
            } else correct++;
            // The server closed ret after its one reply: the reply pipe ends cleanly.
            await replies.receive().then(
              () => wrong.push(`${client}/${seq}: a second reply`),
              () => {},
            );
          }
          await requests.close();
        }),
      ),
      60_000,
      `${SESSIONS * REQUESTS} round trips`,
    );
    expect(wrong).toEqual([]);
    expect(correct).toBe(SESSIONS * REQUESTS);
    expect(served).toBe(SESSIONS * REQUESTS);
    expect(serverErrors).toEqual([]);

    // Every client leaves gracefully; the server forgets every session.
    await within(Promise.all(sessions.map((s) => s.close())), 30_000, 'clients close');
    for (let i = 0; i < 500 && listener.sessions.size > 0; i++) await new Promise((r) => setTimeout(r, 10));
    expect(listener.sessions.size).toBe(0);
  }, 120_000);
});
