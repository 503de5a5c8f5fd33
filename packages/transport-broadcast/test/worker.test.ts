/**
 * The cross-thread path: a real worker_threads Worker runs the BUILT
 * transport (test/fixtures/broadcast-worker.mjs) and listens on a name; this
 * thread connects by name only — the two meet through Node's process-wide
 * BroadcastChannel, nothing else joins them.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { pipe, Session, type Receiver, type Sender } from '../../core/src/index.js';
import { byteSource, bytes, collect, range, sameBytes } from '../../core/test/session/helpers.js';
import { connectBroadcast, listBroadcastListeners } from '../src/index.js';
import { asSession, channelName, startWorker, within, type ServerWorker } from './helpers.js';

vi.mock('@libchan/core', () => import('../../core/src/index.js'));

type Request =
  | { op: 'echo'; value: unknown; ret: Sender<unknown> }
  | { op: 'stream'; count: number; ret: Sender<number> }
  | { op: 'bytes'; readable: ReadableStream<Uint8Array>; ret: Sender<{ length: number; sha256: string }> };

describe('BroadcastChannel across worker_threads (worker listens, built library)', () => {
  const cleanups: (() => Promise<unknown>)[] = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
  });

  async function connectToWorker(): Promise<{ server: ServerWorker; session: Session; requests: Sender<Request>; name: string }> {
    const name = channelName('worker');
    const server = await startWorker(name, 'listen');
    cleanups.push(() => server.terminate());
    const session = asSession(await within(10_000, connectBroadcast(name), 'connectBroadcast to the worker'));
    cleanups.push(async () => session.abort(new Error('test over')));
    const requests = await session.openSender<Request>();
    return { server, session, requests, name };
  }

  it('the worker is found by name: listBroadcastListeners names it and the session is a real Session', async () => {
    const { server, session, name } = await connectToWorker();
    expect(session).toBeInstanceOf(Session);
    expect(await listBroadcastListeners(name, { timeoutMs: 500 })).toEqual([server.id]);
  }, 15_000);

  it('Ret echo: Date, Map, BigInt, undefined and a 100 kB Uint8Array come back intact', async () => {
    const { requests } = await connectToWorker();
    const value = {
      when: new Date(Date.UTC(2024, 1, 29, 12, 0, 0)),
      map: new Map<unknown, unknown>([
        ['a', 1],
        [2, new Set(['x'])],
      ]),
      data: bytes(100_000, 42),
      nothing: undefined,
      big: 2n ** 100n,
    };
    const [replies, ret] = pipe<unknown>();
    await requests.send({ op: 'echo', value, ret });
    const got = (await within(10_000, replies.receive(), 'the echo')) as typeof value;
    expect(got.when).toBeInstanceOf(Date);
    expect(got.when.getTime()).toBe(value.when.getTime());
    expect(got.map).toEqual(value.map);
    sameBytes(got.data, value.data);
    expect('nothing' in got).toBe(true);
    expect(got.big).toBe(2n ** 100n);
    await expect(within(5_000, replies.receive(), 'the end of ret')).rejects.toMatchObject({ name: 'ChannelClosedError', code: 'CLOSED' });
  }, 15_000);

  it('a 10,000-value stream from the worker arrives complete and in order', async () => {
    const { requests } = await connectToWorker();
    const [values, ret] = pipe<number>();
    await requests.send({ op: 'stream', count: 10_000, ret });
    expect(await within(30_000, collect(values), 'the stream')).toEqual(range(10_000));
  }, 40_000);

  it('a 2 MiB byte stream to the worker: its length and SHA-256 match', async () => {
    const { requests } = await connectToWorker();
    const size = 2 * 1024 * 1024;
    const source = byteSource(size, 50_000, 11); // odd chunk size: pieces straddle frames
    const [answer, ret] = pipe<{ length: number; sha256: string }>();
    await requests.send({ op: 'bytes', readable: source.stream, ret });
    expect(await within(30_000, answer.receive(), 'the digest')).toEqual({ length: size, sha256: source.sha256 });
  }, 40_000);

  it('several requests in flight at once on one session are answered independently', async () => {
    const { requests } = await connectToWorker();
    const replies: Receiver<unknown>[] = [];
    for (let i = 0; i < 20; i++) {
      const [rx, ret] = pipe<unknown>();
      replies.push(rx);
      void requests.send({ op: 'echo', value: { i }, ret });
    }
    const got = await within(10_000, Promise.all(replies.map((rx) => rx.receive())), 'the echoes');
    expect(got).toEqual(range(20).map((i) => ({ i })));
  }, 15_000);
});
