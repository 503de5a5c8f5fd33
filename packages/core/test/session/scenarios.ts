/**
 * The shared scenario suite for sessions: written once, run against every
 * way of making a pair of joined sessions (sessionPair, MessagePort, and the
 * transports in their own packages). It checks the contract in API.md
 * (Channels, Messages, Sessions), not the implementation.
 *
 * Every test opens its own pair(s) with `open()`; `afterEach` aborts both
 * sessions and runs the factory's cleanup. Nothing depends on wall-clock
 * speed: "still pending" is asserted only after a synchronisation round trip
 * over the same ordered link, or where no progress is possible at all.
 */
import { defaults } from '../../src/config.js';
import { afterEach, describe, expect, it } from 'vitest';
import {
  ChannelClosedError,
  LimitExceededError,
  ProtocolError,
  SessionClosedError,
  isReceiver,
  isSender,
  pipe,
  type AcceptOptions,
  type Receiver,
  type Sender,
  type Session,
  type SessionOptions,
} from '../../src/index.js';
import {
  bytes,
  byteSource,
  collect,
  concat,
  deferred,
  drainBytes,
  expectClosedCode,
  expectSameError,
  range,
  rejectionOf,
  sameBytes,
  syncLink,
  text,
  track,
  turns,
  type Tracked,
} from './helpers.js';

export interface SessionPairHandle {
  a: Session;
  b: Session;
  cleanup(): Promise<void>;
}

/** Makes two joined sessions; `optionsA`/`optionsB` are each side's SessionOptions. */
export type MakePair = (optionsA?: SessionOptions, optionsB?: SessionOptions) => Promise<SessionPairHandle>;

export type Schema<T> = NonNullable<AcceptOptions<T>['schema']>;

/** The hand-written Standard Schema of the contract: numbers only. */
export const numberSchema: Schema<number> = {
  '~standard': {
    version: 1,
    vendor: 'test',
    validate: (v: unknown) => (typeof v === 'number' ? { value: v } : { issues: [{ message: 'not a number' }] }),
  },
};

/** One message larger than the default stream window: after it, the next send on that stream waits for credit. */
const WINDOW_FILLER = defaults.initialWindowBytes + 40_000;

