/**
 * Credit: never lost (a reset stream's unsent data gives it back), returned in bulk
 * rather than one CREDIT frame per message, and never withheld from a sender that waits.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { CREDIT_FLUSH_SHARE } from '../../src/config.js';
import { pipe, type Receiver, type Sender } from '../../src/index.js';
import { memoryLinkPair, Session, type FrameLink, type LinkSink } from '../../src/index.js';
import { FrameType } from '../../src/session/frames.js';
import { until } from './helpers.js';

/** Counts the CREDIT frames one side writes. */
class CreditCountingLink implements FrameLink {
  credits = 0;
  constructor(private readonly inner: FrameLink) {}
  start(sink: LinkSink): void {
    this.inner.start(sink);
  }
  send(frame: Uint8Array, lane?: number): boolean {
    if (frame[0] === FrameType.Credit) this.credits++;
    return this.inner.send(frame, lane);
  }
  flush(): void {
    this.inner.flush?.();
  }
  close(error?: unknown): void {
    this.inner.close(error);
  }
}

/** A link that pushes back after every few frames (as a slow socket would), so admitted data waits unsent. */
class SlowLink implements FrameLink {
  private sink!: LinkSink;
  private sinceDrain = 0;
  constructor(private readonly inner: FrameLink) {}
  start(sink: LinkSink): void {
    this.sink = sink;
    this.inner.start(sink);
  }
  send(frame: Uint8Array, lane?: number): boolean {
    this.inner.send(frame, lane);
    if (++this.sinceDrain < 3) return true;
    this.sinceDrain = 0;
    setTimeout(() => this.sink.drain(), 1);
    return false;
  }
  close(error?: unknown): void {
    this.inner.close(error);
  }
}


describe('session credit', () => {
  it('aborting streams whose admitted data is still unsent gives the session window back', async () => {
    const window = 256 * 1024;
    const options = { sessionWindowBytes: window, initialWindowBytes: 128 * 1024, keepAliveMs: 0 };
    const [la, lb] = memoryLinkPair();
    const a = new Session(new SlowLink(la), options);
    const b = new Session(lb, options);
    try {
      await Promise.all([a.ready, b.ready]);
      for (let round = 0; round < 12; round++) {
        const tx = await a.openSender<Uint8Array>();
        const rx = await b.accept<Uint8Array>();
        await tx.send(new Uint8Array(120 * 1024)); // admitted: 8 frames, most still queued behind the slow link
        tx.abort(new Error('changed my mind'));
        await rx.receive().catch(() => undefined);
      }
      // Whatever went out comes back as credit from b; what never went out came back at the abort.
      await until(() => a.snapshot().sendCredit === window, 'the whole session window back at a');
      expect(a.snapshot().sendCredit).toBe(window);
    } finally {
      a.abort();
      b.abort();
    }
  });
});

/** `rounds` requests from `client`, each with a fresh Ret that `server` answers and closes. */
async function requestReplies(client: Session, server: Session, rounds: number): Promise<void> {
  const tx = await client.openSender<{ i: number; ret: Sender<number> }>();
  const rx = await server.accept<{ i: number; ret: Sender<number> }>();
  void (async () => {
    for await (const { i, ret } of rx) {
      await ret.send(i);
      await ret.close();
    }
  })().catch(() => {}); // ends with the sessions' abort
  for (let i = 0; i < rounds; i++) {
    const [replies, ret] = pipe<number>();
    await tx.send({ i, ret });
    expect(await replies.receive()).toBe(i);
  }
}

