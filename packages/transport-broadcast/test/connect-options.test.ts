/**
 * connectBroadcast / listenBroadcast options at the door: invalid session
 * options, AbortSignal, onHello refusal. Every failure must surface as a
 * rejection (or a throw) of the call that caused it — never as an exception
 * inside a BroadcastChannel message handler, never as an unhandled rejection.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { rejectionOf } from '../../core/test/session/helpers.js';
import { SessionClosedError, type Session } from '../../core/src/index.js';
import { BROADCAST_KEEPALIVE_MS, connectBroadcast, listenBroadcast } from '../src/index.js';
import { asSession, broadcastPair, channelName, messagesOf, observe, trapUncaught, until, within } from './helpers.js';

vi.mock('@libchan/core', () => import('../../core/src/index.js'));

type Env = { t?: string };

describe('connect and listen options', () => {
  let trap: ReturnType<typeof trapUncaught>;
  const cleanups: (() => unknown)[] = [];
  beforeEach(() => {
    trap = trapUncaught();
  });
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
    trap.restore();
  });
  const noUncaught = (): void => expect(messagesOf(trap.errors), 'uncaught errors / unhandled rejections').toEqual([]);
  const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

  it('connectBroadcast with an invalid session option rejects promptly with RangeError; nothing throws inside a handler', async () => {
    const name = channelName('bad-connect-options');
    const handed: Session[] = [];
    const listener = listenBroadcast(name, (s) => handed.push(asSession(s)));
    cleanups.push(() => listener.close());
    const started = Date.now();
    const error = await within(5_000, rejectionOf(connectBroadcast(name, { initialWindowBytes: 1, handshakeTimeoutMs: 2_000 })), 'the rejection');
    const elapsed = Date.now() - started;
    noUncaught();
    expect(error).toBeInstanceOf(RangeError);
    expect(elapsed, 'rejected only by the handshake timeout').toBeLessThan(1_000);
    expect(handed).toHaveLength(0);
  }, 15_000);

  it('listenBroadcast with an invalid session option throws RangeError at the call (not in a handler per connector)', async () => {
    const name = channelName('bad-listen-options');
    let listener: ReturnType<typeof listenBroadcast> | undefined;
    let thrown: unknown;
    try {
      listener = listenBroadcast(name, () => {}, { initialWindowBytes: 1 });
      cleanups.push(() => listener?.close());
    } catch (error) {
      thrown = error;
    }
    if (listener) {
      // It did not throw: then a connector must at least be refused cleanly and promptly.
      await rejectionOf(connectBroadcast(name, { handshakeTimeoutMs: 1_000 }));
    }
    noUncaught();
    expect(thrown).toBeInstanceOf(RangeError);
  }, 15_000);

  it('an already-aborted signal: rejects with its reason, posts nothing, leaves no timer that rejects later', async () => {
    const name = channelName('pre-aborted');
    const spy = observe(name);
    cleanups.push(() => spy.close());
    const reason = new Error('aborted before');
    await expect(connectBroadcast(name, { signal: AbortSignal.abort(reason), handshakeTimeoutMs: 200 })).rejects.toBe(reason);
    await sleep(500); // past handshakeTimeoutMs: a leftover handshake timer would have fired
    noUncaught();
    expect((spy.messages as Env[]).filter((e) => e?.t === 'connect')).toEqual([]);
  }, 15_000);

  it('a signal aborted while looking for a listener: rejects promptly with its reason; nothing rejects later', async () => {
    const name = channelName('aborted-while-connecting');
    const ac = new AbortController();
    const pending = connectBroadcast(name, { signal: ac.signal, handshakeTimeoutMs: 300 });
    const reason = new Error('changed my mind');
    ac.abort(reason);
    await expect(within(1_000, pending, 'the rejection')).rejects.toBe(reason);
    await sleep(500);
    noUncaught();
  }, 15_000);

  it('onHello sees the hello; false refuses: connect rejects, onSession never runs, the listener keeps nothing', async () => {
    const name = channelName('onhello');
    const seen: unknown[] = [];
    const handed: Session[] = [];
    const listener = listenBroadcast(name, (s) => handed.push(asSession(s)), {
      onHello: (hello) => {
        seen.push(hello);
        return (hello as { token?: string })?.token === 'good';
      },
    });
    cleanups.push(() => listener.close());
    const refused = await within(5_000, rejectionOf(connectBroadcast(name, { hello: { token: 'bad' } })), 'the refusal');
    expect(refused).toBeInstanceOf(SessionClosedError);
    const ok = asSession(await within(5_000, connectBroadcast(name, { hello: { token: 'good', when: new Date(5) } }), 'the accepted connect'));
    cleanups.push(() => ok.abort());
    await until(5_000, () => handed.length === 1, 'onSession');
    expect(handed[0]?.peer.hello).toEqual({ token: 'good', when: new Date(5) });
    expect(seen).toEqual([{ token: 'bad' }, { token: 'good', when: new Date(5) }]);
    await until(5_000, () => listener.sessions.size === 1, 'the refused session to be forgotten');
    noUncaught();
  }, 15_000);

  it('defaults: keep-alive is long (a peer is declared gone only after ≥ 2 minutes of silence) on both ends', async () => {
    const { a, b, listener } = await broadcastPair();
    cleanups.push(() => listener.close(), () => a.abort());
    expect(BROADCAST_KEEPALIVE_MS).toBeGreaterThanOrEqual(60_000);
    expect(a.options.keepAliveMs).toBe(BROADCAST_KEEPALIVE_MS);
    expect(b.options.keepAliveMs).toBe(BROADCAST_KEEPALIVE_MS);
    expect(2 * a.options.keepAliveMs).toBeGreaterThanOrEqual(120_000);
    // An explicit value wins.
    const custom = await broadcastPair({ keepAliveMs: 5_000 }, { keepAliveMs: 7_000 });
    cleanups.push(() => custom.listener.close(), () => custom.a.abort());
    expect(custom.a.options.keepAliveMs).toBe(5_000);
    expect(custom.b.options.keepAliveMs).toBe(7_000);
    noUncaught();
  }, 15_000);

  it('an onSession that throws aborts only that session: the connector sees SessionClosedError; the listener keeps serving', async () => {
    const name = channelName('onsession-throws');
    let calls = 0;
    const listener = listenBroadcast(name, (s) => {
      calls++;
      if (calls === 1) throw new Error('handler bug');
      void s;
    });
    cleanups.push(() => listener.close());
    const first = asSession(await within(5_000, connectBroadcast(name), 'connect'));
    cleanups.push(() => first.abort());
    expect(await within(5_000, rejectionOf(first.closed), 'the first session to end')).toBeInstanceOf(SessionClosedError);
    const second = asSession(await within(5_000, connectBroadcast(name), 'connect again'));
    cleanups.push(() => second.abort());
    await until(5_000, () => calls === 2 && listener.sessions.size === 1, 'the second session');
    noUncaught();
  }, 15_000);
});
