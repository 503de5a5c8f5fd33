/**
 * `listenWebSocket` (Node): attaching to an existing http.Server with a path,
 * `verifyClient`, the default origin policy and `origins`, `onHello`
 * refusal/acceptance, and `close()` (sessions end, the port is freed).
 */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import { createServer as createNetServer } from 'node:net';
import { afterEach, describe, expect, it, vi } from 'vitest';
import WebSocket from 'ws';
import { ProtocolError, SessionClosedError, type Receiver, type Sender } from '../../core/src/index.js';
import type { VerifyClientInfo, WebSocketConstructor } from '../src/node.js';
import { until } from '../../core/test/session/helpers.js';
import { connect, listen, roundTrip, serveRet, tryUpgrade, within, type Listener, type Request, type Session } from './helpers.js';

vi.mock('@libchan/core', () => import('../../core/src/index.js'));

const listeners: Listener[] = [];
const clients: Session[] = [];
const servers: Server[] = [];

afterEach(async () => {
  for (const c of clients.splice(0)) c.abort(new Error('test over'));
  await Promise.all(listeners.splice(0).map((l) => l.close()));
  await Promise.all(
    servers.splice(0).map(
      (s) =>
        new Promise<void>((resolve) => {
          s.close(() => resolve());
          s.closeAllConnections();
        }),
    ),
  );
});

async function open(options: Parameters<typeof listen>[0], onSession: (s: Session, req: IncomingMessage) => void = serveRet): Promise<Listener> {
  const l = await listen(options, onSession);
  listeners.push(l);
  return l;
}

async function client(url: string, options?: Parameters<typeof connect>[1]): Promise<Session> {
  const s = await within(connect(url, options), 10_000, `connect ${url}`);
  clients.push(s);
  return s;
}

/** A `ws` constructor that sends these client options (headers, origin). */
function wsWith(options: WebSocket.ClientOptions): WebSocketConstructor {
  class WithOptions extends WebSocket {
    constructor(url: string, protocols?: string | string[]) {
      super(url, protocols, options);
    }
  }
  return WithOptions as unknown as WebSocketConstructor;
}

/** The rejection of a connect attempt (fails the test if it connects), bounded in time. */
async function refused(url: string, options?: Parameters<typeof connect>[1]): Promise<unknown> {
  try {
    const s = await within(connect(url, options), 10_000, `refused connect ${url}`);
    clients.push(s);
  } catch (error) {
    return error;
  }
  throw new Error('expected the connection to be refused, but it connected');
}

async function requestsOn(s: Session): Promise<Sender<Request>> {
  return s.openSender<Request>();
}

/** Binding the port again succeeds (the listener let go of it). */
async function expectPortFree(port: number): Promise<void> {
  const probe = createNetServer();
  await new Promise<void>((resolve, reject) => {
    probe.once('error', reject);
    probe.listen(port, '127.0.0.1', () => resolve());
  });
  await new Promise<void>((resolve) => probe.close(() => resolve()));
}

function httpGet(url: string): Promise<{ status: number; body: string }> {
  return fetch(url).then(async (res) => ({ status: res.status, body: await res.text() }));
}