export function scenarioSuite(name: string, makePair: MakePair, opts: { skip?: string[] } = {}): void {
  const skip = new Set(opts.skip ?? []);

  describe(name, () => {
    const live: SessionPairHandle[] = [];

    async function open(optionsA?: SessionOptions, optionsB?: SessionOptions): Promise<SessionPairHandle> {
      const pair = await makePair(optionsA, optionsB);
      live.push(pair);
      await Promise.all([pair.a.ready, pair.b.ready]);
      return pair;
    }

    afterEach(async () => {
      for (const pair of live.splice(0)) {
        pair.a.abort(new Error('test over'));
        pair.b.abort(new Error('test over'));
        await pair.cleanup();
      }
    });

    const scenario = (id: string, fn: () => Promise<void>, timeout = 20_000): void => {
      if (skip.has(id)) return;
      it(id, fn, timeout);
    };

    // ---------------------------------------------------------------- Ret and nesting

    describe('Ret and nested channels', () => {
      scenario('Ret: request carries its reply channel; the sent ret is detached; resending it is a TypeError', async () => {
        const { a, b } = await open();
        type Req = { question: string; ret: Sender<string> };
        const requests = await a.openSender<Req>();
        const incoming = await b.accept<Req>();

        const [replies, ret] = pipe<string>();
        await requests.send({ question: 'ping', ret });

        expectClosedCode(await rejectionOf(ret.send('local')), 'TRANSFERRED');
        expectClosedCode(await rejectionOf(ret.close()), 'TRANSFERRED');
        await expect(requests.send({ question: 'again', ret })).rejects.toBeInstanceOf(TypeError);
        const [, other] = pipe<string>();
        await requests.send({ question: 'after', ret: other });

        const req = await incoming.receive();
        expect(req.question).toBe('ping');
        expect(isSender(req.ret)).toBe(true);
        await req.ret.send('pong');
        expect(await replies.receive()).toBe('pong');
        await req.ret.close();
        expectClosedCode(await rejectionOf(replies.receive()), 'CLOSED');

        // The rejected (TypeError) send delivered nothing: the next value is the one after it.
        const next = await incoming.receive();
        expect(next.question).toBe('after');
      });

      scenario('a transferred Receiver is detached too', async () => {
        const { a, b } = await open();
        const tx = await a.openSender<{ rx: Receiver<number> }>();
        const rx = await b.accept<{ rx: Receiver<number> }>();
        const [inner, innerTx] = pipe<number>();
        await tx.send({ rx: inner });
        expectClosedCode(await rejectionOf(inner.receive()), 'TRANSFERRED');
        await expect(tx.send({ rx: inner })).rejects.toBeInstanceOf(TypeError);
        const remote = (await rx.receive()).rx;
        const [, sent] = await Promise.all([remote.receive(), innerTx.send(5)]);
        expect(sent).toBeUndefined();
      });

      scenario('a reply carries a new Sender that the requester then uses', async () => {
        const { a, b } = await open();
        type Req = { ret: Sender<Sender<number>> };
        const requests = await a.openSender<Req>();
        const incoming = await b.accept<Req>();
        const [replies, ret] = pipe<Sender<number>>();
        await requests.send({ ret });

        const req = await incoming.receive();
        const [numbers, numbersTx] = pipe<number>();
        const got = collect(numbers);
        await req.ret.send(numbersTx);

        const handed = await replies.receive();
        expect(isSender(handed)).toBe(true);
        for (const n of [1, 2, 3, 0]) await handed.send(n);
        await handed.close();
        expect(await got).toEqual([1, 2, 3, 0]);
      });

      scenario('a Receiver nested three deep streams values', async () => {
        const { a, b } = await open();
        type Msg = { x: { y: { z: Receiver<number> } } };
        const tx = await a.openSender<Msg>();
        const rx = await b.accept<Msg>();
        const [inner, innerTx] = pipe<number>();
        await tx.send({ x: { y: { z: inner } } });

        const msg = await rx.receive();
        expect(isReceiver(msg.x.y.z)).toBe(true);
        const got = collect(msg.x.y.z);
        for (let i = 0; i < 100; i++) await innerTx.send(i);
        await innerTx.close();
        expect(await got).toEqual(range(100));
      });

      scenario('Sender, Receiver, ReadableStream and WritableStream in one message all work', async () => {
        const { a, b } = await open();
        type Msg = {
          back: Sender<string>;
          values: Receiver<number>;
          upload: ReadableStream<Uint8Array>;
          download: WritableStream<Uint8Array>;
        };
        const tx = await a.openSender<Msg>();
        const rx = await b.accept<Msg>();

        const [back, backTx] = pipe<string>();
        const [values, valuesTx] = pipe<number>();
        const upload = byteSource(100_000, 8 * 1024, 3);
        const downloaded: Uint8Array[] = [];
        const downloadClosed = deferred();
        const download = new WritableStream<Uint8Array>({
          write(chunk) {
            downloaded.push(chunk.slice());
          },
          close() {
            downloadClosed.resolve();
          },
        });

        await tx.send({ back: backTx, values, upload: upload.stream, download });
        const msg = await rx.receive();
        expect(isSender(msg.back)).toBe(true);
        expect(isReceiver(msg.values)).toBe(true);
        expect(msg.upload).toBeInstanceOf(ReadableStream);
        expect(msg.download).toBeInstanceOf(WritableStream);

        const downloadBytes = bytes(50_000, 11);
        const peer = (async () => {
          await msg.back.send('hello from b');
          await msg.back.close();
          const nums = await collect(msg.values);
          const up = await drainBytes(msg.upload);
          const writer = msg.download.getWriter();
          for (let o = 0; o < downloadBytes.byteLength; o += 7_000) await writer.write(downloadBytes.subarray(o, o + 7_000));
          await writer.close();
          return { nums, up };
        })();

        expect(await collect(back)).toEqual(['hello from b']);
        for (const n of [10, 20, 30]) await valuesTx.send(n);
        await valuesTx.close();
        const { nums, up } = await peer;
        expect(nums).toEqual([10, 20, 30]);
        expect(up.length).toBe(100_000);
        expect(up.sha256).toBe(upload.sha256);
        await downloadClosed.promise;
        sameBytes(concat(downloaded), downloadBytes);
      });

      scenario('Map/Set/Date/BigInt/undefined/RegExp/URL values, with a channel inside a Map value', async () => {
        const { a, b } = await open();
        const tx = await a.openSender<unknown>();
        const rx = await b.accept<Record<string, unknown>>();
        const [chan, chanTx] = pipe<string>();
        const when = new Date(Date.UTC(2020, 0, 2, 3, 4, 5, 6));
        await tx.send({
          map: new Map<unknown, unknown>([
            ['plain', 1],
            ['chan', chan],
            [2, 'two'],
          ]),
          set: new Set<unknown>(['a', 1n, 3]),
          when,
          big: 2n ** 80n,
          nothing: undefined,
          re: /a+b/gi,
          url: new URL('https://example.test/p?q=1'),
        });

        const got = await rx.receive();
        const map = got.map as Map<unknown, unknown>;
        expect(map).toBeInstanceOf(Map);
        expect(map.get('plain')).toBe(1);
        expect(map.get(2)).toBe('two');
        expect(isReceiver(map.get('chan'))).toBe(true);
        expect(got.set).toEqual(new Set(['a', 1n, 3]));
        expect(got.when).toBeInstanceOf(Date);
        expect((got.when as Date).getTime()).toBe(when.getTime());
        expect(got.big).toBe(2n ** 80n);
        expect('nothing' in got).toBe(true);
        expect(got.nothing).toBeUndefined();
        expect(got.re).toBeInstanceOf(RegExp);
        expect(String(got.re)).toBe('/a+b/gi');
        expect(got.url).toBeInstanceOf(URL);
        expect(String(got.url)).toBe('https://example.test/p?q=1');

        const remote = map.get('chan') as Receiver<string>;
        const [value] = await Promise.all([remote.receive(), chanTx.send('through the map')]);
        expect(value).toBe('through the map');
      });

      scenario('the same Sender twice in one message arrives as one live Sender', async () => {
        const { a, b } = await open();
        type Msg = { one: Sender<string>; two: Sender<string>; list: Sender<string>[] };
        const tx = await a.openSender<Msg>();
        const rx = await b.accept<Msg>();
        const [r, s] = pipe<string>();
        await tx.send({ one: s, two: s, list: [s] });
        const msg = await rx.receive();
        expect(msg.one).toBe(msg.two);
        expect(msg.list[0]).toBe(msg.one);
        const [, got] = await Promise.all([msg.one.send('shared'), r.receive()]);
        expect(got).toBe('shared');
      });

      scenario('the value is serialized during send(): later mutation does not change what arrives', async () => {
        const { a, b } = await open();
        type Msg = { n: number; list: number[]; data: Uint8Array };
        const tx = await a.openSender<Msg | Uint8Array>();
        const rx = await b.accept<Msg | Uint8Array>();
        const first: Msg = { n: 1, list: [1, 2], data: new Uint8Array([1, 2, 3]) };
        const sent = tx.send(first);
        first.n = 2;
        first.list.push(3);
        (first.data as Uint8Array)[0] = 99;
        await sent;
        expect(await rx.receive()).toEqual({ n: 1, list: [1, 2], data: new Uint8Array([1, 2, 3]) });
        // The same while the send waits for credit (the filler takes the whole window; b does not read yet).
        await tx.send(new Uint8Array(WINDOW_FILLER));
        const second: Msg = { n: 10, list: [10], data: new Uint8Array([10]) };
        const waiting = track(tx.send(second));
        second.n = 11;
        second.list.length = 0;
        (second.data as Uint8Array)[0] = 11;

        await turns();
        expect(waiting.state).toBe('pending');
        expect(((await rx.receive()) as Uint8Array).byteLength).toBe(WINDOW_FILLER);
        expect(await rx.receive()).toEqual({ n: 10, list: [10], data: new Uint8Array([10]) });
        await waiting.promise;
        // The sender's own Uint8Array is not detached by the send.
        expect(first.data.byteLength).toBe(3);
      });
    });

    // ---------------------------------------------------------------- values

    describe('values', () => {
      scenario('falsy values arrive exactly: 0, false, "", null, undefined, NaN, -0', async () => {
        const { a, b } = await open();
        const tx = await a.openSender<unknown>();
        const rx = await b.accept<unknown>();
        const values: unknown[] = [0, false, '', null, undefined, Number.NaN, -0];
        for (const v of values) await tx.send(v);
        await tx.send({ zero: 0, no: false, empty: '', nil: null, undef: undefined });
        await tx.send([0, false, '', null, undefined]);
        for (const v of values) {
          const got = await rx.receive();
          expect(Object.is(got, v), `expected ${String(v)}, got ${String(got)}`).toBe(true);
        }
        expect(await rx.receive()).toStrictEqual({ zero: 0, no: false, empty: '', nil: null, undef: undefined });
        expect(await rx.receive()).toStrictEqual([0, false, '', null, undefined]);
      });

      for (const size of [100_000, 1024 * 1024]) {
        scenario(`a ${size}-byte string and Uint8Array arrive byte-exact`, async () => {
          const { a, b } = await open();
          const tx = await a.openSender<string | Uint8Array | { s: string; u: Uint8Array }>();
          const rx = await b.accept<string | Uint8Array | { s: string; u: Uint8Array }>();
          const s = text(size);
          const u = bytes(size, size);
          const sending = (async () => {
            await tx.send(s);
            await tx.send(u);
            await tx.send({ s: s.slice(0, 1000), u: u.subarray(5, 1005) });
          })();
          const gotS = await rx.receive();
          expect(typeof gotS).toBe('string');
          expect((gotS as string).length).toBe(s.length);
          expect(gotS === s).toBe(true);
          sameBytes(await rx.receive(), u);
          const mixed = (await rx.receive()) as { s: string; u: Uint8Array };
          expect(mixed.s).toBe(s.slice(0, 1000));
          sameBytes(mixed.u, u.subarray(5, 1005));
          await sending;
        });
      }

      scenario('binary types, Errors, shared and cyclic references keep their shape', async () => {
        const { a, b } = await open();
        const tx = await a.openSender<unknown>();
        const rx = await b.accept<Record<string, unknown>>();
        const shared = { tag: 'shared' };
        const cyclic: Record<string, unknown> = { name: 'loop' };
        cyclic.self = cyclic;
        const buffer = new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8]).buffer;
        await tx.send({
          f64: new Float64Array([1.5, -2, Number.POSITIVE_INFINITY]),
          ab: buffer.slice(0),
          view: new DataView(buffer.slice(0), 2, 4),
          sub: new Uint8Array(buffer, 2, 3),
          error: new RangeError('bad range', { cause: new Error('inner') }),
          one: shared,
          two: shared,
          cyclic,
        });
        const got = await rx.receive();
        expect(got.f64).toBeInstanceOf(Float64Array);
        expect(Array.from(got.f64 as Float64Array)).toEqual([1.5, -2, Number.POSITIVE_INFINITY]);
        expect(got.ab).toBeInstanceOf(ArrayBuffer);
        expect(Array.from(new Uint8Array(got.ab as ArrayBuffer))).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
        expect(got.view).toBeInstanceOf(DataView);
        expect((got.view as DataView).byteLength).toBe(4);
        expect((got.view as DataView).getUint8(0)).toBe(3);
        sameBytes(got.sub, new Uint8Array([3, 4, 5]));
        expect(got.error).toBeInstanceOf(RangeError);
        expectSameError(got.error, new RangeError('bad range'));
        expectSameError((got.error as Error).cause, new Error('inner'));
        expect(String((got.error as Error).stack ?? '')).not.toContain('scenarios');
        expect(got.one).toEqual({ tag: 'shared' });
        expect(got.one).toBe(got.two);
        expect((got.cyclic as Record<string, unknown>).self).toBe(got.cyclic);
      });

      scenario('10,000 un-awaited sends arrive in call order', async () => {
        const { a, b } = await open();
        const tx = await a.openSender<number>();
        const rx = await b.accept<number>();
        const sends = range(10_000).map((i) => tx.send(i));
        const closing = tx.close();
        const got = await collect(rx);
        await Promise.all(sends);
        await closing;
        expect(got.length).toBe(10_000);
        expect(got).toEqual(range(10_000));
      });

      scenario('50 interleaved channels × 200 messages: each in order; accept order is open order', async () => {
        const { a, b } = await open();
        const txs: Sender<{ ch: number; n: number }>[] = [];
        for (let i = 0; i < 50; i++) txs.push(await a.openSender());
        const rxs: Receiver<{ ch: number; n: number }>[] = [];
        for (let i = 0; i < 50; i++) rxs.push(await b.accept());
        const results = Promise.all(rxs.map((rx) => collect(rx)));
        const sends: Promise<void>[] = [];
        for (let n = 0; n < 200; n++) for (let ch = 0; ch < 50; ch++) sends.push((txs[ch] as Sender<{ ch: number; n: number }>).send({ ch, n }));
        await Promise.all(sends);
        await Promise.all(txs.map((t) => t.close()));
        const all = await results;
        for (let ch = 0; ch < 50; ch++) {
          expect(all[ch]).toEqual(range(200).map((n) => ({ ch, n })));
        }
      });

      scenario('late rendezvous: values sent before accept() are all delivered', async () => {
        const { a, b } = await open();
        const tx = await a.openSender<string>();
        await tx.send('one');
        await tx.send('two');
        await tx.send('');
        await tx.close();
        await turns(5);
        const rx = await b.accept<string>();
        expect(await collect(rx)).toEqual(['one', 'two', '']);
        await rx.closed;
      });

      scenario('incoming() and accept() share one queue in open order; leaving for-await keeps the session', async () => {
        const { a, b } = await open();
        const txs = [await a.openSender<number>(), await a.openSender<number>(), await a.openSender<number>(), await a.openSender<number>()];
        await Promise.all(txs.map((t, i) => t.send(i)));
        const seen: number[] = [];
        for await (const rx of b.incoming<number>()) {
          seen.push(await rx.receive());
          if (seen.length === 3) break;
        }
        const last = await b.accept<number>();
        seen.push(await last.receive());
        expect(seen).toEqual([0, 1, 2, 3]);
        const more = await a.openSender<string>();
        await more.send('still alive');
        expect(await (await b.accept<string>()).receive()).toBe('still alive');
      });
    });

    // ---------------------------------------------------------------- endings

    describe('close propagation', () => {
      scenario('close() lets pending sends finish, then ends the channel', async () => {
        const { a, b } = await open();
        const tx = await a.openSender<Uint8Array | number>();
        const rx = await b.accept<Uint8Array | number>();
        await tx.send(new Uint8Array(WINDOW_FILLER)); // nobody reads yet: the next sends wait for credit
        const pending = [track(tx.send(1)), track(tx.send(2))];
        const closing = track(tx.close());
        await turns();
        expect(pending.map((p) => p.state)).toEqual(['pending', 'pending']);
        expect(closing.state).toBe('pending');
        const got = await collect(rx);
        expect(got.length).toBe(3);
        expect(got.slice(1)).toEqual([1, 2]);
        await Promise.all(pending.map((p) => p.promise));
        await closing.promise;
        await tx.closed;
      });

      scenario('a pending close() rejects when the session fails first', async () => {
        const { a, b } = await open();
        const tx = await a.openSender<Uint8Array | number>();
        await b.accept();
        await tx.send(new Uint8Array(WINDOW_FILLER));
        const pending = track(tx.send(1));
        const closing = track(tx.close());
        await turns();
        expect(closing.state).toBe('pending');
        b.abort(new Error('peer gone'));
        expect(await rejectionOf(closing.promise)).toBeInstanceOf(SessionClosedError);
        expect(await rejectionOf(pending.promise)).toBeInstanceOf(SessionClosedError);
      });

      scenario('send({ signal }) aborted while waiting for credit rejects with the reason and delivers nothing', async () => {
        const { a, b } = await open();
        type Msg = Uint8Array | string | { ret: Sender<string> };
        const tx = await a.openSender<Msg>();
        const rx = await b.accept<Msg>();
        await tx.send(new Uint8Array(WINDOW_FILLER));
        const controller = new AbortController();
        const aborted = track(tx.send('dropped', { signal: controller.signal }));
        const [replies, ret] = pipe<string>();
        const controller2 = new AbortController();
        const withRet = track(tx.send({ ret }, { signal: controller2.signal }));
        await turns();
        expect(aborted.state).toBe('pending');
        const reason = new Error('changed my mind');
        controller.abort(reason);
        controller2.abort(reason);
        expect(await rejectionOf(aborted.promise)).toBe(reason);
        expect(await rejectionOf(withRet.promise)).toBe(reason);
        // "If the send rejects, the channels it transferred are reset."
        expect(await rejectionOf(replies.receive())).toBeInstanceOf(Error);
        const kept = tx.send('kept');
        expect(((await rx.receive()) as Uint8Array).byteLength).toBe(WINDOW_FILLER);
        expect(await rx.receive()).toBe('kept');
        await kept;
      });

      scenario('an aborted receive({ signal }) or accept({ signal }) took nothing', async () => {
        const { a, b } = await open();
        const controller = new AbortController();
        const accepting = track(b.accept({ signal: controller.signal }));
        await turns();
        controller.abort(new Error('stop waiting'));
        expectSameError(await rejectionOf(accepting.promise), new Error('stop waiting'));
        const tx = await a.openSender<string>();
        const rx = await b.accept<string>();

        const c2 = new AbortController();
        const receiving = track(rx.receive({ signal: c2.signal }));
        await turns();
        c2.abort(new Error('not now'));
        expectSameError(await rejectionOf(receiving.promise), new Error('not now'));
        await tx.send('for the next receive');
        expect(await rx.receive()).toBe('for the next receive');
      });

      scenario('select() over remote receivers takes exactly one value', async () => {
        const { a, b } = await open();
        const tx1 = await a.openSender<number>();
        const rx1 = await b.accept<number>();
        const tx2 = await a.openSender<string>();
        const rx2 = await b.accept<string>();
        const { select } = await import('../../src/index.js');
        const first = select([rx1, rx2] as const);
        await tx2.send('two');
        const r = await first;
        expect(r).toEqual({ index: 1, value: 'two' });
        await tx1.send(1);
        await tx1.close();
        const seen: unknown[] = [];
        for (let i = 0; i < 2; i++) seen.push(await select([rx1, rx2] as const));
        expect(seen).toEqual([{ index: 0, value: 1 }, { index: 0, done: true }]);
      });

      scenario('a deep error cause chain crosses depth-limited without failing', async () => {
        const { a, b } = await open();
        const tx = await a.openSender<number>();
        const rx = await b.accept<number>();
        let reason = new Error('level 0');
        for (let i = 1; i < 50; i++) reason = new Error(`level ${i}`, { cause: reason });
        tx.abort(reason);
        const error = await rejectionOf(rx.receive());
        expectSameError(error, reason);
        let depth = 0;
        for (let e: unknown = error; e instanceof Error && depth < 100; e = e.cause) depth++;
        expect(depth).toBeGreaterThanOrEqual(2);
        expect(depth).toBeLessThan(50);
        const again = await a.openSender<string>();
        await again.send('session still fine');
        expect(await (await b.accept<string>()).receive()).toBe('session still fine');
      });
      scenario('sender close: for-await ends quietly after every value; closed promises resolve', async () => {
        const { a, b } = await open();
        const tx = await a.openSender<number>();
        const rx = await b.accept<number>();
        const got = collect(rx);
        for (let i = 0; i < 20; i++) await tx.send(i);
        await tx.close();
        expect(await got).toEqual(range(20));
        await tx.closed;
        await rx.closed;
        expectClosedCode(await rejectionOf(rx.receive()), 'CLOSED');
        await expect(tx.send(99)).rejects.toBeInstanceOf(ChannelClosedError);
      });

      scenario('sender abort(reason): receive rejects with an Error of the same name/message/cause, without remote stack', async () => {
        const { a, b } = await open();
        const tx = await a.openSender<number>();
        const rx = await b.accept<number>();
        await tx.send(1);
        expect(await rx.receive()).toBe(1);
        const pending = track(rx.receive());
        const reason = new Error('x', { cause: new Error('root cause') });
        tx.abort(reason);

        const error = await rejectionOf(pending.promise);
        expectSameError(error, reason);
        expectSameError((error as Error).cause, reason.cause as Error);
        expect(String((error as Error).stack ?? '')).not.toContain('scenarios');
        expect(String((error as Error).stack ?? '')).not.toMatch(/^\s+at .*scenarios/m);

        expectSameError(await rejectionOf(rx.receive()), reason);
        expectSameError(await rejectionOf(rx.closed), reason);
        await expect(tx.closed).rejects.toBe(reason);
        // A channel ends once: a later close does not undo the reset.
        tx.abort(new Error('second'));
        expectSameError(await rejectionOf(rx.receive()), reason);
      });

      scenario('abort with a custom error keeps name and string code; abort() without reason is ABORTED', async () => {
        const { a, b } = await open();
        class QuotaError extends Error {
          override name = 'QuotaError';
          code = 'E_QUOTA';
        }
        const tx1 = await a.openSender<number>();
        const rx1 = await b.accept<number>();
        tx1.abort(new QuotaError('over quota'));
        const e1 = await rejectionOf(rx1.receive());
        expect((e1 as Error).name).toBe('QuotaError');
        expect((e1 as Error).message).toBe('over quota');
        expect((e1 as { code?: unknown }).code).toBe('E_QUOTA');

        const tx2 = await a.openSender<number>();
        const rx2 = await b.accept<number>();
        tx2.abort();
        expectClosedCode(await rejectionOf(rx2.receive()), 'ABORTED');
      });

      scenario('a for-await over an aborted channel throws (does not end quietly)', async () => {
        const { a, b } = await open();
        const tx = await a.openSender<number>();
        const rx = await b.accept<number>();
        const loop = (async () => {
          const got: number[] = [];
          for await (const v of rx) got.push(v);
          return got;
        })();
        await tx.send(1);
        await tx.send(2);
        tx.abort(new TypeError('broken'));
        const error = await rejectionOf(loop);
        expectSameError(error, new TypeError('broken'));
      });

      scenario('receiver close(reason): pending and later sends reject RECEIVER_CLOSED with that cause', async () => {
        const { a, b } = await open();
        const tx = await a.openSender<Uint8Array>();
        const rx = await b.accept<Uint8Array>();
        await tx.send(new Uint8Array(WINDOW_FILLER)); // takes the whole window; nobody reads
        const pending = track(tx.send(new Uint8Array(10)));
        await turns();
        expect(pending.state).toBe('pending');

        const reason = new RangeError('enough');
        rx.close(reason);
        await rx.closed;

        const error = await rejectionOf(pending.promise);
        expectClosedCode(error, 'RECEIVER_CLOSED');
        expectSameError((error as Error).cause, reason);
        await tx.closed;
        const later = await rejectionOf(tx.send(new Uint8Array(1)));
        expectClosedCode(later, 'RECEIVER_CLOSED');
        expectSameError((later as Error).cause, reason);
      });

      scenario('breaking out of for-await closes the receiver: the sender learns', async () => {
        const { a, b } = await open();
        const tx = await a.openSender<number>();
        const rx = await b.accept<number>();
        await tx.send(1);
        for await (const v of rx) {
          expect(v).toBe(1);
          break;
        }
        await tx.closed;
        expectClosedCode(await rejectionOf(tx.send(2)), 'RECEIVER_CLOSED');
      });

      scenario('a nested Receiver whose origin aborts before its message leaves: the peer still sees the abort', async () => {
        const { a, b } = await open();
        const ab = await syncLink(a, b);
        const tx = await a.openSender<unknown>();
        const rx = await b.accept<unknown>();
        await tx.send(new Uint8Array(WINDOW_FILLER)); // the next message waits for credit
        const [inner, innerTx] = pipe<number>();
        const waiting = track(tx.send({ inner }));
        await turns();
        expect(waiting.state).toBe('pending');
        const reason = new Error('origin gave up');
        innerTx.abort(reason);
        await turns();

        expect(((await rx.receive()) as Uint8Array).byteLength).toBe(WINDOW_FILLER);
        const msg = (await rx.receive()) as { inner: Receiver<number> };
        await waiting.promise;
        const got = track(msg.inner.receive());
        await ab.sync();
        await ab.sync();
        expect(got.state, 'the remote receiver never learned of the abort').toBe('rejected');
        expectSameError(got.reason, reason);
      });

      scenario('a nested Sender whose receiver closes before its message leaves: the peer sends reject', async () => {
        const { a, b } = await open();
        const ab = await syncLink(a, b);
        const tx = await a.openSender<unknown>();
        const rx = await b.accept<unknown>();
        await tx.send(new Uint8Array(WINDOW_FILLER));
        const [back, backTx] = pipe<number>();
        const waiting = track(tx.send({ backTx }));
        await turns();
        expect(waiting.state).toBe('pending');
        const reason = new Error('no longer listening');
        back.close(reason);
        await turns();

        expect(((await rx.receive()) as Uint8Array).byteLength).toBe(WINDOW_FILLER);
        const msg = (await rx.receive()) as { backTx: Sender<number> };
        await waiting.promise;
        await ab.sync();
        await ab.sync();
        const later = track(msg.backTx.send(1));
        await turns();
        expect(later.state, 'the remote sender never learned that the receiver closed').toBe('rejected');
        expectClosedCode(later.reason, 'RECEIVER_CLOSED');
        expectSameError((later.reason as Error).cause, reason);
      });
    });

    // ---------------------------------------------------------------- forwarding

    describe('forwarding through a second session', () => {
      async function twoPairs() {
        const p1 = await open();
        const p2 = await open();
        const t1 = await p1.a.openSender<Record<string, unknown>>();
        const r1 = await p1.b.accept<Record<string, unknown>>();
        const t2 = await p2.a.openSender<Record<string, unknown>>();
        const r2 = await p2.b.accept<Record<string, unknown>>();
        return { p1, p2, t1, r1, t2, r2 };
      }

      scenario('a Receiver from session 1 is sent on over session 2; values flow end to end; origin close ends it', async () => {
        const { t1, r1, t2, r2 } = await twoPairs();
        const [origin, originTx] = pipe<number>();
        await t1.send({ rx: origin });
        const hop = (await r1.receive()).rx as Receiver<number>;
        await t2.send({ rx: hop });
        expectClosedCode(await rejectionOf(hop.receive()), 'TRANSFERRED');
        const far = (await r2.receive()).rx as Receiver<number>;
        const got = collect(far);
        for (let i = 0; i < 500; i++) await originTx.send(i);
        await originTx.close();
        expect(await got).toEqual(range(500));
      });

      scenario('a Sender from session 1 is sent on over session 2; the far end sends to the origin; far close ends it', async () => {
        const { t1, r1, t2, r2 } = await twoPairs();
        const [origin, originTx] = pipe<string>();
        await t1.send({ tx: originTx });
        const hop = (await r1.receive()).tx as Sender<string>;
        await t2.send({ tx: hop });
        expectClosedCode(await rejectionOf(hop.send('x')), 'TRANSFERRED');
        const far = (await r2.receive()).tx as Sender<string>;
        const got = collect(origin);
        for (const s of ['a', 'b', '', 'd']) await far.send(s);
        await far.close();
        expect(await got).toEqual(['a', 'b', '', 'd']);
      });

      scenario('forwarded: origin abort reaches the far receiver; far receiver close reaches the origin sender', async () => {
        const { t1, r1, t2, r2 } = await twoPairs();
        const [o1, o1Tx] = pipe<number>();
        const [o2, o2Tx] = pipe<number>();
        await t1.send({ a: o1, b: o2 });
        const hop = await r1.receive();
        await t2.send(hop);
        const far = await r2.receive();
        const farA = far.a as Receiver<number>;
        const farB = far.b as Receiver<number>;

        const pendingA = track(farA.receive());
        o1Tx.abort(new Error('origin failed'));
        expectSameError(await rejectionOf(pendingA.promise), new Error('origin failed'));

        farB.close(new Error('far side done'));
        await o2Tx.closed;
        const error = await rejectionOf(o2Tx.send(1));
        expectClosedCode(error, 'RECEIVER_CLOSED');
        expectSameError((error as Error).cause, new Error('far side done'));
        await o2.closed;
      });

      scenario('forwarded: flow control reaches the origin when the far end does not read', async () => {
        const { p1, p2, t1, r1, t2, r2 } = await twoPairs();
        const s1 = await syncLink(p1.a, p1.b);
        const s1back = await syncLink(p1.b, p1.a);
        const s2 = await syncLink(p2.a, p2.b);
        const s2back = await syncLink(p2.b, p2.a);
        const [origin, originTx] = pipe<Uint8Array>();
        await t1.send({ rx: origin });
        await t2.send({ rx: (await r1.receive()).rx });
        const far = (await r2.receive()).rx as Receiver<Uint8Array>;

        const msg = 10 * 1024;
        const window = Math.max(p1.b.options.initialWindowBytes, p2.b.options.initialWindowBytes);
        const limit = Math.ceil((4 * window) / msg) + 20;
        let sent = 0;
        const producer = (async () => {
          for (let i = 0; i < limit; i++) {
            await originTx.send(bytes(msg, i + 1));
            sent++;
          }
          await originTx.close();
        })();
        // Run synchronisation rounds in every direction until nothing moves.
        let last = -1;
        for (let round = 0; round < 100 && sent !== last; round++) {
          last = sent;
          for (const s of [s1, s1back, s2, s2back, s1, s2]) await s.sync();
        }
        expect(sent, 'the origin was never stopped').toBeLessThan(limit);
        expect(sent * msg).toBeLessThanOrEqual(2 * window + 4 * msg);

        for (let i = 0; i < limit; i++) sameBytes(await far.receive(), bytes(msg, i + 1));
        await producer;
        expectClosedCode(await rejectionOf(far.receive()), 'CLOSED');
      });
    });

    // ---------------------------------------------------------------- flow control

    describe('flow control', () => {
      scenario('slow consumer: its sender stops after one window; a sibling channel still delivers 1,000 messages', async () => {
        const { a, b } = await open();
        const ba = await syncLink(b, a);
        const slow = await a.openSender<Uint8Array>();
        const slowRx = await b.accept<Uint8Array>();
        const fast = await a.openSender<number>();
        const fastRx = await b.accept<number>();
        const window = b.options.initialWindowBytes;
        const msg = 10 * 1024;
        const limit = Math.ceil((4 * window) / msg) + 10;

        let resolved = 0;
        let blocked: Tracked<void> | undefined;
        for (let i = 0; i < limit; i++) {
          const t = track(slow.send(bytes(msg, i + 1)));
          await turns(1);
          if (t.state === 'rejected') throw t.reason;
          if (t.state === 'pending') {
            blocked = t;
            break;
          }
          resolved++;
        }
        expect(blocked, 'sends on a channel nobody reads never stopped resolving').toBeDefined();
        const alsoBlocked = track(slow.send(bytes(msg, 999)));

        const got = collect(fastRx);
        for (let i = 0; i < 1000; i++) await fast.send(i);
        await fast.close();
        expect(await got).toEqual(range(1000));

        await ba.sync(); // every credit b granted has been handled by a
        expect(blocked?.state).toBe('pending');
        expect(alsoBlocked.state).toBe('pending');
        expect(resolved * msg).toBeLessThanOrEqual(window + msg);
        expect(resolved * msg).toBeGreaterThanOrEqual(window / 2);

        // Reading resumes the sender, in order.
        for (let i = 0; i <= resolved; i++) sameBytes(await slowRx.receive(), bytes(msg, i + 1));
        sameBytes(await slowRx.receive(), bytes(msg, 999));
        await blocked?.promise;
        await alsoBlocked.promise;
      });
    });

    // ---------------------------------------------------------------- byte streams

    describe('byte streams', () => {
      scenario('a 5 MiB ReadableStream in 64 KiB chunks arrives byte-exact (SHA-256)', async () => {
        const { a, b } = await open();
        const tx = await a.openSender<{ body: ReadableStream<Uint8Array> }>();
        const rx = await b.accept<{ body: ReadableStream<Uint8Array> }>();
        const source = byteSource(5 * 1024 * 1024, 64 * 1024, 5);
        await tx.send({ body: source.stream });
        const { body } = await rx.receive();
        expect(body).toBeInstanceOf(ReadableStream);
        const got = await drainBytes(body);
        expect(got.length).toBe(5 * 1024 * 1024);
        expect(got.sha256).toBe(source.sha256);
      }, 60_000);

      scenario('a WritableStream handed to the peer receives the bytes the peer writes', async () => {
        const { a, b } = await open();
        const tx = await a.openSender<{ sink: WritableStream<Uint8Array> }>();
        const rx = await b.accept<{ sink: WritableStream<Uint8Array> }>();
        const chunks: Uint8Array[] = [];
        const done = deferred();
        await tx.send({
          sink: new WritableStream<Uint8Array>({
            write(chunk) {
              chunks.push(chunk.slice());
            },
            close() {
              done.resolve();
            },
          }),
        });
        const { sink } = await rx.receive();
        expect(sink).toBeInstanceOf(WritableStream);
        const data = bytes(300_000, 9);
        const writer = sink.getWriter();
        for (let o = 0; o < data.byteLength; o += 20_000) {
          const piece = data.slice(o, o + 20_000);
          await writer.write(piece);
          piece.fill(0); // the writer may reuse its buffer once write() resolved
        }
        await writer.close();
        await done.promise;
        sameBytes(concat(chunks), data);
      });

      scenario('cancelling a received ReadableStream cancels the source with the reason', async () => {
        const { a, b } = await open();
        const tx = await a.openSender<{ body: ReadableStream<Uint8Array> }>();
        const rx = await b.accept<{ body: ReadableStream<Uint8Array> }>();
        const cancelled = deferred<unknown>();
        let pulls = 0;
        const body = new ReadableStream<Uint8Array>(
          {
            pull(controller) {
              pulls++;
              controller.enqueue(bytes(1024, pulls));
            },
            cancel(reason) {
              cancelled.resolve(reason);
            },
          },
          { highWaterMark: 0 },
        );
        await tx.send({ body });
        const reader = (await rx.receive()).body.getReader();
        const first = await reader.read();
        sameBytes(first.value, bytes(1024, 1));
        await reader.cancel(new Error('stop reading'));
        expectSameError(await cancelled.promise, new Error('stop reading'));
      });

      scenario('aborting a received WritableStream aborts the original sink with the reason', async () => {
        const { a, b } = await open();
        const tx = await a.openSender<{ sink: WritableStream<Uint8Array> }>();
        const rx = await b.accept<{ sink: WritableStream<Uint8Array> }>();
        const aborted = deferred<unknown>();
        const written: Uint8Array[] = [];
        await tx.send({
          sink: new WritableStream<Uint8Array>({
            write(chunk) {
              written.push(chunk.slice());
            },
            abort(reason) {
              aborted.resolve(reason);
            },
          }),
        });
        const writer = (await rx.receive()).sink.getWriter();
        await writer.write(new Uint8Array([1, 2, 3]));
        await writer.abort(new Error('never mind'));
        expectSameError(await aborted.promise, new Error('never mind'));
      });

      scenario('a source ReadableStream that errors makes the peer read reject with the error', async () => {
        const { a, b } = await open();
        const tx = await a.openSender<{ body: ReadableStream<Uint8Array> }>();
        const rx = await b.accept<{ body: ReadableStream<Uint8Array> }>();
        let n = 0;
        const body = new ReadableStream<Uint8Array>(
          {
            pull(controller) {
              if (n++ < 3) controller.enqueue(new Uint8Array([n]));
              else controller.error(new TypeError('disk on fire'));
            },
          },
          { highWaterMark: 0 },
        );
        await tx.send({ body });
        const reader = (await rx.receive()).body.getReader();
        const error = await rejectionOf(
          (async () => {
            for (;;) {
              const r = await reader.read();
              if (r.done) return 'ended quietly';
            }
          })(),
        );
        expectSameError(error, new TypeError('disk on fire'));
      });

      scenario('a locked ReadableStream cannot be sent (TypeError, nothing delivered)', async () => {
        const { a, b } = await open();
        const tx = await a.openSender<unknown>();
        const rx = await b.accept<unknown>();
        const body = new ReadableStream<Uint8Array>();
        body.getReader();
        await expect(tx.send({ body })).rejects.toBeInstanceOf(TypeError);
        await tx.send('next');
        expect(await rx.receive()).toBe('next');
      });
    });

    // ---------------------------------------------------------------- limits

    describe('limits', () => {
      scenario("a message over the peer's maxMessageBytes rejects LimitExceededError and delivers nothing", async () => {
        const { a, b } = await open({}, { maxMessageBytes: 64 * 1024 });
        const tx = await a.openSender<unknown>();
        const rx = await b.accept<unknown>();
        const error = await rejectionOf(tx.send(new Uint8Array(100_000)));
        expect(error).toBeInstanceOf(LimitExceededError);
        expect((error as LimitExceededError).limit).toBe('maxMessageBytes');
        await expect(tx.send(text(70_000))).rejects.toBeInstanceOf(LimitExceededError);
        await tx.send(new Uint8Array(60_000));
        await tx.send('small');
        expect(((await rx.receive()) as Uint8Array).byteLength).toBe(60_000);
        expect(await rx.receive()).toBe('small');
      });

      scenario("a value deeper than the peer's maxNestingDepth rejects LimitExceededError; the session lives on", async () => {
        const { a, b } = await open({}, { maxNestingDepth: 8 });
        const tx = await a.openSender<unknown>();
        const rx = await b.accept<unknown>();
        let deep: unknown = 'leaf';
        for (let i = 0; i < 20; i++) deep = { deep };
        const error = await rejectionOf(tx.send(deep));
        expect(error).toBeInstanceOf(LimitExceededError);
        await tx.send({ shallow: { ok: true } });
        expect(await rx.receive()).toEqual({ shallow: { ok: true } });
        await b.openSender();
      });

      scenario('a value deeper than maxNestingDepth (both sides) rejects LimitExceededError', async () => {
        const { a, b } = await open({ maxNestingDepth: 8 }, { maxNestingDepth: 8 });
        const tx = await a.openSender<unknown>();
        const rx = await b.accept<unknown>();
        let deep: unknown = [1];
        for (let i = 0; i < 20; i++) deep = [deep];
        await expect(tx.send(deep)).rejects.toBeInstanceOf(LimitExceededError);
        let deepMap: unknown = 1;
        for (let i = 0; i < 10; i++) deepMap = new Map([['k', deepMap]]);
        await expect(tx.send(deepMap)).rejects.toBeInstanceOf(LimitExceededError);
        await tx.send('after');
        expect(await rx.receive()).toBe('after');
      });

      scenario('a function or symbol inside a value rejects TypeError and delivers nothing', async () => {
        const { a, b } = await open();
        const tx = await a.openSender<unknown>();
        const rx = await b.accept<unknown>();
        await expect(tx.send({ f: () => 1 })).rejects.toBeInstanceOf(TypeError);
        await expect(tx.send([1, Symbol('s')])).rejects.toBeInstanceOf(TypeError);
        await expect(tx.send(new Map([['k', { g() {} }]]))).rejects.toBeInstanceOf(TypeError);
        await tx.send('after');
        expect(await rx.receive()).toBe('after');
      });

      scenario("openSender beyond the peer's maxPendingAccepts rejects LimitExceededError; accepting frees a slot", async () => {
        const { a, b } = await open({}, { maxPendingAccepts: 4 });
        const ba = await syncLink(b, a);
        const txs: Sender<number>[] = [];
        for (let i = 0; i < 4; i++) txs.push(await a.openSender<number>());
        const error = await rejectionOf(a.openSender());
        expect(error).toBeInstanceOf(LimitExceededError);
        expect((error as LimitExceededError).limit).toBe('maxPendingAccepts');

        const first = await b.accept<number>();
        await ba.sync(); // b's grant has reached a
        const fifth = await a.openSender<number>();
        await fifth.send(5);
        await txs[0]?.send(0);
        expect(await first.receive()).toBe(0);
        for (let i = 1; i < 4; i++) await b.accept();
        expect(await (await b.accept<number>()).receive()).toBe(5);
      });

      scenario("opening more channels than the peer's maxChannels rejects LimitExceededError", async () => {
        const { a, b } = await open({}, { maxChannels: 4 });
        const txs: Sender<unknown>[] = [];
        for (let i = 0; i < 3; i++) txs.push(await a.openSender());
        const rxs: Receiver<unknown>[] = [];
        for (let i = 0; i < 3; i++) rxs.push(await b.accept());
        // Two nested channels would make five.
        const [r1, s1] = pipe<number>();
        const [r2, s2] = pipe<number>();
        const error = await rejectionOf((txs[0] as Sender<unknown>).send({ s1, s2 }));
        expect(error).toBeInstanceOf(LimitExceededError);
        expect((error as LimitExceededError).limit).toBe('maxChannels');
        txs.push(await a.openSender());
        await expect(a.openSender()).rejects.toBeInstanceOf(LimitExceededError);
        await (txs[1] as Sender<unknown>).close();
        expectClosedCode(await rejectionOf((rxs[1] as Receiver<unknown>).receive()), 'CLOSED');
        const again = await a.openSender<string>();
        await again.send('fits again');
        await b.accept(); // the fourth
        expect(await (await b.accept<string>()).receive()).toBe('fits again');
        void r1;
        void r2;
      });
    });

    // ---------------------------------------------------------------- unclaimed

    describe('unclaimed channels', () => {
      scenario('a receiver closing with queued values resets the Senders inside them (UNCLAIMED on the origin)', async () => {
        const { a, b } = await open();
        const ab = await syncLink(a, b);
        const tx = await a.openSender<{ reply: Sender<string> }>();
        const rx = await b.accept<{ reply: Sender<string> }>();
        const [r1, s1] = pipe<string>();
        const [r2, s2] = pipe<string>();
        await tx.send({ reply: s1 });
        await tx.send({ reply: s2 });
        await ab.sync(); // both values are at b, queued
        rx.close(new Error('not interested'));
        expectClosedCode(await rejectionOf(r1.receive()), 'UNCLAIMED');
        expectClosedCode(await rejectionOf(r2.receive()), 'UNCLAIMED');
      });

      scenario('a receiver closing with a queued value resets the Receiver inside it (origin sender sees UNCLAIMED)', async () => {
        const { a, b } = await open();
        const ab = await syncLink(a, b);
        const ba = await syncLink(b, a);
        const tx = await a.openSender<{ data: Receiver<number> }>();
        const rx = await b.accept<{ data: Receiver<number> }>();
        const [d, dTx] = pipe<number>();
        await tx.send({ data: d });
        await ab.sync();
        rx.close(new Error('not interested'));
        const closed = track(dTx.closed);
        for (let i = 0; i < 3 && closed.state === 'pending'; i++) {
          await ab.sync();
          await ba.sync();
        }
        expect(closed.state, 'the origin of the dropped Receiver was never told').toBe('rejected');
        expectClosedCode(closed.reason, 'UNCLAIMED');
        expectClosedCode(await rejectionOf(dTx.send(1)), 'UNCLAIMED');
      });
    });

    // ---------------------------------------------------------------- session end

    describe('session end', () => {
      scenario('abort(reason) settles everything on both sides with SessionClosedError (cause set)', async () => {
        const { a, b } = await open();
        const ab = await syncLink(a, b);
        const full = await a.openSender<Uint8Array | number>();
        const fullRx = await b.accept<Uint8Array | number>();
        const idle = await a.openSender<number>();
        const idleRx = await b.accept<number>();
        const looped = await a.openSender<number>();
        const loopedRx = await b.accept<number>();
        const fromB = await b.openSender<number>();
        const fromBRx = await a.accept<number>();

        await full.send(new Uint8Array(WINDOW_FILLER));
        const pendingSend = track(full.send(1));
        const pendingReceive = track(idleRx.receive());
        const pendingAcceptB = track(b.accept());
        const pendingAcceptA = track(a.accept());
        const pendingReceiveA = track(fromBRx.receive());
        const loop = track(
          (async () => {
            const got: number[] = [];
            for await (const v of loopedRx) got.push(v);
            return got;
          })(),
        );
        await looped.send(1);
        await ab.sync();
        for (const t of [pendingSend, pendingReceive, pendingAcceptA, pendingAcceptB, pendingReceiveA, loop]) expect(t.state).toBe('pending');

        const reason = new Error('shutting down');
        a.abort(reason);

        for (const t of [pendingSend, pendingAcceptA, pendingReceiveA]) {
          const error = await rejectionOf(t.promise);
          expect(error).toBeInstanceOf(SessionClosedError);
          expect((error as Error).cause).toBe(reason);
        }
        for (const t of [pendingReceive, pendingAcceptB, loop]) {
          const error = await rejectionOf(t.promise);
          expect(error).toBeInstanceOf(SessionClosedError);
          expect((error as Error).cause).toBeDefined();
          expectSameError((error as Error).cause, reason);
        }
        // Later calls too.
        await expect(fullRx.receive()).rejects.toBeInstanceOf(SessionClosedError);
        await expect(idle.send(2)).rejects.toBeInstanceOf(SessionClosedError);
        await expect(fromB.send(2)).rejects.toBeInstanceOf(SessionClosedError);
        await expect(a.openSender()).rejects.toBeInstanceOf(SessionClosedError);
        await expect(b.openSender()).rejects.toBeInstanceOf(SessionClosedError);
        await expect(a.accept()).rejects.toBeInstanceOf(SessionClosedError);
        await expect(a.closed).rejects.toBeInstanceOf(SessionClosedError);
        await expect(b.closed).rejects.toBeInstanceOf(SessionClosedError);
        await expect(full.closed).rejects.toBeInstanceOf(SessionClosedError);
        await expect(idleRx.closed).rejects.toBeInstanceOf(SessionClosedError);
      });

      scenario('abort() without reason still rejects with SessionClosedError; an incoming() loop ends', async () => {
        const { a, b } = await open();
        const loop = track(
          (async () => {
            let n = 0;
            for await (const rx of b.incoming()) {
              void rx;
              n++;
            }
            return n;
          })(),
        );
        const first = await a.openSender<number>();
        await first.send(1);
        a.abort();
        // API.md does not say whether a server loop ends quietly or throws; it must end.
        await loop.promise.catch(() => {});
        expect(loop.state).not.toBe('pending');
        await expect(b.closed).rejects.toBeInstanceOf(SessionClosedError);
        await expect(a.closed).rejects.toBeInstanceOf(SessionClosedError);
        await expect(first.send(2)).rejects.toBeInstanceOf(SessionClosedError);
      });
    });

    // ---------------------------------------------------------------- graceful close

    describe('graceful close', () => {
      scenario('close() resolves only after open channels end; nested channels stay allowed; peer openSender is REFUSED', async () => {
        const { a, b } = await open();
        type Msg = string | { ret: Sender<string> };
        const tx = await a.openSender<Msg>();
        const rx = await b.accept<Msg>();

        const closing = track(a.close());
        await tx.send('still open');
        expect(await rx.receive()).toBe('still open'); // GOAWAY has reached b too
        await turns();
        expect(closing.state).toBe('pending');

        // Nested channels inside an open channel are still allowed.
        const [replies, ret] = pipe<string>();
        await tx.send({ ret });
        const req = (await rx.receive()) as { ret: Sender<string> };
        const [, answer] = await Promise.all([req.ret.send('answered'), replies.receive()]);
        expect(answer).toBe('answered');
        await req.ret.close();

        const refused = await rejectionOf(b.openSender());
        expectClosedCode(refused, 'REFUSED');
        await expect(a.accept()).rejects.toBeInstanceOf(SessionClosedError);
        expect(closing.state).toBe('pending');

        await tx.close();
        expectClosedCode(await rejectionOf(rx.receive()), 'CLOSED');
        await closing.promise;
        await a.closed;
        await b.closed;
        await expect(b.accept()).rejects.toBeInstanceOf(SessionClosedError);
      });

      scenario('a channel the peer opened but nobody accepted is refused (REFUSED) by close()', async () => {
        const { a, b } = await open();
        const ba = await syncLink(b, a);
        const btx = await b.openSender<number>();
        await btx.send(1);
        await ba.sync(); // the OPEN is at a, queued for accept
        const closing = track(a.close());
        await btx.closed.catch(() => {});
        expectClosedCode(await rejectionOf(btx.send(2)), 'REFUSED');
        await expect(a.accept()).rejects.toBeInstanceOf(SessionClosedError);
        // The sync channel is still open (accepted): close waits for it.
        await turns();
        expect(closing.state).toBe('pending');
        await ba.tx.close();
        await closing.promise;
        await b.closed;
      });

      scenario('close({ signal }) aborting turns into an abort of the session', async () => {
        const { a, b } = await open();
        const tx = await a.openSender<number>();
        const rx = await b.accept<number>();
        const controller = new AbortController();
        const closing = track(a.close({ signal: controller.signal }));
        const pending = track(rx.receive());
        await turns();
        expect(closing.state).toBe('pending');
        controller.abort(new Error('took too long'));
        expect(await rejectionOf(closing.promise)).toBeInstanceOf(SessionClosedError);
        expect(await rejectionOf(pending.promise)).toBeInstanceOf(SessionClosedError);
        await expect(tx.send(1)).rejects.toBeInstanceOf(SessionClosedError);
      });
    });

    // ---------------------------------------------------------------- schema

    describe('schema', () => {
      scenario('accept({ schema }): good values arrive; a bad one resets the channel with ProtocolError SCHEMA', async () => {
        const { a, b } = await open();
        const tx = await a.openSender<unknown>();
        const rx = await b.accept({ schema: numberSchema });
        await tx.send(1);
        await tx.send(0);
        await tx.send('three');
        expect(await rx.receive()).toBe(1);
        expect(await rx.receive()).toBe(0);
        const error = await rejectionOf(rx.receive());
        expect(error).toBeInstanceOf(ProtocolError);
        expect((error as ProtocolError).code).toBe('SCHEMA');
        expect((error as Error).message).toContain('not a number');

        await tx.closed.catch(() => {});
        const sendError = await rejectionOf(tx.send(4));
        expect(sendError).toBeInstanceOf(Error);
        const chain = [sendError, (sendError as Error).cause];
        expect(
          chain.some((e) => e instanceof Error && e.name === 'ProtocolError' && (e as { code?: unknown }).code === 'SCHEMA'),
          'the sender should learn that the schema failed',
        ).toBe(true);
      });

      scenario('an async schema that transforms values', async () => {
        const { a, b } = await open();
        const doubled: Schema<number> = {
          '~standard': {
            version: 1,
            vendor: 'test',
            validate: async (v: unknown) => (typeof v === 'number' ? { value: v * 2 } : { issues: [{ message: 'NaN' }] }),
          },
        };
        const tx = await a.openSender<unknown>();
        const rx = await b.accept({ schema: doubled });
        for (const n of [1, 2, 3]) await tx.send(n);
        await tx.close();
        expect(await collect(rx)).toEqual([2, 4, 6]);
      });
    });

    // ---------------------------------------------------------------- hello

    describe('hello', () => {
      scenario('each side sees the other side\'s hello (Date, Map, BigInt, Set survive)', async () => {
        const helloA = { token: 'secret-a', at: new Date(Date.UTC(2024, 1, 3)), roles: new Map([['admin', true]]) };
        const helloB = { name: 'b', big: 12345678901234567890n, tags: new Set(['x', 'y']) };
        const { a, b } = await open({ hello: helloA }, { hello: helloB });
        expect(b.peer.hello).toEqual(helloA);
        expect((b.peer.hello as typeof helloA).at).toBeInstanceOf(Date);
        expect((b.peer.hello as typeof helloA).roles).toBeInstanceOf(Map);
        expect(a.peer.hello).toEqual(helloB);
        expect((a.peer.hello as typeof helloB).tags).toBeInstanceOf(Set);
      });

      scenario('no hello arrives as undefined', async () => {
        const { a, b } = await open();
        expect(a.peer.hello).toBeUndefined();
        expect(b.peer.hello).toBeUndefined();
      });
    });

  });
}
