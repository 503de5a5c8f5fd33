/**
 * The WebSocket link under real sockets: binary messages only, frames of one
 * tick coalesced into one message (order kept), flow control bounding what a
 * sender can push at a receiver that stops reading, received binary owning
 * its own memory, a dropped socket settling everything on both sides with
 * the close code, and a session outliving its handshake timeout.
 */
import { createServer, type Server } from 'node:http';
import { createServer as createNetServer, type Server as NetServer, type Socket } from 'node:net';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { WebSocketServer, type WebSocket as WsSocket } from 'ws';
import { MAX_STREAM_FRAME, SessionClosedError, splitBatch, type Receiver } from '../../core/src/index.js';
import { positionedBytes, readPositioned, until } from '../../core/test/session/helpers.js';
import { decodeFrame, FrameType } from '../../core/src/session/frames.js';
import { acceptWebSocket, WebSocketCloseError, WebSocketLink, type WebSocketLike } from '../src/node.js';
import { connect, countingWebSocket, listen, roundTrip, serveRet, turns, within, type Listener, type Request, type Session } from './helpers.js';

vi.mock('@libchan/core', () => import('../../core/src/index.js'));

const listeners: Listener[] = [];
const clients: Session[] = [];
const servers: Server[] = [];
const netServers: NetServer[] = [];
const rawSockets: Socket[] = [];
const wsServers: WebSocketServer[] = [];

