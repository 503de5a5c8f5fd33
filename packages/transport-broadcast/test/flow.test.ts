/**
 * Flow control and binary data over BroadcastChannel: a receiver that does
 * not read stops its sender after about one window (in this thread and across
 * threads), and bytes travel as bytes — Uint8Array frames, no text, no base64.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { pipe, type Receiver, type Sender, type Session } from '../../core/src/index.js';
import { bytes, sameBytes, sha256, syncLink, track, turns, type Tracked } from '../../core/test/session/helpers.js';
import { connectBroadcast } from '../src/index.js';
import { asSession, broadcastPair, channelName, observe, startWorker, until, within } from './helpers.js';

vi.mock('@libchan/core', () => import('../../core/src/index.js'));

type Env = { t?: string; frames?: unknown[] };

describe('flow control over BroadcastChannel', () => {
  const cleanups: (() => unknown)[] = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
  });

  it('one thread: a receiver that does not read stops its sender after ≈ initialWindowBytes; reading resumes it, in order', async () => {
    const window = 64 * 1024;
    const { a, b, listener } = await broadcastPair({}, { initialWindowBytes: window });
    cleanups.push(() => listener.close(), () => a.abort());
    const ba = await syncLink(b, a);
    const tx = await a.openSender<Uint8Array>();
    const rx = await b.accept<Uint8Array>();
    const msg = 8 * 1024;
    const limit = Math.ceil((4 * window) / msg);

    let resolved = 0;
    let blocked: Tracked<void> | undefined;
    for (let i = 0; i < limit; i++) {
      const t = track(tx.send(bytes(msg, i + 1)));
      await turns(1);
      if (t.state === 'rejected') throw t.reason;
      if (t.state === 'pending') {
        blocked = t;
        break;
      }
      resolved++;
    }
    expect(blocked, 'sends on a channel nobody reads never stopped resolving').toBeDefined();
    await ba.sync(); // every credit b granted has reached a
    await ba.sync();
    expect(blocked?.state).toBe('pending');
    expect(resolved * msg).toBeLessThanOrEqual(window + msg);
    expect(resolved * msg).toBeGreaterThanOrEqual(window / 2);

    for (let i = 0; i <= resolved; i++) sameBytes(await within(5_000, rx.receive(), 'a value'), bytes(msg, i + 1));
    await within(5_000, blocked!.promise, 'the blocked send');
  }, 15_000);

  it('across threads: a worker that holds a Receiver without reading stops the sender after ≈ its window; draining delivers every byte', async () => {
    const window = 64 * 1024;
    const name = channelName('flow-worker');
    const server = await startWorker(name, 'listen', { initialWindowBytes: window });
    cleanups.push(() => server.terminate());
    const session = asSession(await within(10_000, connectBroadcast(name), 'connect'));
    cleanups.push(() => session.abort());
    type Req =
      | { op: 'hold'; rx: Receiver<Uint8Array>; ret: Sender<string> }
      | { op: 'drain'; ret: Sender<{ count: number; length: number; sha256: string }[]> }
      | { op: 'echo'; value: unknown; ret: Sender<unknown> };
    const requests = await session.openSender<Req>();
    const ask = async <T>(make: (ret: Sender<T>) => Req): Promise<T> => {
      const [replies, ret] = pipe<T>();
      await requests.send(make(ret));
      return within(10_000, replies.receive(), 'a reply');
    };

    const [held, tx] = pipe<Uint8Array>();
    expect(await ask<string>((ret) => ({ op: 'hold', rx: held, ret }))).toBe('holding');

    const msg = 8 * 1024;
    const limit = Math.ceil((4 * window) / msg) + 8;
    const chunks = Array.from({ length: limit }, (_, i) => bytes(msg, 1000 + i));
    let sent = 0;
    const producer = (async () => {
      for (const c of chunks) {
        await tx.send(c);
        sent++;
      }
      await tx.close();
    })();
    // Round trips to the worker until the count stops moving (no wall-clock waits).
    let last = -1;
    for (let round = 0; round < 50 && sent !== last; round++) {
      last = sent;
      for (let k = 0; k < 3; k++) expect(await ask<unknown>((ret) => ({ op: 'echo', value: k, ret }))).toBe(k);
    }
    expect(sent, 'the sender was never stopped').toBeLessThan(limit);
    expect(sent * msg).toBeLessThanOrEqual(window + 4 * msg);
    expect(sent * msg).toBeGreaterThanOrEqual(window / 2);

    const report = await ask<{ count: number; length: number; sha256: string }[]>((ret) => ({ op: 'drain', ret }));
    await within(10_000, producer, 'the producer');
    expect(report).toEqual([{ count: limit, length: limit * msg, sha256: sha256(...chunks) }]);
  }, 30_000);
});

describe('binary data over BroadcastChannel', () => {
  const cleanups: (() => unknown)[] = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
  });

  it('Uint8Array, ArrayBuffer, a subarray view and an empty array arrive intact and typed (one thread)', async () => {
    const { a, b, listener } = await broadcastPair();
    cleanups.push(() => listener.close(), () => a.abort());
    const tx = await a.openSender<Record<string, unknown>>();
    const rx = await b.accept<Record<string, unknown>>();
    const big = bytes(300_000, 3);
    const ab = bytes(5_000, 4).slice().buffer;
    const backing = bytes(4_096, 5);
    const view = backing.subarray(100, 1_100); // byteOffset 100 inside a larger buffer
    await tx.send({ big, ab, view, empty: new Uint8Array(0), nested: [{ deep: bytes(10, 6) }] });
    const got = await within(5_000, rx.receive(), 'the value');
    sameBytes(got.big, big);
    expect(got.ab).toBeInstanceOf(ArrayBuffer);
    sameBytes(new Uint8Array(got.ab as ArrayBuffer), new Uint8Array(ab));
    sameBytes(got.view, view.slice());
    expect((got.view as Uint8Array).byteLength).toBe(1_000);
    sameBytes(got.empty, new Uint8Array(0));
    sameBytes((got.nested as { deep: Uint8Array }[])[0]?.deep, bytes(10, 6));
  }, 15_000);

  it('on the wire: every frame is a Uint8Array; a 256 KiB Uint8Array costs about 256 KiB of frames (no text, no base64)', async () => {
    const name = channelName('wire');
    const spy = observe(name);
    cleanups.push(() => spy.close());
    const { a, b, listener } = await broadcastPair({}, {}, name);
    cleanups.push(() => listener.close(), () => a.abort());
    const tx = await a.openSender<Uint8Array>();
    const rx = await b.accept<Uint8Array>();
    await tx.send(new Uint8Array(0)); // settle the OPEN traffic
    await rx.receive();
    const mark = spy.messages.length;
    const payload = bytes(256 * 1024, 9);
    await tx.send(payload);
    sameBytes(await within(5_000, rx.receive(), 'the payload'), payload);

    const seen = () => (spy.messages.slice(mark) as Env[]).filter((e) => e?.t === 'frames').flatMap((e) => e.frames ?? []);
    const size = (frames: unknown[]) => (frames as Uint8Array[]).reduce((n, f) => n + (f?.byteLength ?? 0), 0);
    // The spy is one more listener on the channel: its copy may land after the receiver's.
    await until(5_000, () => size(seen()) >= payload.byteLength, "the observer's copy of the payload's frames");
    const frames = seen();
    for (const f of frames) expect(f).toBeInstanceOf(Uint8Array);
    const total = size(frames);
    expect(total).toBeLessThan(payload.byteLength * 1.05); // base64 would be ≥ 1.33×, JSON numbers ≈ 3.5×
    // The payload's bytes are in the frames verbatim: a long run of it appears in one frame.
    const probe = payload.subarray(50_000, 50_000 + 64);
    const hex = (u: Uint8Array) => Buffer.from(u.buffer, u.byteOffset, u.byteLength).toString('hex');
    expect((frames as Uint8Array[]).some((f) => hex(f).includes(hex(probe)))).toBe(true);
  }, 15_000);

  it('across threads: a worker sees Uint8Array and ArrayBuffer as such and echoes them byte-exact', async () => {
    const name = channelName('binary-worker');
    const server = await startWorker(name, 'listen');
    cleanups.push(() => server.terminate());
    const session: Session = asSession(await within(10_000, connectBroadcast(name), 'connect'));
    cleanups.push(() => session.abort());
    const requests = await session.openSender<{ op: string; value: unknown; ret: Sender<unknown> }>();
    const value = { u8: bytes(70_000, 1), ab: bytes(3_000, 2).slice().buffer, view: bytes(2_000, 3).subarray(7, 1_007) };

    const [kinds, kindsRet] = pipe<unknown>();
    await requests.send({ op: 'kinds', value, ret: kindsRet });
    expect(await within(10_000, kinds.receive(), 'kinds')).toEqual({
      top: 'object',
      entries: { u8: ['Uint8Array', 70_000], ab: ['ArrayBuffer', 3_000], view: ['Uint8Array', 1_000] },
    });

    const [echo, echoRet] = pipe<unknown>();
    await requests.send({ op: 'echo', value, ret: echoRet });
    const got = (await within(10_000, echo.receive(), 'echo')) as typeof value;
    sameBytes(got.u8, value.u8);
    expect(got.ab).toBeInstanceOf(ArrayBuffer);
    sameBytes(new Uint8Array(got.ab), new Uint8Array(value.ab));
    sameBytes(got.view, value.view.slice());
  }, 20_000);
});