describe('credit returned in bulk', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('request/reply with a fresh Ret each time writes far fewer CREDIT frames than messages, and all credit comes back', async () => {
    const options = { keepAliveMs: 0 };
    const [la, lb] = memoryLinkPair();
    const client = new CreditCountingLink(la);
    const server = new CreditCountingLink(lb);
    const a = new Session(client, options);
    const b = new Session(server, options);
    try {
      await Promise.all([a.ready, b.ready]);
      const rounds = 400;
      await requestReplies(a, b, rounds);
      // One CREDIT per message each way was the old cost (2 × rounds); a flush every few ms is the new one.
      expect(client.credits + server.credits).toBeLessThan(rounds / 4);
      await until(() => a.snapshot().sendCredit === a.snapshot().sessionWindow && b.snapshot().sendCredit === b.snapshot().sessionWindow, 'all credit back on both sides');
    } finally {
      a.abort();
      b.abort();
    }
  });

  it('an ended stream is not held until its credit goes back (a Ret per request would pile up)', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    const [la, lb] = memoryLinkPair();
    const client = new Session(la, { keepAliveMs: 0 });
    const server = new Session(lb, { keepAliveMs: 0 });
    try {
      await Promise.all([client.ready, server.ready]);
      await requestReplies(client, server, 50);
      // No timer ran: the 50 replies' credit waits, but none of their ended streams is kept for it.
      const held = (s: Session): number => (s as unknown as { creditFlushes: Set<unknown> }).creditFlushes.size;
      await new Promise((resolve) => setImmediate(resolve)); // the last reply's CLOSE
      expect(held(client)).toBe(0);
      expect(held(server)).toBeLessThanOrEqual(1); // the request channel, still open
      expect(client.snapshot().sendCredit).toBeLessThan(client.snapshot().sessionWindow);
      vi.advanceTimersByTime(10);
      await until(() => client.snapshot().sendCredit === client.snapshot().sessionWindow && server.snapshot().sendCredit === server.snapshot().sessionWindow, 'all credit back on both sides after the delayed flush', { tick: () => vi.advanceTimersByTime(10) });
    } finally {
      client.abort();
      server.abort();
    }
  });

  it('a sender waiting for less than half a window of credit gets it without the receiver writing anything', async () => {
    const window = 64 * 1024;
    const options = { initialWindowBytes: window, sessionWindowBytes: 16 * window, keepAliveMs: 0 };
    const [la, lb] = memoryLinkPair();
    const a = new Session(la, options);
    const b = new Session(lb, options);
    try {
      await Promise.all([a.ready, b.ready]);
      const tx = await a.openSender<Uint8Array>();
      const rx = await b.accept<Uint8Array>();
      await tx.send(new Uint8Array(20 * 1024)); // under half the window: its credit waits for the timer
      expect((await rx.receive()).byteLength).toBe(20 * 1024);
      const second = tx.send(new Uint8Array(50 * 1024)); // needs 50 KiB, 44 KiB left: waits for that credit
      expect((await rx.receive()).byteLength).toBe(50 * 1024);
      await second;
    } finally {
      a.abort();
      b.abort();
    }
  });

  it.each([
    ['open', false],
    ['ended', true],
  ])('credit waiting on many %s streams goes back at once when it reaches a share of the session window', async (_, ended) => {
    // Only timeouts are faked: the delayed flush never fires, so what comes back came back in bulk.
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    const session = 256 * 1024;
    const stream = 128 * 1024;
    const options = { initialWindowBytes: stream, sessionWindowBytes: session, keepAliveMs: 0 };
    const [la, lb] = memoryLinkPair();
    const a = new Session(la, options);
    const b = new Session(lb, options);
    try {
      await Promise.all([a.ready, b.ready]);
      const each = 40 * 1024; // under half a stream window: no stream returns its own
      const streams = Math.ceil((session * CREDIT_FLUSH_SHARE) / each) + 1;
      // Nested channels, so b writes nothing of its own (accepting a top-level one would).
      const tx = await a.openSender<{ data: Receiver<Uint8Array> }>();
      const rx = await b.accept<{ data: Receiver<Uint8Array> }>();
      for (let i = 0; i < streams; i++) {
        const [data, dataTx] = pipe<Uint8Array>();
        await tx.send({ data });
        await dataTx.send(new Uint8Array(each));
        const { data: received } = await rx.receive();
        expect((await received.receive()).byteLength).toBe(each);
        if (ended) {
          await dataTx.close();
          await expect(received.receive()).rejects.toMatchObject({ code: 'CLOSED' });
        }
      }
      await until(() => a.snapshot().sendCredit > session - streams * each, 'credit back without any timer running', { tick: () => vi.advanceTimersByTime(0) });
      // Some of it came back though no timer ran.
      expect(a.snapshot().sendCredit).toBeGreaterThan(session - streams * each);
    } finally {
      a.abort();
      b.abort();
    }
  });
});
