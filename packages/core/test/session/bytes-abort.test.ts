/** A session ending under a byte stream settles every piece quietly: no unhandled rejections. */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { sessionPair, type Receiver } from '../../src/index.js';
import { until } from './helpers.js';

describe('byte stream under a dying session', () => {
  const unhandled: unknown[] = [];
  const onUnhandled = (reason: unknown): void => {
    unhandled.push(reason);
  };
  beforeEach(() => {
    unhandled.length = 0;
    process.on('unhandledRejection', onUnhandled);
  });
  afterEach(() => {
    process.off('unhandledRejection', onUnhandled);
  });

  it('aborting the session while 64 KiB chunks wait for credit leaves no unhandled rejection', async () => {
    const [a, b] = sessionPair({ keepAliveMs: 0, initialWindowBytes: 64 * 1024 });
    await Promise.all([a.ready, b.ready]);
    const tx = await a.openSender<{ body: ReadableStream<Uint8Array> }>();
    const rx: Receiver<{ body: ReadableStream<Uint8Array> }> = await b.accept();
    const chunk = new Uint8Array(64 * 1024);
    let pulls = 0;
    const body = new ReadableStream<Uint8Array>({
      pull(controller) {
        pulls++;
        controller.enqueue(chunk);
      },
    });
    await tx.send({ body });
    await rx.receive(); // never read the body: the sender fills the window and waits
    await until(() => pulls >= 3, 'the sender pulls chunks until its window is full');
    expect(pulls).toBeGreaterThanOrEqual(3); // chunks are waiting for credit now
    b.abort(new Error('gone'));
    await a.closed.catch(() => {});
    for (let i = 0; i < 5; i++) await new Promise((resolve) => setTimeout(resolve, 5));
    expect(unhandled).toEqual([]);
  });
});
