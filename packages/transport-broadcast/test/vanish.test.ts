/**
 * A peer that goes away. A terminated worker says nothing (no pagehide in a
 * worker, its BroadcastChannel just stops), so the keep-alive must notice:
 * keepAliveMs 200 on both sides, a peer silent for 2 × 200 ms is gone. A
 * listener that close()s ends its sessions itself.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { ChannelClosedError, pipe, SessionClosedError, type Receiver, type Sender, type Session } from '../../core/src/index.js';
import { bytes, rejectionOf } from '../../core/test/session/helpers.js';
import { connectBroadcast, listBroadcastListeners, listenBroadcast } from '../src/index.js';
import { asSession, channelName, settled, startWorker, until, within } from './helpers.js';

vi.mock('@libchan/core', () => import('../../core/src/index.js'));

const KEEPALIVE = { keepAliveMs: 200 };
/** Far above 2 × keepAliveMs, far below the 120 s a default keep-alive would take. */
const BOUND_MS = 5_000;

type Request = { op: 'tick'; ret: Sender<number> } | { op: 'bytes'; readable: ReadableStream<Uint8Array>; ret: Sender<unknown> };

describe('a peer that vanishes', () => {
  const cleanups: (() => unknown)[] = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
  });

  /** Receives until the receiver fails; returns how many values came and the error. */
  async function receiveUntilError(rx: Receiver<number>): Promise<{ count: number; error: unknown }> {
    let count = 0;
    for (;;) {
      try {
        await rx.receive();
        count++;
      } catch (error) {
        return { count, error };
      }
    }
  }

  it('a listening worker terminated mid-stream: the pending receive rejects with SessionClosedError within a bounded time', async () => {
    const name = channelName('vanish-listener');
    const server = await startWorker(name, 'listen', KEEPALIVE);
    cleanups.push(() => server.terminate());
    const session = asSession(await within(10_000, connectBroadcast(name, KEEPALIVE), 'connect'));
    cleanups.push(() => session.abort());
    const requests = await session.openSender<Request>();
    const [ticks, ret] = pipe<number>();
    await requests.send({ op: 'tick', ret });
    for (let i = 0; i < 20; i++) expect(await within(5_000, ticks.receive(), 'a tick')).toBe(i);
    const pendingAccept = session.accept();

    const killedAt = Date.now();
    await server.terminate();
    const { error } = await within(BOUND_MS, receiveUntilError(ticks), 'the receive to fail after the worker died');
    const elapsed = Date.now() - killedAt;
    expect(error).toBeInstanceOf(SessionClosedError);
    expect(elapsed).toBeLessThan(BOUND_MS);
    expect(await within(1_000, rejectionOf(session.closed), 'closed')).toBeInstanceOf(SessionClosedError);
    expect(await within(1_000, rejectionOf(pendingAccept), 'the pending accept')).toBeInstanceOf(SessionClosedError);
    await expect(requests.send({ op: 'tick', ret: pipe<number>()[1] })).rejects.toBeInstanceOf(SessionClosedError);
  }, 20_000);

  it('a connecting worker terminated while this side streams bytes to it: the listener-side session and its channels fail in bounded time', async () => {
    const name = channelName('vanish-connector');
    let deliver!: (s: Session) => void;
    const handed = new Promise<Session>((resolve) => (deliver = resolve));
    const listener = listenBroadcast(name, (s) => deliver(asSession(s)), KEEPALIVE);
    cleanups.push(() => listener.close());
    const worker = await startWorker(name, 'connect', KEEPALIVE);
    cleanups.push(() => worker.terminate());
    const session = await within(10_000, handed, 'onSession');
    const requests = await session.openSender<Request>();

    // A byte stream that never ends: the worker reads it until it dies.
    let pulled = 0;
    const endless = new ReadableStream<Uint8Array>({
      pull(controller) {
        pulled++;
        controller.enqueue(bytes(16 * 1024, pulled));
      },
    });
    const [, ret] = pipe<unknown>();
    await requests.send({ op: 'bytes', readable: endless, ret });
    // Also a tick stream from the worker, to see the receive side fail.
    const [ticks, tickRet] = pipe<number>();
    await requests.send({ op: 'tick', ret: tickRet });
    await within(5_000, ticks.receive(), 'the first tick');
    await until(5_000, () => pulled > 20, 'bytes to flow');

    const killedAt = Date.now();
    await worker.terminate();
    const { error } = await within(BOUND_MS, receiveUntilError(ticks), 'the receive to fail after the worker died');
    expect(error).toBeInstanceOf(SessionClosedError);
    expect(Date.now() - killedAt).toBeLessThan(BOUND_MS);
    expect(await within(1_000, rejectionOf(session.closed), 'closed')).toBeInstanceOf(SessionClosedError);
    // The source stream stops being pulled: its reader was cancelled by the failed session.
    const before = pulled;
    await new Promise((r) => setTimeout(r, 300));
    expect(pulled - before).toBeLessThanOrEqual(1);
    await until(5_000, () => listener.sessions.size === 0, 'the listener to forget the session');
  }, 20_000);

  it('a listener that close()s: idle and busy connectors settle; later connects find nobody', async () => {
    const name = channelName('listener-close');
    const handed: Session[] = [];
    const listener = listenBroadcast(name, (s) => handed.push(asSession(s)), { closeTimeoutMs: 300 });
    cleanups.push(() => listener.close());
    const idle = asSession(await within(10_000, connectBroadcast(name), 'connect idle'));
    const busy = asSession(await within(10_000, connectBroadcast(name), 'connect busy'));
    cleanups.push(() => idle.abort(), () => busy.abort());
    await until(5_000, () => handed.length === 2, 'onSession × 2');
    // busy: an open channel each way, with a receive pending on the connector's side.
    const up = await busy.openSender<number>();
    await Promise.all(handed.map(async (s) => s.openSender<number>())); // one channel to each connector
    const downRx = await busy.accept<number>();
    const idleDownRx = await idle.accept<number>();
    // Observed at once: they reject while listener.close() is awaited, before the checks below.
    const pendingBusy = settled(downRx.receive());
    const pendingIdle = settled(idleDownRx.receive());
    void up.send(1); // a value the listener side never reads

    const started = Date.now();
    await within(5_000, listener.close(), 'listener.close()');
    const results = await within(
      5_000,
      Promise.all([settled(idle.closed), settled(busy.closed), pendingBusy, pendingIdle]),
      "the connectors' sessions to settle",
    );
    expect(Date.now() - started).toBeLessThan(5_000);
    for (const r of results.slice(2)) {
      expect(r.ok).toBe(false);
      if (!r.ok) expect([SessionClosedError, ChannelClosedError].some((E) => r.error instanceof E), String(r.error)).toBe(true);
    }
    expect(listener.sessions.size).toBe(0);
    await expect(idle.openSender()).rejects.toBeDefined();
    expect(await listBroadcastListeners(name, { timeoutMs: 300 })).toEqual([]);
    await expect(within(5_000, connectBroadcast(name, { handshakeTimeoutMs: 300 }), 'connect after close')).rejects.toBeInstanceOf(SessionClosedError);
  }, 15_000);

  it('a listener closing with nothing open ends its sessions cleanly: connectors see closed resolve', async () => {
    const name = channelName('listener-close-clean');
    const listener = listenBroadcast(name, () => {});
    cleanups.push(() => listener.close());
    const a = asSession(await within(10_000, connectBroadcast(name), 'connect'));
    cleanups.push(() => a.abort());
    await until(5_000, () => listener.sessions.size === 1, 'the session');
    await within(5_000, listener.close(), 'listener.close()');
    await expect(within(5_000, a.closed, 'the connector to close')).resolves.toBeUndefined();
    await expect(a.openSender()).rejects.toBeDefined();
  }, 15_000);

  it('a connector that aborts: the listener-side session fails promptly and is forgotten; the listener keeps serving', async () => {
    const name = channelName('connector-abort');
    const handed: Session[] = [];
    const listener = listenBroadcast(name, (s) => handed.push(asSession(s)));
    cleanups.push(() => listener.close());
    const a = asSession(await within(10_000, connectBroadcast(name), 'connect'));
    await until(5_000, () => handed.length === 1, 'onSession');
    const b = handed[0] as Session;
    const pending = b.accept();
    a.abort(new Error('bye now'));
    expect(await within(5_000, rejectionOf(pending), 'the pending accept')).toBeInstanceOf(SessionClosedError);
    expect(await within(5_000, rejectionOf(b.closed), 'closed')).toBeInstanceOf(SessionClosedError);
    await until(5_000, () => listener.sessions.size === 0, 'the listener to forget it');
    const again = asSession(await within(10_000, connectBroadcast(name), 'connect again'));
    cleanups.push(() => again.abort());
    await until(5_000, () => listener.sessions.size === 1, 'the new session');
  }, 15_000);
});