afterEach(async () => {
  for (const c of clients.splice(0)) c.abort(new Error('test over'));
  for (const l of listeners) for (const s of l.sessions) s.abort(new Error('test over'));
  await Promise.all(listeners.splice(0).map((l) => l.close()));
  for (const w of wsServers.splice(0)) {
    for (const c of w.clients) c.terminate();
    await new Promise<void>((resolve) => w.close(() => resolve()));
  }
  for (const socket of rawSockets.splice(0)) socket.destroy();
  await Promise.all(netServers.splice(0).map((n) => new Promise<void>((resolve) => n.close(() => resolve()))));
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

/** A listener whose onSession hands each server session to the test, plus a connected client. */
async function pair(
  serverOptions: Parameters<typeof listen>[0] = { port: 0 },
  clientOptions: Parameters<typeof connect>[1] = {},
): Promise<{ listener: Listener; client: Session; server: Session }> {
  let resolveServer!: (s: Session) => void;
  const serverReady = new Promise<Session>((resolve) => {
    resolveServer = resolve;
  });
  const listener = await listen(serverOptions, (s) => resolveServer(s));
  listeners.push(listener);
  const client = await within(connect(listener.url, clientOptions), 10_000, 'connect');
  clients.push(client);
  const server = await within(serverReady, 10_000, 'server session');
  return { listener, client, server };
}

/** Every outcome of a promise, as a value (never throws). */
function outcome<T>(promise: Promise<T>): Promise<{ ok: true; value: T } | { ok: false; error: unknown }> {
  return promise.then(
    (value) => ({ ok: true as const, value }),
    (error: unknown) => ({ ok: false as const, error }),
  );
}

function expectClosedBySocket(result: { ok: boolean; error?: unknown }, closeCode: number, what: string): void {
  expect(result.ok, `${what} should reject`).toBe(false);
  const error = (result as { error: unknown }).error;
  expect(error, `${what}: ${String(error)}`).toBeInstanceOf(SessionClosedError);
  const cause = (error as Error).cause;
  expect(cause, `${what}: cause ${String(cause)}`).toBeInstanceOf(WebSocketCloseError);
  expect((cause as WebSocketCloseError).closeCode, what).toBe(closeCode);
  expect((cause as WebSocketCloseError).code).toBe('WEBSOCKET_CLOSED');
}

describe('WebSocket link: binary messages and coalescing', () => {
  it('only binary messages cross, both ways; the handshake and every later message parse as length-prefixed frames', async () => {
    const counter = countingWebSocket();
    const { client, server } = await pair({ port: 0 }, { WebSocket: counter.ctor });
    const big = await client.openSender<string>();
    const bigRx = await within(server.accept<string>(), 10_000, 'accept');
    serveRet(server); // takes every later channel
    const requests = await client.openSender<Request>();
    for (let i = 0; i < 20; i++) await roundTrip(requests, i);
    const text = 'x'.repeat(200_000);
    await big.send(text);
    expect(await bigRx.receive()).toBe(text);

    expect(counter.sent.length).toBeGreaterThan(0);
    for (const message of counter.sent) {
      expect(message).toBeInstanceOf(Uint8Array);
      expect(splitBatch(message).length).toBeGreaterThan(0);
    }
    expect(counter.received.length).toBeGreaterThan(0);
    for (const message of counter.received) {
      // `ws` hands text frames over as strings only with isBinary false; binary as Buffer.
      expect(typeof message).not.toBe('string');
      expect(Buffer.isBuffer(message) || message instanceof ArrayBuffer).toBe(true);
    }
  }, 20_000);

  it('200 sends in one tick leave in far fewer WebSocket messages than sends, and arrive in order', async () => {
    const counter = countingWebSocket();
    const { client, server } = await pair({ port: 0 }, { WebSocket: counter.ctor });
    const tx = await client.openSender<{ i: number; pad: string }>();
    const rx = await server.accept<{ i: number; pad: string }>();
    // Settle the handshake traffic first, then count only the burst.
    await turns(5);
    const before = counter.sent.length;
    const n = 200;
    const sends = Array.from({ length: n }, (_, i) => tx.send({ i, pad: 'p'.repeat(i % 7) }));
    await within(Promise.all(sends), 10_000, 'the burst of sends');
    const got: number[] = [];
    for (let i = 0; i < n; i++) got.push((await within(rx.receive(), 10_000, `receive ${i}`)).i);
    expect(got).toEqual(Array.from({ length: n }, (_, i) => i));
    const messages = counter.sent.length - before;
    // Credit frames coming back are on the other socket; what the client sent for the burst is data.
    expect(messages).toBeGreaterThan(0);
    expect(messages, `${n} sends took ${messages} WebSocket messages`).toBeLessThan(n / 4);
    // At least one message carries many frames.
    const frameCounts = counter.sent.slice(before).map((m) => splitBatch(m).length);
    expect(Math.max(...frameCounts)).toBeGreaterThan(10);
  }, 20_000);

  it('a Ret reply (send, then close after an await) leaves the server as one WebSocket message: its MSG and CLOSE travel together', async () => {
    const counter = countingWebSocket();
    const { client, server } = await pair({ port: 0 }, { WebSocket: counter.ctor });
    serveRet(server);
    const requests = await client.openSender<Request>();
    await roundTrip(requests, -1);
    await turns(5);
    const before = counter.received.length;
    const n = 30;
    for (let i = 0; i < n; i++) await within(roundTrip(requests, i), 10_000, `round trip ${i}`);
    const replies = counter.received.slice(before).map((m) => splitBatch(new Uint8Array(m as Buffer)).map((f) => decodeFrame(f)));
    const closes = replies.filter((frames) => frames.some((f) => f.type === FrameType.Close));
    expect(closes.length, 'a CLOSE per reply').toBe(n);
    for (const frames of closes) {
      const close = frames.find((f) => f.type === FrameType.Close) as { id: number };
      expect(
        frames.some((f) => f.type === FrameType.Message && f.id === close.id),
        `the reply's MSG shares the message with its CLOSE: ${frames.map((f) => f.type).join(',')}`,
      ).toBe(true);
    }
  }, 20_000);
});

describe('WebSocket link: large batches', () => {
  it('a byte stream leaves in big messages, each within one frame\'s worth (what a listener\'s maxPayload admits), in order', async () => {
    const counter = countingWebSocket();
    const { client, server } = await pair({ port: 0 }, { WebSocket: counter.ctor });
    const tx = await client.openSender<{ body: ReadableStream<Uint8Array> }>();
    const rx = await server.accept<{ body: ReadableStream<Uint8Array> }>();
    await turns(5);
    const before = counter.sent.length;
    const total = 8 * 1024 * 1024;
    await tx.send({ body: positionedBytes(total) });
    const received = (await within(rx.receive(), 10_000, 'the message')).body;
    const { bytes, wrong } = await readPositioned(received);
    expect(bytes).toBe(total);
    expect(wrong).toBe(0);
    const sizes = counter.sent.slice(before).map((m) => m.byteLength);
    expect(Math.max(...sizes)).toBeLessThanOrEqual(MAX_STREAM_FRAME);
    expect(Math.max(...sizes), 'batches carry several 64 KiB frames').toBeGreaterThan(512 * 1024);
    // Big batches reuse buffers. Once the stream is read, every batch is written and its
    // buffer is back (at most REUSED_BATCHES_KEPT kept): the next stream's first big batch reuses one.
    const big = counter.sent.slice(before).filter((m) => m.byteLength >= 512 * 1024);
    expect(big.length).toBeGreaterThan(0);
    const used = new Set(big.map((m) => m.buffer));
    await turns(5);
    const again = counter.sent.length;
    await tx.send({ body: positionedBytes(2 * 1024 * 1024) });
    const second = await readPositioned((await within(rx.receive(), 10_000, 'the second message')).body);
    expect(second).toEqual({ bytes: 2 * 1024 * 1024, wrong: 0 });
    const next = counter.sent.slice(again).find((m) => m.byteLength >= 512 * 1024);
    expect(next, 'a big batch in the second stream').toBeDefined();
    expect(used.has((next as Uint8Array).buffer), 'its buffer is one the first stream used').toBe(true);
  }, 30_000);

  it('a big batch\'s buffer goes back only when `ws` calls back: batches it has not written never share memory', () => {
    const sends: { data: Uint8Array; written: () => void }[] = [];
    // The surface of a `ws` WebSocket the link uses (`on` and `terminate` make it `ws`), with writes held until the test completes them.
    const socket = {
      readyState: 1,
      binaryType: 'nodebuffer',
      bufferedAmount: 0,
      send: (data: Uint8Array, written: () => void) => void sends.push({ data, written }),
      close: () => {},
      addEventListener: () => {},
      on: () => {},
      terminate: () => {},
    };
    const link = new WebSocketLink(socket as unknown as WebSocketLike);
    link.start({ frame: () => {}, drain: () => {}, end: () => {} });
    const batch = (fill: number): void => {
      link.sendSplit(new Uint8Array([fill]), new Uint8Array(600 * 1024).fill(fill));
      link.flush();
    };
    for (let i = 0; i < 6; i++) batch(i);
    expect(sends).toHaveLength(6);
    expect(new Set(sends.map((s) => s.data.buffer)).size, 'six batches not yet written').toBe(6);
    sends[2]!.written();
    batch(6);
    expect(sends[6]!.data.buffer, 'the one written batch\'s buffer carries the next').toBe(sends[2]!.data.buffer);
    batch(7);
    expect(sends.slice(0, 7).map((s) => s.data.buffer)).not.toContain(sends[7]!.data.buffer);
    // Each batch still holds its own bytes: nothing written over one `ws` has not written.
    for (const [i, { data }] of sends.entries()) if (i !== 2) expect(data[data.byteLength - 1], `batch ${i}`).toBe(i);
    link.close();
  });

  it('with permessage-deflate (`ws` compresses later, holding the batch meanwhile): 8 MiB each way arrive as sent', async () => {
    const wss = new WebSocketServer({ port: 0, host: '127.0.0.1', perMessageDeflate: true });
    wsServers.push(wss);
    await new Promise<void>((resolve) => wss.once('listening', () => resolve()));
    let accepted!: (session: Session) => void;
    const serverSide = new Promise<Session>((resolve) => (accepted = resolve));
    let extensions = '';
    wss.on('connection', (socket) => {
      extensions = socket.extensions;
      accepted(acceptWebSocket(socket as unknown as WebSocketLike) as unknown as Session);
    });
    const client = await within(connect(`ws://127.0.0.1:${(wss.address() as { port: number }).port}`), 10_000, 'connect');
    clients.push(client);
    const server = await within(serverSide, 10_000, 'server session');
    expect(extensions).toContain('permessage-deflate');
    const total = 8 * 1024 * 1024;
    const up = await client.openSender<{ body: ReadableStream<Uint8Array> }>();
    const down = await server.openSender<{ body: ReadableStream<Uint8Array> }>();
    const [upRx, downRx] = await Promise.all([server.accept<{ body: ReadableStream<Uint8Array> }>(), client.accept<{ body: ReadableStream<Uint8Array> }>()]);
    await Promise.all([up.send({ body: positionedBytes(total) }), down.send({ body: positionedBytes(total) })]);
    const [upBody, downBody] = await Promise.all([within(upRx.receive(), 10_000, 'upload'), within(downRx.receive(), 10_000, 'download')]);
    const results = await within(Promise.all([readPositioned(upBody.body), readPositioned(downBody.body)]), 30_000, 'both streams');
    for (const { bytes, wrong } of results) {
      expect(bytes).toBe(total);
      expect(wrong).toBe(0);
    }
    server.abort();
  }, 40_000);

  it('server → client (unmasked: `ws` writes the batch itself) while the client\'s TCP reading is paused: every byte arrives as sent', async () => {
    const wss = new WebSocketServer({ port: 0, host: '127.0.0.1' });
    wsServers.push(wss);
    await new Promise<void>((resolve) => wss.once('listening', () => resolve()));
    let accepted!: (pair: { socket: WsSocket; session: Session }) => void;
    const serverSide = new Promise<{ socket: WsSocket; session: Session }>((resolve) => (accepted = resolve));
    wss.on('connection', (socket) => accepted({ socket, session: acceptWebSocket(socket as unknown as WebSocketLike) as unknown as Session }));
    const counter = countingWebSocket();
    // The client grants a window bigger than the stream: only the sockets hold the server back.
    const window = 32 * 1024 * 1024;
    const url = `ws://127.0.0.1:${(wss.address() as { port: number }).port}`;
    const client = await within(connect(url, { WebSocket: counter.ctor, initialWindowBytes: window, sessionWindowBytes: 2 * window }), 10_000, 'connect');
    clients.push(client);
    const { socket, session: server } = await within(serverSide, 10_000, 'server session');
    const tx = await server.openSender<{ body: ReadableStream<Uint8Array> }>();
    const rx = await client.accept<{ body: ReadableStream<Uint8Array> }>();
    const tcp = (counter.sockets[0] as unknown as { _socket: Socket })._socket;
    tcp.pause();
    const total = 24 * 1024 * 1024;
    await tx.send({ body: positionedBytes(total) });
    // The kernel's buffers are full and `ws` holds batches it has not written yet.
    await until(() => socket.bufferedAmount > 512 * 1024, 'batches waiting in ws', { ms: 10_000 });
    await turns(20);
    tcp.resume();
    const received = (await within(rx.receive(), 10_000, 'the message')).body;
    const { bytes, wrong } = await within(readPositioned(received), 20_000, 'the stream');
    expect(bytes).toBe(total);
    expect(wrong).toBe(0);
    server.abort();
  }, 40_000);
});

describe('WebSocket link: backpressure', () => {
  it('a receiver that never reads stops its sender after about one window; other channels keep flowing; reading resumes in order', async () => {
    const window = 64 * 1024;
    const { client, server } = await pair({ port: 0, initialWindowBytes: window });
    const slow = await client.openSender<Uint8Array>();
    // The server accepts the slow channel but never receives from it (until the end).
    const slowRx = await within(server.accept<Uint8Array>(), 10_000, 'accept slow');
    serveRet(server); // takes every later channel
    const requests = await client.openSender<Request>();

    const msg = 4 * 1024;
    const limit = Math.ceil((8 * window) / msg);
    let resolvedBytes = 0;
    let resolvedCount = 0;
    const pendings: Promise<void>[] = [];
    let stalled = false;
    for (let i = 0; i < limit && !stalled; i++) {
      const chunk = new Uint8Array(msg).fill(i % 251);
      let done = false;
      const p = slow.send(chunk).then(() => {
        done = true;
        resolvedBytes += msg;
        resolvedCount++;
      });
      pendings.push(p);
      // A Ret round trip over the same socket: every CREDIT the server sent before its reply has been handled.
      await within(roundTrip(requests, i), 10_000, 'sync round trip');
      if (!done) stalled = true;
    }
    expect(stalled, 'sends on a channel nobody reads never stopped resolving').toBe(true);
    // Still stalled after more round trips: nothing moves without a read.
    for (let i = 0; i < 5; i++) await roundTrip(requests, 1000 + i);
    expect(resolvedBytes).toBeLessThanOrEqual(window + msg);
    expect(resolvedBytes).toBeGreaterThanOrEqual(window / 2);
    expect(resolvedCount).toBe(pendings.length - 1);

    // Reading resumes the sender; everything arrives in order.
    for (let i = 0; i < pendings.length; i++) {
      const got = await within(slowRx.receive(), 10_000, `slow receive ${i}`);
      expect(got.byteLength).toBe(msg);
      expect(got[0]).toBe(i % 251);
    }
    await within(Promise.all(pendings), 10_000, 'the stalled sends resolve');
  }, 30_000);

  it('a large byte stream to a reader that pauses is bounded by the window (a producer pull count check)', async () => {
    const window = 64 * 1024;
    const { client, server } = await pair({ port: 0, initialWindowBytes: window });
    const tx = await client.openSender<ReadableStream<Uint8Array>>();
    const rx = await within(server.accept<ReadableStream<Uint8Array>>(), 10_000, 'accept');
    serveRet(server); // takes every later channel
    const requests = await client.openSender<Request>();
    const chunk = 16 * 1024;
    const total = 64;
    let pulled = 0;
    const source = new ReadableStream<Uint8Array>(
      {
        pull(controller) {
          if (pulled === total) {
            controller.close();
            return;
          }
          controller.enqueue(new Uint8Array(chunk).fill(pulled));
          pulled++;
        },
      },
      { highWaterMark: 0 },
    );
    await tx.send(source);
    const readable = await rx.receive();
    // Nobody reads yet: after round trips, the producer has been pulled for about one window only.
    for (let i = 0; i < 5; i++) await roundTrip(requests, i);
    expect(pulled * chunk).toBeLessThanOrEqual(2 * window + 2 * chunk);
    expect(pulled).toBeLessThan(total);
    // Reading drains everything, byte-exact.
    const reader = readable.getReader();
    let received = 0;
    for (;;) {
      const { done, value } = await within(reader.read(), 10_000, 'read');
      if (done) break;
      for (let o = 0; o < value.byteLength; o++) {
        if (value[o] !== Math.floor((received + o) / chunk)) throw new Error(`byte ${received + o} is wrong`);
      }
      received += value.byteLength;
    }
    expect(received).toBe(chunk * total);
  }, 30_000);
});

describe('WebSocket link: received binary owns its memory', () => {
  it('a received Uint8Array is exactly the bytes sent (not a view into the socket buffer); typed arrays keep their type', async () => {
    const { client, server } = await pair();
    const tx = await client.openSender<unknown>();
    const rx = await server.accept<unknown>();
    const back = await server.openSender<unknown>();
    const backRx = await client.accept<unknown>();
    const value = { n: 1, data: new Uint8Array([1, 2, 3]), f64: new Float64Array([1.5, -2]) };

    await tx.send(value);
    const got = (await within(rx.receive(), 10_000, 'server receive')) as typeof value;
    expect(got.data.byteLength, 'server side: Uint8Array length').toBe(3);
    expect(Array.from(got.data)).toEqual([1, 2, 3]);
    expect(got.data.buffer.byteLength, 'server side: the Uint8Array owns its buffer').toBe(3);
    expect(got.f64).toBeInstanceOf(Float64Array);
    expect(Array.from(got.f64)).toEqual([1.5, -2]);

    await back.send(value);
    const echoed = (await within(backRx.receive(), 10_000, 'client receive')) as typeof value;
    expect(echoed.data.byteLength, 'client side: Uint8Array length').toBe(3);
    expect(echoed.data.buffer.byteLength, 'client side: the Uint8Array owns its buffer').toBe(3);
    expect(Array.from(echoed.f64)).toEqual([1.5, -2]);
  }, 20_000);
});

describe('WebSocket link: a socket that drops', () => {
  /** Both sides with something pending: receives, accepts, sends waiting for credit, `closed` promises. */
  async function pendingEverywhere(client: Session, server: Session) {
    const toServer = await client.openSender<Uint8Array>();
    const toServerRx = await within(server.accept<Uint8Array>(), 10_000, 'accept');
    const toClient = await server.openSender<Uint8Array>();
    const toClientRx = await within(client.accept<Uint8Array>(), 10_000, 'accept');
    const quiet = await client.openSender<number>();
    const quietRx = await within(server.accept<number>(), 10_000, 'accept');
    const quietToClient = await server.openSender<number>();
    const quietToClientRx = await within(client.accept<number>(), 10_000, 'accept');
    // Fill each window (a message that takes a whole window goes because the window is fully open);
    // nobody reads, so the next send on each waits for credit that never comes.
    await toServer.send(new Uint8Array(server.options.initialWindowBytes));
    await toClient.send(new Uint8Array(client.options.initialWindowBytes));
    const pending: Record<string, Promise<{ ok: boolean; error?: unknown }>> = {
      // On a channel of its own: taking the window-filler off toClientRx would return its credit and let serverSend go.
      clientReceive: outcome(quietToClientRx.receive()),
      clientAccept: outcome(client.accept()),
      clientSend: outcome(toServer.send(new Uint8Array(1024))),
      clientChannelClosed: outcome(toServer.closed),
      clientClosed: outcome(client.closed),
      serverReceive: outcome(quietRx.receive()),
      serverAccept: outcome(server.accept()),
      serverSend: outcome(toClient.send(new Uint8Array(1024))),
      serverChannelClosed: outcome(toClient.closed),
      serverClosed: outcome(server.closed),
    };
    void quiet;
    void quietToClient;
    void toClientRx;
    return { pending, toServerRx };
  }

  it('the client terminates its socket: everything pending on both sides settles with SessionClosedError, cause WebSocketCloseError 1006', async () => {
    const counter = countingWebSocket();
    const { client, server } = await pair({ port: 0 }, { WebSocket: counter.ctor });
    const { pending, toServerRx } = await pendingEverywhere(client, server);
    await turns(3);
    counter.sockets[0]?.terminate();

    for (const [name, p] of Object.entries(pending)) {
      const result = await within(p, 10_000, `${name} settles after the drop`);
      expectClosedBySocket(result, 1006, name);
    }
    // The session failed: even data that had arrived is not delivered any more.
    const late = await outcome(toServerRx.receive());
    expect(late.ok === false && late.error instanceof SessionClosedError).toBe(true);
    await expect(client.openSender()).rejects.toBeInstanceOf(SessionClosedError);
    await expect(server.openSender()).rejects.toBeInstanceOf(SessionClosedError);
  }, 30_000);

  it('the server side destroys the TCP socket: the client settles everything with SessionClosedError, cause 1006; the server too', async () => {
    const http = createServer();
    servers.push(http);
    const sockets: Socket[] = [];
    http.on('connection', (socket) => sockets.push(socket));
    await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
    const { listener, client, server } = await pair({ server: http });
    const { pending } = await pendingEverywhere(client, server);
    expect(sockets.length).toBeGreaterThan(0);
    for (const s of sockets) s.destroy();

    for (const [name, p] of Object.entries(pending)) {
      const result = await within(p, 10_000, `${name} settles after the drop`);
      expectClosedBySocket(result, 1006, name);
    }
    await until(() => listener.sessions.size === 0, 'the dropped sessions leave the table');
    expect(listener.sessions.size).toBe(0);
  }, 30_000);

  it('a for-await over a channel throws (does not end quietly) when the socket drops', async () => {
    const counter = countingWebSocket();
    const { client, server } = await pair({ port: 0 }, { WebSocket: counter.ctor });
    const tx = await server.openSender<number>();
    const rx = (await client.accept<number>()) as Receiver<number>;
    await tx.send(1);
    const loop = outcome(
      (async () => {
        const seen: number[] = [];
        for await (const v of rx) {
          seen.push(v);
          if (seen.length === 1) counter.sockets[0]?.terminate();
        }
        return seen;
      })(),
    );
    const result = await within(loop, 10_000, 'for-await after the drop');
    expectClosedBySocket(result, 1006, 'for-await');
  }, 20_000);

  it('a socket closed with a code other than 1000 (4000, with a reason): the session cause carries that code and reason', async () => {
    const counter = countingWebSocket();
    const { client, server } = await pair({ port: 0 }, { WebSocket: counter.ctor });
    const rx = outcome(server.accept());
    const clientSide = outcome(client.accept());
    counter.sockets[0]?.close(4000, 'going');
    const serverResult = await within(rx, 10_000, 'server accept');
    expectClosedBySocket(serverResult, 4000, 'server accept');
    expect(((serverResult as { error: Error }).error.cause as WebSocketCloseError).reason).toBe('going');
    const clientResult = await within(clientSide, 10_000, 'client accept');
    expect(clientResult.ok).toBe(false);
    expect((clientResult as { error: unknown }).error).toBeInstanceOf(SessionClosedError);
  }, 20_000);
});

describe('WebSocket session lifetime', () => {
  it('a connected client outlives its handshakeTimeoutMs (the handshake timer is cleared once ready)', async () => {
    const handshakeTimeoutMs = 2_000;
    const { client, server } = await pair({ port: 0, handshakeTimeoutMs }, { handshakeTimeoutMs });
    serveRet(server);
    const requests = await client.openSender<Request>();
    await roundTrip(requests, 1);
    const ended: string[] = [];
    client.closed.then(
      () => ended.push('client closed cleanly'),
      (error: unknown) => ended.push(`client: ${String(error)} (cause ${String((error as Error).cause)})`),
    );
    server.closed.then(
      () => ended.push('server closed cleanly'),
      (error: unknown) => ended.push(`server: ${String(error)} (cause ${String((error as Error).cause)})`),
    );
    // Wait well past the handshake timeout (wall-clock on purpose: this is about a timer).
    await new Promise((resolve) => setTimeout(resolve, 2.25 * handshakeTimeoutMs));
    expect(ended, 'a session that finished its handshake ended by itself').toEqual([]);
    expect((await within(roundTrip(requests, 2), 5_000, 'round trip after the handshake timeout')).doubled).toBe(4);
  }, 20_000);
});

describe('connectWebSocket: failures while connecting never hang', () => {
  /** A TCP server that accepts connections and never answers (sockets kept for cleanup). */
  async function silentServer(): Promise<{ port: number }> {
    const server = createNetServer((socket) => {
      rawSockets.push(socket);
      socket.on('error', () => {});
    });
    netServers.push(server);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return { port: (server.address() as { port: number }).port };
  }

  /** A plain `ws` server on its own port. */
  async function wsServer(onConnection: (socket: WsSocket) => void): Promise<string> {
    const wss = new WebSocketServer({ port: 0, host: '127.0.0.1' });
    wsServers.push(wss);
    wss.on('connection', onConnection);
    await new Promise<void>((resolve) => wss.once('listening', () => resolve()));
    return `ws://127.0.0.1:${(wss.address() as { port: number }).port}/`;
  }

  it('nothing listening on the port: rejects SessionClosedError', async () => {
    const probe = createNetServer();
    await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
    const port = (probe.address() as { port: number }).port;
    await new Promise<void>((resolve) => probe.close(() => resolve()));
    const result = await within(outcome(connect(`ws://127.0.0.1:${port}/`)), 10_000, 'connect to a closed port');
    expect(result.ok).toBe(false);
    expect((result as { error: unknown }).error).toBeInstanceOf(SessionClosedError);
  }, 20_000);

  it('a server that never answers the upgrade: rejects SessionClosedError after handshakeTimeoutMs', async () => {
    const { port } = await silentServer();
    const result = await within(outcome(connect(`ws://127.0.0.1:${port}/`, { handshakeTimeoutMs: 300 })), 10_000, 'connect to a silent server');
    expect(result.ok).toBe(false);
    expect((result as { error: unknown }).error).toBeInstanceOf(SessionClosedError);
  }, 20_000);

  it('aborting the signal while connecting rejects with its reason', async () => {
    const { port } = await silentServer();
    const controller = new AbortController();
    const connecting = outcome(connect(`ws://127.0.0.1:${port}/`, { signal: controller.signal }));
    const reason = new Error('user gave up');
    setTimeout(() => controller.abort(reason), 20);
    const result = await within(connecting, 10_000, 'aborted connect');
    expect(result.ok).toBe(false);
    expect((result as { error: unknown }).error).toBe(reason);
    // An already-aborted signal rejects at once.
    await expect(connect(`ws://127.0.0.1:${port}/`, { signal: AbortSignal.abort(reason) })).rejects.toBe(reason);
  }, 20_000);

  it('a WebSocket server that never sends HELLO: rejects SessionClosedError (HANDSHAKE_TIMEOUT); the server sees 1002', async () => {
    const closes: number[] = [];
    const url = await wsServer((socket) => socket.on('close', (code) => closes.push(code)));
    const result = await within(outcome(connect(url, { handshakeTimeoutMs: 300 })), 10_000, 'connect without a HELLO');
    expect(result.ok).toBe(false);
    const error = (result as { error: unknown }).error;
    expect(error).toBeInstanceOf(SessionClosedError);
    expect(((error as Error).cause as { code?: string }).code).toBe('HANDSHAKE_TIMEOUT');
    await until(() => closes.length > 0, 'the server sees the close');
    expect(closes).toEqual([1002]);
  }, 20_000);

  it('a WebSocket server that sends text: rejects SessionClosedError; the client closes with 1003', async () => {
    const closes: number[] = [];
    const url = await wsServer((socket) => {
      socket.on('close', (code) => closes.push(code));
      socket.send('hello, I am not libchan');
    });
    const result = await within(outcome(connect(url)), 10_000, 'connect to a text server');
    expect(result.ok).toBe(false);
    expect((result as { error: unknown }).error).toBeInstanceOf(SessionClosedError);
    await until(() => closes.length > 0, 'the server sees the close');
    expect(closes).toEqual([1003]);
  }, 20_000);

  it('acceptWebSocket on a socket from a plain ws server talks to connectWebSocket', async () => {
    const servers: Session[] = [];
    const url = await wsServer((socket) => {
      const s = acceptWebSocket(socket as unknown as WebSocketLike, { hello: 'from a plain ws server' }) as unknown as Session;
      servers.push(s);
      serveRet(s);
    });
    const client = await within(connect(url, { hello: 'client' }), 10_000, 'connect');
    clients.push(client);
    expect(client.peer.hello).toBe('from a plain ws server');
    const requests = await client.openSender<Request>();
    expect((await roundTrip(requests, 3)).hello).toBe('client');
    for (const s of servers) s.abort();
  }, 20_000);
});
