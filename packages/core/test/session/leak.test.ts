/**
 * Leak checks: 20,000 request/replies over sessionPair, each with a fresh
 * `Ret` pipe. After a forced GC the heap must be back near where it started
 * and both sessions' stream tables empty.
 *
 * GC is reached without touching the shared vitest config: the flag is set
 * at run time and `gc` taken from a fresh V8 context.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import v8 from 'node:v8';
import vm from 'node:vm';
import { afterEach, describe, expect, it } from 'vitest';
import { pipe, sessionPair, type Receiver, type Sender, type Session } from '../../src/index.js';
import { turns } from './helpers.js';

v8.setFlagsFromString('--expose-gc');
const gc = vm.runInNewContext('gc') as () => void;

const N = 20_000;
const MB = 1024 * 1024;

async function settleHeap(): Promise<number> {
  for (let i = 0; i < 4; i++) {
    gc();
    await turns(3);
    await sleep(5);
  }
  gc();
  return process.memoryUsage().heapUsed;
}

function streamCount(session: Session): number {
  return (session as unknown as { streams: Map<number, unknown> }).streams.size;
}

type Req = { i: number; ret: Sender<number> };

describe('leaks over sessionPair', () => {
  const sessions: Session[] = [];
  afterEach(() => {
    for (const s of sessions.splice(0)) s.abort(new Error('test over'));
  });

  async function setup(closeRet: boolean): Promise<{ a: Session; b: Session; requests: Sender<Req>; server: Promise<void> }> {
    const [a, b] = sessionPair();
    sessions.push(a, b);
    await Promise.all([a.ready, b.ready]);
    const requests = await a.openSender<Req>();
    const incoming: Receiver<Req> = await b.accept<Req>();
    const server = (async () => {
      for await (const req of incoming) {
        await req.ret.send(req.i);
        if (closeRet) await req.ret.close();
      }
    })();
    server.catch(() => {}); // awaited by the tests; only a failed test leaves it behind
    return { a, b, requests, server };
  }

  async function roundTrips(requests: Sender<Req>, from: number, count: number, gcEvery = 0): Promise<void> {
    for (let i = from; i < from + count; i++) {
      if (gcEvery > 0 && i > from && (i - from) % gcEvery === 0) await settleHeap(); // give finalizers a chance
      const [replies, ret] = pipe<number>();
      await requests.send({ i, ret });
      const answer = await replies.receive();
      if (answer !== i) throw new Error(`reply ${answer} for request ${i}`);
    }
  }

  it('20,000 Ret round trips where the server closes ret: heap stays flat, stream tables empty', async () => {
    const { a, b, requests, server } = await setup(true);
    await roundTrips(requests, 0, 500); // warm up (JIT, codec scratch buffers)
    const before = await settleHeap();
    await roundTrips(requests, 500, N);
    await requests.close();
    await server;
    await turns(5);
    const after = await settleHeap();
    expect(streamCount(a)).toBe(0);
    expect(streamCount(b)).toBe(0);
    expect((after - before) / MB, `heap grew by ${((after - before) / MB).toFixed(1)} MB`).toBeLessThanOrEqual(20);
  }, 120_000);

  it('20,000 classic Ret round trips (ret never closed, replies dropped): GC releases the streams', async () => {
    const { a, b, requests, server } = await setup(false);
    await roundTrips(requests, 0, 500);
    const before = await settleHeap();
    await roundTrips(requests, 500, N, 1000);
    await requests.close();
    await server;
    // API.md: "an open channel that is garbage-collected is reset (best effort)".
    let remaining = Number.POSITIVE_INFINITY;
    for (let attempt = 0; attempt < 10; attempt++) {
      await settleHeap();
      await turns(5);
      remaining = streamCount(a) + streamCount(b);
      if (remaining <= (2 * N) / 100) break;
    }
    const after = await settleHeap();
    expect(remaining, `${streamCount(a)} + ${streamCount(b)} streams still open after GC`).toBeLessThanOrEqual((2 * N) / 100);
    expect((after - before) / MB, `heap grew by ${((after - before) / MB).toFixed(1)} MB`).toBeLessThanOrEqual(20);
  }, 120_000);
});
