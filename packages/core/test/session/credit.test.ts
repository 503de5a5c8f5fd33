/** Session credit is never lost: a reset stream's unsent data gives its credit back. */
import { describe, expect, it } from 'vitest';
import { memoryLinkPair, Session, type FrameLink, type LinkSink } from '../../src/index.js';

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

/** Waits for `check` (credit comes back within a few ms; the bound is the test timeout, not machine speed). */
async function until(check: () => boolean): Promise<void> {
  while (!check()) await new Promise((resolve) => setTimeout(resolve, 2));
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
      await until(() => a.snapshot().sendCredit === window);
      expect(a.snapshot().sendCredit).toBe(window);
    } finally {
      a.abort();
      b.abort();
    }
  });
});
