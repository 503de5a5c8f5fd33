/**
 * Addressing on a shared name: which listener a connector gets, `target`,
 * discovery, and many sessions on one name that never see each other's frames.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { collect, range } from '../../core/test/session/helpers.js';
import { Session, SessionClosedError } from '../../core/src/index.js';
import { connectBroadcast, listBroadcastListeners, listenBroadcast, type BroadcastListener } from '../src/index.js';
import { asSession, channelName, observe, until, within } from './helpers.js';

vi.mock('@libchan/core', () => import('../../core/src/index.js'));

type Env = { v: number; t: string; from: string; to?: string; session?: string; target?: string };

describe('BroadcastChannel addressing', () => {
  const cleanups: (() => unknown)[] = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
  });

  /** A listener that records the sessions it is handed. */
  function listen(name: string, options: Parameters<typeof listenBroadcast>[2] = {}): { listener: BroadcastListener; handed: Session[]; next: () => Promise<Session> } {
    const handed: Session[] = [];
    const waiters: ((s: Session) => void)[] = [];
    const listener = listenBroadcast(
      name,
      (s) => {
        const session = asSession(s);
        handed.push(session);
        waiters.shift()?.(session);
      },
      options,
    );
    cleanups.push(() => listener.close());
    let taken = 0;
    const next = (): Promise<Session> => {
      const i = taken++;
      if (handed[i]) return Promise.resolve(handed[i] as Session);
      return within(10_000, new Promise<Session>((resolve) => waiters.push(resolve)), 'onSession');
    };
    return { listener, handed, next };
  }

  async function connect(name: string, options: Parameters<typeof connectBroadcast>[1] = {}): Promise<Session> {
    const s = asSession(await within(10_000, connectBroadcast(name, options), 'connectBroadcast'));
    cleanups.push(() => s.abort(new Error('test over')));
    return s;
  }

  /** One value each way over a fresh top-level channel: proves both sessions are joined to each other. */
  async function roundTrip(x: Session, y: Session, tag: string): Promise<void> {
    const tx = await x.openSender<string>();
    const rx = await y.accept<string>();
    await tx.send(tag);
    expect(await within(5_000, rx.receive(), 'round trip')).toBe(tag);
    await tx.close();
  }

  it('the session a connector gets is a real Session of this module (module identity check)', async () => {
    const name = channelName('identity');
    const l = listen(name);
    const a = await connect(name);
    expect(a).toBeInstanceOf(Session);
    expect(await l.next()).toBeInstanceOf(Session);
  }, 15_000);

  it('two listeners on one name: a connector is joined to exactly one; the other offer is declined', async () => {
    const name = channelName('two');
    const spy = observe(name);
    cleanups.push(() => spy.close());
    const l1 = listen(name);
    const l2 = listen(name);
    const a = await connect(name);
    // Settle the handshake traffic: a listing round trip reaches both listeners after the decline.
    await listBroadcastListeners(name, { timeoutMs: 300 });
    const envelopes = spy.messages as Env[];
    const offers = envelopes.filter((e) => e.t === 'offer');
    const confirms = envelopes.filter((e) => e.t === 'confirm');
    const declines = envelopes.filter((e) => e.t === 'decline');
    expect(new Set(offers.map((e) => e.from))).toEqual(new Set([l1.listener.id, l2.listener.id]));
    expect(confirms).toHaveLength(1);
    expect(declines).toHaveLength(1);
    const chosen = confirms[0]?.to;
    expect(declines[0]?.to).not.toBe(chosen);
    expect([l1.listener.id, l2.listener.id]).toContain(chosen);
    const [winner, loser] = chosen === l1.listener.id ? [l1, l2] : [l2, l1];
    const b = await winner.next();
    expect(winner.handed).toHaveLength(1);
    expect(loser.handed).toHaveLength(0);
    expect(winner.listener.sessions.size).toBe(1);
    expect(loser.listener.sessions.size).toBe(0);
    await roundTrip(a, b, 'to the winner');
    await roundTrip(b, a, 'from the winner');
    expect(loser.handed).toHaveLength(0);
  }, 15_000);

  it('the first offer wins: a second offer (sent only after the first was seen) is declined, never confirmed', async () => {
    const name = channelName('first');
    const l1 = listen(name);
    // A hand-driven "listener" on a plain BroadcastChannel that answers every connect, but only
    // after it has seen the real listener's offer for that session.
    const lateId = 'late-listener-0000';
    const late = new BroadcastChannel(name);
    const seen: Env[] = [];
    late.onmessage = (event: MessageEvent) => {
      const e = event.data as Env;
      seen.push(e);
      if (e.t === 'offer' && e.from === l1.listener.id) late.postMessage({ v: 1, t: 'offer', from: lateId, to: e.to, session: e.session });
    };
    cleanups.push(() => late.close());
    const a = await connect(name);
    const b = await l1.next();
    await roundTrip(a, b, 'joined to the first');
    await until(5_000, () => seen.some((e) => e.t === 'decline' && e.to === lateId), 'the decline to the late offer');
    expect(seen.filter((e) => e.t === 'confirm').map((e) => e.to)).toEqual([l1.listener.id]);
  }, 15_000);

  it('`target` picks the listener with that id (custom and random ids); the other gets nothing', async () => {
    const name = channelName('target');
    const l1 = listen(name, { id: 'listener-one' });
    const l2 = listen(name);
    expect(l1.listener.id).toBe('listener-one');
    const toTwo = await connect(name, { target: l2.listener.id });
    const atTwo = await l2.next();
    await roundTrip(toTwo, atTwo, 'two');
    const toOne = await connect(name, { target: 'listener-one' });
    const atOne = await l1.next();
    await roundTrip(atOne, toOne, 'one');
    const toTwoAgain = await connect(name, { target: l2.listener.id });
    await roundTrip(toTwoAgain, await l2.next(), 'two again');
    expect(l1.handed).toHaveLength(1);
    expect(l2.handed).toHaveLength(2);
  }, 15_000);

  it('a `target` nobody has: connect rejects with SessionClosedError after handshakeTimeoutMs; no listener gets a session', async () => {
    const name = channelName('nobody');
    const l1 = listen(name);
    const error = await within(5_000, connectBroadcast(name, { target: 'no-such-listener', handshakeTimeoutMs: 300 }).then(
      () => undefined,
      (e: unknown) => e,
    ), 'the rejection');
    expect(error).toBeInstanceOf(SessionClosedError);
    expect(l1.handed).toHaveLength(0);
    expect(l1.listener.sessions.size).toBe(0);
  }, 15_000);

  it('no listener at all: connect rejects with SessionClosedError after handshakeTimeoutMs', async () => {
    const started = Date.now();
    await expect(within(5_000, connectBroadcast(channelName('empty'), { handshakeTimeoutMs: 200 }), 'the rejection')).rejects.toBeInstanceOf(SessionClosedError);
    expect(Date.now() - started).toBeGreaterThanOrEqual(150);
  }, 15_000);

  it('listBroadcastListeners lists every listener on the name, not connectors, not other names; a closed listener drops out', async () => {
    const name = channelName('list');
    const l1 = listen(name);
    const l2 = listen(name, { id: 'second' });
    const other = listen(channelName('other'));
    await connect(name); // a connector on the name is not a listener
    expect((await listBroadcastListeners(name, { timeoutMs: 400 })).sort()).toEqual([l1.listener.id, 'second'].sort());
    await l1.listener.close();
    expect(await listBroadcastListeners(name, { timeoutMs: 400 })).toEqual(['second']);
    expect(await listBroadcastListeners(channelName('unused'), { timeoutMs: 100 })).toEqual([]);
    void other;
    void l2;
  }, 15_000);

  it('a mesh on one name: a hub and 3 endpoints that each listen and connect to the hub and to each other; every session stays separate', async () => {
    const name = channelName('mesh');
    const labels = ['E1', 'E2', 'E3'] as const;
    const hub = listen(name, { id: 'hub', hello: 'hub' });
    const ends = Object.fromEntries(labels.map((label) => [label, listen(name, { id: `listener-${label}`, hello: label })])) as Record<
      (typeof labels)[number],
      ReturnType<typeof listen>
    >;

    // Every connector-side session, with the label of the listener it targets.
    const links: { from: string; to: string; session: Session }[] = [];
    for (const from of labels) {
      links.push({ from, to: 'hub', session: await connect(name, { target: 'hub', hello: from }) });
      for (const to of labels) {
        if (to !== from) links.push({ from, to, session: await connect(name, { target: `listener-${to}`, hello: from }) });
      }
    }
    expect(links).toHaveLength(9);
    const listenerOf = (label: string): ReturnType<typeof listen> => (label === 'hub' ? hub : ends[label as (typeof labels)[number]]);
    // Wait until every listener handed out its sessions.
    for (const label of ['hub', ...labels]) {
      const expected = links.filter((l) => l.to === label).length;
      const l = listenerOf(label);
      for (let i = 0; i < expected; i++) await l.next();
    }
    expect(hub.handed).toHaveLength(3);
    for (const label of labels) expect(ends[label].handed).toHaveLength(2);

    // Each connector-side session knows whom it reached; find the listener-side twin by hello.
    const pairs = links.map((link) => {
      expect(link.session.peer.hello).toBe(link.to);
      const twins = listenerOf(link.to).handed.filter((s) => s.peer.hello === link.from);
      expect(twins).toHaveLength(1);
      return { ...link, twin: twins[0] as Session };
    });

    // Both directions of every session carry their own tagged values, all at once.
    const N = 200;
    const runs = pairs.flatMap(({ from, to, session, twin }) => {
      const tag = `${from}->${to}`;
      const one = (async () => {
        const tx = await session.openSender<string>();
        const rx = await twin.accept<string>();
        const got = collect(rx);
        for (let i = 0; i < N; i++) void tx.send(`${tag}#${i}`);
        await tx.close();
        expect(await got).toEqual(range(N).map((i) => `${tag}#${i}`));
      })();
      const back = (async () => {
        const tx = await twin.openSender<string>();
        const rx = await session.accept<string>();
        const got = collect(rx);
        for (let i = 0; i < N; i++) void tx.send(`back:${tag}#${i}`);
        await tx.close();
        expect(await got).toEqual(range(N).map((i) => `back:${tag}#${i}`));
      })();
      return [one, back];
    });
    await within(20_000, Promise.all(runs), 'the mesh traffic');

    // Nothing else arrived anywhere: no stray channel waits on any session.
    for (const s of pairs.flatMap((p) => [p.session, p.twin])) {
      const ac = new AbortController();
      const stray = s.accept({ signal: ac.signal });
      ac.abort(new Error('none expected'));
      await expect(stray).rejects.toThrow('none expected');
    }
  }, 30_000);
});