describe('listenWebSocket: attached to an existing http.Server', () => {
  it('serves sessions on its path; the server keeps its own HTTP routes; other paths are not upgraded; close() leaves the server running', async () => {
    const server = createServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.end('plain http');
    });
    servers.push(server);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as { port: number }).port;

    let sessions = 0;
    const listener = await open({ server, path: '/chan' }, (s) => {
      sessions++;
      serveRet(s);
    });
    expect(listener.port).toBe(port);
    expect(listener.url).toBe(`ws://127.0.0.1:${port}/chan`);

    const c = await client(listener.url);
    const requests = await requestsOn(c);
    expect((await roundTrip(requests, 21)).doubled).toBe(42);
    expect(sessions).toBe(1);
    expect(listener.sessions.size).toBe(1);

    // The server's own routes still answer.
    expect(await httpGet(`http://127.0.0.1:${port}/anything`)).toEqual({ status: 200, body: 'plain http' });
    // Another path is not upgraded.
    const other = await tryUpgrade(`ws://127.0.0.1:${port}/other`);
    expect(other.opened).toBe(false);
    expect(await refused(`ws://127.0.0.1:${port}/other`)).toBeInstanceOf(SessionClosedError);
    expect(sessions).toBe(1);

    // (The client leaves first: close() with live clients is tested below.)
    await requests.close();
    await within(c.close(), 10_000, 'client close()');
    await within(listener.close(), 10_000, 'listener.close()');
    // The given server is not closed by the listener.
    expect(server.listening).toBe(true);
    expect(await httpGet(`http://127.0.0.1:${port}/still`)).toEqual({ status: 200, body: 'plain http' });
  }, 30_000);

  it('a standalone listener answers plain HTTP with 426 and binds 127.0.0.1 by default', async () => {
    const listener = await open({ port: 0 });
    expect(listener.url).toBe(`ws://127.0.0.1:${listener.port}/`);
    const res = await httpGet(`http://127.0.0.1:${listener.port}/`);
    expect(res.status).toBe(426);
  }, 20_000);
});

describe('listenWebSocket: verifyClient', () => {
  it('sees origin and headers; a refusal rejects connectWebSocket and onSession never runs', async () => {
    const seen: VerifyClientInfo[] = [];
    let sessions = 0;
    const listener = await open(
      {
        port: 0,
        verifyClient: async (info) => {
          seen.push(info);
          await Promise.resolve();
          return info.req.headers['x-token'] === 'good';
        },
      },
      (s) => {
        sessions++;
        serveRet(s);
      },
    );

    const bad = await refused(listener.url, { WebSocket: wsWith({ headers: { 'x-token': 'bad' }, origin: 'https://app.example' }) });
    expect(bad).toBeInstanceOf(SessionClosedError);
    expect(seen).toHaveLength(1);
    expect(seen[0]?.origin).toBe('https://app.example');
    expect(seen[0]?.req.headers['x-token']).toBe('bad');
    expect(seen[0]?.secure).toBe(false);
    // A raw upgrade shows the HTTP status of the refusal.
    const raw = await tryUpgrade(listener.url, { headers: { 'x-token': 'nope' } });
    expect(raw).toMatchObject({ opened: false, status: 403 });

    // verifyClient replaces the origin check: a foreign origin with the right token is fine.
    const good = await client(listener.url, { WebSocket: wsWith({ headers: { 'x-token': 'good' }, origin: 'https://elsewhere.example' }) });
    expect((await roundTrip(await requestsOn(good), 5)).doubled).toBe(10);
    expect(seen.at(-1)?.origin).toBe('https://elsewhere.example');
    expect(sessions).toBe(1);
    expect(listener.sessions.size).toBe(1);
  }, 30_000);

  it('a verifyClient that throws refuses the upgrade (500) without taking the server down', async () => {
    let calls = 0;
    const listener = await open({
      port: 0,
      verifyClient: () => {
        calls++;
        if (calls === 1) throw new Error('verifier crashed');
        return true;
      },
    });
    expect(await tryUpgrade(listener.url)).toMatchObject({ opened: false, status: 500 });
    const c = await client(listener.url);
    expect((await roundTrip(await requestsOn(c), 1)).doubled).toBe(2);
  }, 20_000);
});

