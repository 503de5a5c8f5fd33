/**
 * Foreign and malformed traffic on the name. BroadcastChannel is shared by every
 * same-origin context, so anything may arrive: it must be ignored, or fail only
 * the one session it is addressed to (and cleanly, on both of its ends) — never
 * throw in a message handler, never disturb other sessions or the listener.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { collect, range, rejectionOf } from '../../core/test/session/helpers.js';
import { SessionClosedError, type Session } from '../../core/src/index.js';
import { connectBroadcast, listBroadcastListeners, listenBroadcast, type BroadcastListener } from '../src/index.js';
import { asSession, channelName, messagesOf, observe, trapUncaught, until, within } from './helpers.js';

vi.mock('@libchan/core', () => import('../../core/src/index.js'));

type Env = { v: number; t: string; from: string; to?: string; session?: string };

/** A frame no session can accept: frame type 0xff does not exist (docs/PROTOCOL.md, Frames). */
const GARBAGE = (): Uint8Array => new Uint8Array([0xff, 0x00, 0xde, 0xad, 0xbe, 0xef]);

describe('foreign and malformed messages on the name', () => {
  let trap: ReturnType<typeof trapUncaught>;
  const cleanups: (() => unknown)[] = [];
  beforeEach(() => {
    trap = trapUncaught();
  });
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
    // Let any late handler run before checking for throws.
    await new Promise((r) => setTimeout(r, 20));
    trap.restore();
    expect(messagesOf(trap.errors), 'uncaught errors / unhandled rejections during the test').toEqual([]);
  });

  interface World {
    name: string;
    listener: BroadcastListener;
    /** Sessions in the order onSession handed them out. */
    handed: Session[];
    rogue: BroadcastChannel;
    spy: ReturnType<typeof observe>;
    /** Connects a new connector; returns both ends and the ids the spy saw in its confirm. */
    join(hello: string): Promise<{ a: Session; b: Session; connectorId: string; session: string }>;
  }

  async function world(): Promise<World> {
    const name = channelName('foreign');
    const spy = observe(name);
    const handed: Session[] = [];
    const listener = listenBroadcast(name, (s) => handed.push(asSession(s)));
    const rogue = new BroadcastChannel(name);
    cleanups.push(() => spy.close(), () => listener.close(), () => rogue.close());
    const join = async (hello: string) => {
      const a = asSession(await within(10_000, connectBroadcast(name, { hello }), 'connectBroadcast'));
      cleanups.push(() => a.abort(new Error('test over')));
      await until(5_000, () => handed.some((s) => s.peer.hello === hello), 'onSession');
      const b = handed.find((s) => s.peer.hello === hello) as Session;
      const confirm = (spy.messages as Env[]).filter((e) => e?.t === 'confirm').at(-1) as Env;
      return { a, b, connectorId: confirm.from, session: confirm.session as string };
    };
    return { name, listener, handed, rogue, spy, join };
  }

  /** `n` values each way over fresh channels: the session is alive and carries exactly its own values. */
  async function healthy(a: Session, b: Session, tag: string, n = 100): Promise<void> {
    const check = async (x: Session, y: Session, t: string) => {
      const tx = await x.openSender<string>();
      const rx = await y.accept<string>();
      const got = collect(rx);
      for (let i = 0; i < n; i++) void tx.send(`${t}${i}`);
      await tx.close();
      expect(await within(10_000, got, `values on ${t}`)).toEqual(range(n).map((i) => `${t}${i}`));
    };
    await check(a, b, `${tag}:a->b:`);
    await check(b, a, `${tag}:b->a:`);
  }

  /** Posts a marker from the rogue and waits until the spy saw it: every earlier post has been dispatched. */
  async function flush(w: World): Promise<void> {
    const marker = `marker-${Math.random()}`;
    w.rogue.postMessage(marker);
    await until(5_000, () => w.spy.messages.includes(marker), 'the marker');
  }

  it('junk of every shape, wrong versions, bad ids and misaddressed envelopes are ignored; sessions and the listener carry on', async () => {
    const w = await world();
    const one = await w.join('one');
    const two = await w.join('two');
    const L = w.listener.id;
    const long = 'x'.repeat(65);
    const junk: unknown[] = [
      'hello',
      '',
      42,
      null,
      undefined,
      true,
      [],
      [1, 2, 3],
      {},
      { v: 1 },
      { t: 'frames' },
      new Uint8Array([1, 2, 3]),
      new ArrayBuffer(16),
      new Date(0),
      new Map([[1, 2]]),
      new Set(['connect']),
      { v: 1, t: 'nonsense', from: 'rogue' },
      JSON.stringify({ v: 1, t: 'connect', from: 'rogue', session: 'json-text' }),
      // wrong versions, otherwise well-formed and addressed to the real sessions
      { v: 2, t: 'connect', from: 'rogue', session: 'v2-session' },
      { v: '1', t: 'probe', from: 'rogue' },
      { v: 0, t: 'frames', from: one.connectorId, to: L, session: one.session, frames: [GARBAGE()] },
      { v: 2, t: 'frames', from: one.connectorId, to: L, session: one.session, frames: [GARBAGE()] },
      { v: 2, t: 'bye', from: one.connectorId, to: L, session: one.session, error: 'v2 bye' },
      { v: 2, t: 'frames', from: L, to: two.connectorId, session: two.session, frames: [GARBAGE()] },
      // bad ids
      { v: 1, t: 'connect', from: '', session: 's' },
      { v: 1, t: 'connect', from: long, session: 's' },
      { v: 1, t: 'connect', from: 7, session: 's' },
      { v: 1, t: 'connect', from: 'rogue', session: long },
      { v: 1, t: 'frames', from: one.connectorId, to: long, session: one.session, frames: [GARBAGE()] },
      { v: 1, t: 'frames', from: one.connectorId, to: L, session: '', frames: [GARBAGE()] },
      { v: 1, t: 'frames', from: one.connectorId, to: L, session: one.session, frames: 'not an array' },
      { v: 1, t: 'frames', from: one.connectorId, to: L, session: one.session, frames: { 0: GARBAGE(), length: 1 } },
      { v: 1, t: 'bye', from: one.connectorId, to: L, session: one.session, error: 42 },
      // frames addressed to someone else (the right session id, the wrong addressee)
      { v: 1, t: 'frames', from: one.connectorId, to: 'someone-else', session: one.session, frames: [GARBAGE()] },
      { v: 1, t: 'frames', from: L, to: 'someone-else', session: two.session, frames: [GARBAGE()] },
      // the right addressee and session, but not from the peer of that session
      { v: 1, t: 'frames', from: 'rogue', to: L, session: one.session, frames: [GARBAGE()] },
      { v: 1, t: 'frames', from: two.connectorId, to: L, session: one.session, frames: [GARBAGE()] },
      { v: 1, t: 'frames', from: 'rogue', to: two.connectorId, session: two.session, frames: [GARBAGE()] },
      { v: 1, t: 'bye', from: 'rogue', to: L, session: one.session, error: 'forged' },
      { v: 1, t: 'bye', from: 'rogue', to: two.connectorId, session: two.session },
      // the right addressee, an unknown session
      { v: 1, t: 'frames', from: one.connectorId, to: L, session: 'no-such-session', frames: [GARBAGE()] },
      { v: 1, t: 'bye', from: one.connectorId, to: L, session: 'no-such-session' },
      // handshake messages out of place
      { v: 1, t: 'connect', from: 'rogue', session: one.session }, // a live session id: no second offer
      { v: 1, t: 'offer', from: 'rogue', to: one.connectorId, session: one.session },
      { v: 1, t: 'confirm', from: 'rogue', to: L, session: 'never-offered' },
      { v: 1, t: 'decline', from: 'rogue', to: L, session: one.session },
      { v: 1, t: 'confirm', from: one.connectorId, to: L, session: one.session },
      { v: 1, t: 'here', from: 'rogue', to: one.connectorId },
      { v: 1, t: 'connect', from: 'rogue', session: 'rogue-session', target: long },
    ];
    for (const message of junk) w.rogue.postMessage(message);
    // Each junk message once more, interleaved with real traffic.
    const traffic = Promise.all([healthy(one.a, one.b, 'one'), healthy(two.a, two.b, 'two')]);
    for (const message of junk) w.rogue.postMessage(message);
    await traffic;
    await flush(w);

    await healthy(one.a, one.b, 'one-after');
    await healthy(two.a, two.b, 'two-after');
    // The listener made no offer for a session id that is already live, and still takes new connectors.
    const offers = (w.spy.messages as Env[]).filter((e) => e?.t === 'offer' && e.from === L);
    expect(offers.filter((e) => e.session === one.session).map((e) => e.to)).toEqual([one.connectorId]);
    expect(await listBroadcastListeners(w.name, { timeoutMs: 300 })).toEqual([L]);
    const three = await w.join('three');
    await healthy(three.a, three.b, 'three');
    expect(w.listener.sessions.size).toBe(3);
  }, 15_000);

  it('garbage frames forged from the connector to the listener fail that one session on both ends; others carry on', async () => {
    const w = await world();
    const victim = await w.join('victim');
    const bystander = await w.join('bystander');
    const tx = await victim.b.openSender<number>();
    const rx = await victim.a.accept<number>();
    const pendingRx = rx.receive();
    const pendingA = victim.a.accept();

    w.rogue.postMessage({ v: 1, t: 'frames', from: victim.connectorId, to: w.listener.id, session: victim.session, frames: [GARBAGE()] });

    // The listener's end fails with SessionClosedError …
    expect(await within(5_000, rejectionOf(victim.b.closed), 'the listener end to fail')).toBeInstanceOf(SessionClosedError);
    // … and so does the connector's end (told by the listener), promptly, not by a keep-alive timeout.
    expect(await within(5_000, rejectionOf(victim.a.closed), 'the connector end to fail')).toBeInstanceOf(SessionClosedError);
    expect(await within(5_000, rejectionOf(pendingRx), 'the pending receive')).toBeInstanceOf(SessionClosedError);
    expect(await within(5_000, rejectionOf(pendingA), 'the pending accept')).toBeInstanceOf(SessionClosedError);
    await expect(tx.send(1)).rejects.toBeInstanceOf(SessionClosedError);
    await until(5_000, () => !w.listener.sessions.has(victim.b as never), 'the listener to forget the session');

    await healthy(bystander.a, bystander.b, 'bystander');
    const next = await w.join('next');
    await healthy(next.a, next.b, 'next');
  }, 15_000);

  it('garbage frames forged from the listener to a connector fail that one session on both ends; others carry on', async () => {
    const w = await world();
    const victim = await w.join('victim');
    const bystander = await w.join('bystander');
    const pendingB = victim.b.accept();

    w.rogue.postMessage({ v: 1, t: 'frames', from: w.listener.id, to: victim.connectorId, session: victim.session, frames: [GARBAGE()] });

    expect(await within(5_000, rejectionOf(victim.a.closed), 'the connector end to fail')).toBeInstanceOf(SessionClosedError);
    expect(await within(5_000, rejectionOf(victim.b.closed), 'the listener end to fail')).toBeInstanceOf(SessionClosedError);
    expect(await within(5_000, rejectionOf(pendingB), 'the pending accept')).toBeInstanceOf(SessionClosedError);
    await healthy(bystander.a, bystander.b, 'bystander');
  }, 15_000);

  it('non-binary frames (a string, a number, an ArrayBuffer) forged from the peer fail the addressed session only', async () => {
    const w = await world();
    const bystander = await w.join('bystander');
    for (const [i, bad] of (['text frame', 42, new ArrayBuffer(8)] as unknown[]).entries()) {
      const victim = await w.join(`victim-${i}`);
      w.rogue.postMessage({ v: 1, t: 'frames', from: victim.connectorId, to: w.listener.id, session: victim.session, frames: [bad] });
      const error = await within(5_000, rejectionOf(victim.b.closed), 'the listener end to fail');
      expect(error).toBeInstanceOf(SessionClosedError);
      expect((error as Error).cause).toMatchObject({ name: 'ProtocolError', code: 'BAD_FRAME' });
      // The connector must be told (as for garbage bytes, where the session's GOAWAY and the
      // link's error bye go out), not left to find out by a keep-alive timeout (2 × 60 s).
      expect(
        await within(5_000, rejectionOf(victim.a.closed), `the connector end to fail after a non-binary frame (${typeof bad})`),
      ).toBeInstanceOf(SessionClosedError);
    }
    await healthy(bystander.a, bystander.b, 'bystander');
  }, 15_000);

  it('a rogue that completes the handshake envelopes but sends garbage instead of HELLO never reaches onSession', async () => {
    const w = await world();
    const bystander = await w.join('bystander');
    const rogueId = 'rogue-connector';
    const session = 'rogue-session-0001';
    w.rogue.postMessage({ v: 1, t: 'connect', from: rogueId, session });
    await until(5_000, () => (w.spy.messages as Env[]).some((e) => e?.t === 'offer' && e.to === rogueId), 'the offer to the rogue');
    w.rogue.postMessage({ v: 1, t: 'confirm', from: rogueId, to: w.listener.id, session });
    w.rogue.postMessage({ v: 1, t: 'frames', from: rogueId, to: w.listener.id, session, frames: [GARBAGE(), new Uint8Array(0)] });
    // The listener tells the rogue it failed (an error bye), and forgets the session.
    await until(5_000, () => (w.spy.messages as Env[]).some((e) => e?.t === 'bye' && e.to === rogueId && e.session === session), 'the bye to the rogue');
    await until(5_000, () => w.listener.sessions.size === 1, 'only the bystander session left');
    expect(w.handed.map((s) => s.peer.hello)).toEqual(['bystander']);
    await healthy(bystander.a, bystander.b, 'bystander');
  }, 15_000);
});
