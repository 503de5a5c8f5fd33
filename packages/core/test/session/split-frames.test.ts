/**
 * Links that join frames into batches take big payloads as header + payload
 * (FrameLink.sendSplit), so the payload is copied once. What arrives must be
 * exactly what was sent, whichever way each frame went.
 */
import { describe, expect, it } from 'vitest';
import { MIN_SPLIT_PAYLOAD } from '../../src/config.js';
import { memoryLinkPair, Session, type FrameLink, type LinkSink } from '../../src/index.js';
import { joinFrames, splitBatch } from '../../src/link/stream.js';
import { bytes, drainBytes, byteSource, sha256 } from './helpers.js';

/** A link offering sendSplit: it joins each split frame (as a batching link would) and counts them. */
class SplittingLink implements FrameLink {
  split = 0;
  whole = 0;
  smallestSplitBody = Infinity;
  constructor(private readonly inner: FrameLink) {}
  start(sink: LinkSink): void {
    this.inner.start(sink);
  }
  send(frame: Uint8Array, lane?: number): boolean {
    this.whole++;
    return this.inner.send(frame, lane);
  }
  sendSplit(head: Uint8Array, body: Uint8Array, lane?: number): boolean {
    this.split++;
    this.smallestSplitBody = Math.min(this.smallestSplitBody, body.byteLength);
    const [frame] = splitBatch(joinFrames([{ head, body }]));
    return this.inner.send(frame as Uint8Array, lane);
  }
  close(error?: unknown): void {
    this.inner.close(error);
  }
}

describe('frames sent as header and payload', () => {
  it('a 300 KB message and a 1 MiB byte stream arrive byte-exact; only big payloads go split', async () => {
    const [la, lb] = memoryLinkPair();
    const link = new SplittingLink(la);
    const a = new Session(link, { keepAliveMs: 0 });
    const b = new Session(lb, { keepAliveMs: 0 });
    try {
      await Promise.all([a.ready, b.ready]);
      const tx = await a.openSender<{ blob: Uint8Array; text: string } | { body: ReadableStream<Uint8Array> }>();
      const rx = await b.accept<{ blob: Uint8Array; text: string } | { body: ReadableStream<Uint8Array> }>();
      const blob = bytes(300_000, 11);
      const text = 'x'.repeat(50_000);
      await tx.send({ blob, text });
      const got = (await rx.receive()) as { blob: Uint8Array; text: string };
      expect(sha256(got.blob)).toBe(sha256(blob));
      expect(got.text).toBe(text);

      const source = byteSource(1024 * 1024 + 123, 64 * 1024, 9);
      await tx.send({ body: source.stream });
      const { body } = (await rx.receive()) as { body: ReadableStream<Uint8Array> };
      const drained = await drainBytes(body);
      expect(drained.length).toBe(1024 * 1024 + 123);
      expect(drained.sha256).toBe(source.sha256);

      expect(link.split).toBeGreaterThan(0);
      expect(link.smallestSplitBody).toBeGreaterThanOrEqual(MIN_SPLIT_PAYLOAD);
      expect(link.whole).toBeGreaterThan(0); // control frames and small messages still go whole
    } finally {
      a.abort();
      b.abort();
    }
  });
});