describe('listenWebSocket: default origin policy and `origins`', () => {
  it('refuses a browser Origin of another host; allows no Origin and the same origin', async () => {
    let sessions = 0;
    const listener = await open({ port: 0 }, (s) => {
      sessions++;
      serveRet(s);
    });
    expect(await tryUpgrade(listener.url, { origin: 'http://evil.example' })).toMatchObject({ opened: false, status: 403 });
    expect(await refused(listener.url, { WebSocket: wsWith({ origin: 'http://evil.example' }) })).toBeInstanceOf(SessionClosedError);
    // The same host on another port is another origin.
    expect(await tryUpgrade(listener.url, { origin: `http://127.0.0.1:${listener.port + 1}` })).toMatchObject({ opened: false, status: 403 });
    expect(sessions).toBe(0);

    const noOrigin = await client(listener.url); // `ws` sends no Origin header
    expect((await roundTrip(await requestsOn(noOrigin), 2)).doubled).toBe(4);
    const sameOrigin = await client(listener.url, { WebSocket: wsWith({ origin: `http://127.0.0.1:${listener.port}` }) });
    expect((await roundTrip(await requestsOn(sameOrigin), 3)).doubled).toBe(6);
    expect(sessions).toBe(2);
  }, 30_000);

  it("origins: ['http://x'] allows exactly that origin; '*' allows any", async () => {
    const listener = await open({ port: 0, origins: ['http://x'] });
    const x = await client(listener.url, { WebSocket: wsWith({ origin: 'http://x' }) });
    expect((await roundTrip(await requestsOn(x), 7)).doubled).toBe(14);
    expect(await tryUpgrade(listener.url, { origin: 'http://y' })).toMatchObject({ opened: false, status: 403 });
    expect(await refused(listener.url, { WebSocket: wsWith({ origin: 'http://x.evil' }) })).toBeInstanceOf(SessionClosedError);
    const none = await client(listener.url);
    expect((await roundTrip(await requestsOn(none), 8)).doubled).toBe(16);

    const any = await open({ port: 0, origins: '*' });
    const anywhere = await client(any.url, { WebSocket: wsWith({ origin: 'https://anywhere.example' }) });
    expect((await roundTrip(await requestsOn(anywhere), 9)).doubled).toBe(18);
  }, 30_000);
});

describe('listenWebSocket: onHello', () => {
  it('a refusal rejects connectWebSocket with SessionClosedError (cause code REFUSED_BY_PEER); onSession never runs', async () => {
    const hellos: unknown[] = [];
    const urls: (string | undefined)[] = [];
    let sessions = 0;
    const listener = await open(
      {
        port: 0,
        onHello: (hello, request) => {
          hellos.push(hello);
          urls.push(request.url);
          return (hello as { token?: string } | undefined)?.token === 'good';
        },
      },
      (s) => {
        sessions++;
        serveRet(s);
      },
    );

    const error = await refused(listener.url, { hello: { token: 'bad', at: new Date(5) } });
    expect(error).toBeInstanceOf(SessionClosedError);
    const cause = (error as Error).cause as { code?: string; name?: string };
    expect(cause?.code).toBe('REFUSED_BY_PEER');
    expect(hellos).toEqual([{ token: 'bad', at: new Date(5) }]);
    expect(urls).toEqual(['/']);
    // Without a hello at all: refused too.
    const none = await refused(listener.url);
    expect(((none as Error).cause as { code?: string })?.code).toBe('REFUSED_BY_PEER');
    expect(sessions).toBe(0);

    // Acceptance: the server's session sees the hello.
    const good = await client(listener.url, { hello: { token: 'good' } });
    const reply = await roundTrip(await requestsOn(good), 4);
    expect(reply.hello).toEqual({ token: 'good' });
    expect(sessions).toBe(1);
    expect(listener.sessions.size).toBe(1);
    const [server] = [...listener.sessions];
    expect(server?.peer.hello).toEqual({ token: 'good' });
  }, 30_000);

  it('an async onHello can accept; one that rejects or throws refuses (REFUSED_BY_PEER)', async () => {
    let sessions = 0;
    const listener = await open(
      {
        port: 0,
        onHello: async (hello) => {
          await new Promise((resolve) => setTimeout(resolve, 5));
          if (hello === 'throw') throw new Error('verifier failed');
          return hello === 'ok';
        },
      },
      (s) => {
        sessions++;
        serveRet(s);
      },
    );
    const thrown = await refused(listener.url, { hello: 'throw' });
    expect(thrown).toBeInstanceOf(SessionClosedError);
    expect(((thrown as Error).cause as { code?: string })?.code).toBe('REFUSED_BY_PEER');
    const no = await refused(listener.url, { hello: 'no' });
    expect(((no as Error).cause as { code?: string })?.code).toBe('REFUSED_BY_PEER');
    expect(sessions).toBe(0);
    const ok = await client(listener.url, { hello: 'ok' });
    expect((await roundTrip(await requestsOn(ok), 11)).hello).toBe('ok');
    expect(sessions).toBe(1);
  }, 30_000);

  it('a refusal: the client sees a ProtocolError cause; onSession never runs; the server keeps no session', async () => {
    const listener = await open({ port: 0, onHello: () => false }, () => {
      throw new Error('onSession must not run');
    });
    const error = await refused(listener.url);
    expect(((error as Error).cause as Error) instanceof ProtocolError || ((error as Error).cause as { name?: string })?.name === 'ProtocolError').toBe(true);
    // The server forgets the refused session.
    await until(() => listener.sessions.size === 0, 'the refused session leaves the table');
    expect(listener.sessions.size).toBe(0);
  }, 20_000);
});

describe('listenWebSocket: close()', () => {
  it('with every client gone, close() resolves and frees the port', async () => {
    const listener = await open({ port: 0 });
    const port = listener.port;
    const c = await client(listener.url);
    const requests = await requestsOn(c);
    expect((await roundTrip(requests, 1)).doubled).toBe(2);
    await requests.close();
    await within(c.close(), 10_000, 'client close()');
    await within(listener.close(), 10_000, 'listener.close()');
    await expectPortFree(port);
  }, 30_000);

  it('ends idle sessions cleanly (client closed resolves, a pending accept rejects SessionClosedError) and frees the port', async () => {
    const listener = await open({ port: 0 });
    const port = listener.port;
    const a = await client(listener.url);
    const b = await client(listener.url);
    const pendingAccept = a.accept().then(
      () => 'accepted',
      (e: unknown) => e,
    );
    expect(listener.sessions.size).toBe(2);

    await within(listener.close(), 10_000, 'listener.close() with two idle clients connected');
    await within(a.closed, 10_000, 'client a closed');
    await within(b.closed, 10_000, 'client b closed');
    expect(await within(pendingAccept, 10_000, 'pending accept')).toBeInstanceOf(SessionClosedError);
    expect(listener.sessions.size).toBe(0);
    await expect(a.openSender()).rejects.toBeInstanceOf(SessionClosedError);

    // The port is free: a new server can bind it, and nobody answers there any more before that.
    expect(await refused(`ws://127.0.0.1:${port}/`, { handshakeTimeoutMs: 5_000 })).toBeInstanceOf(SessionClosedError);
    await expectPortFree(port);
    // close() again is the same promise, already settled.
    await within(listener.close(), 1_000, 'second close()');
  }, 30_000);

  it('sessions with open channels: pending receives reject SessionClosedError once closeTimeoutMs passes; clients settle', async () => {
    const serverSenders: Sender<number>[] = [];
    const listener = await open({ port: 0, closeTimeoutMs: 200 }, (s) => {
      void (async () => {
        const tx = await s.openSender<number>();
        serverSenders.push(tx);
        await tx.send(1);
      })().catch(() => {});
    });
    const cs = await Promise.all([client(listener.url), client(listener.url), client(listener.url)]);
    const rxs: Receiver<number>[] = [];
    for (const c of cs) {
      const rx = await within(c.accept<number>(), 10_000, 'accept the server channel');
      expect(await within(rx.receive(), 10_000, 'first value')).toBe(1);
      rxs.push(rx);
    }
    const pending = rxs.map((rx) =>
      rx.receive().then(
        (v) => v,
        (e: unknown) => e,
      ),
    );
    await within(listener.close(), 10_000, 'listener.close() with closeTimeoutMs 200 and three clients connected');
    for (const p of pending) expect(await within(p, 10_000, 'pending receive')).toBeInstanceOf(SessionClosedError);
    for (const c of cs) {
      const settled = await within(
        c.closed.then(
          () => 'resolved',
          (e: unknown) => e,
        ),
        10_000,
        'client closed',
      );
      expect(settled === 'resolved' || settled instanceof SessionClosedError).toBe(true);
    }
    await expect(rxs[0]!.receive()).rejects.toBeInstanceOf(SessionClosedError);
    expect(listener.sessions.size).toBe(0);
  }, 30_000);
});
