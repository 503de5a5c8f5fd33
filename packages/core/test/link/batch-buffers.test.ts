/**
 * Reused batch buffers (link/batch.ts): a big batch gets a view of a buffer that
 * comes back only when the socket hands the batch back, small and oversized ones
 * are never reused, and no more than REUSED_BATCHES_KEPT wait.
 */
import { describe, expect, it } from 'vitest';
import { REUSED_BATCH_BYTES, REUSED_BATCH_MIN_BYTES, REUSED_BATCHES_KEPT } from '../../src/config.js';
import { batchBuffer, FrameBatch, isReusedBatch, releaseBatch } from '../../src/link/batch.js';
import { joinFrames } from '../../src/link/stream.js';

/** Takes every buffer waiting, so each test starts from an empty pool, and returns them. */
function drainPool(): Uint8Array[] {
  const taken: Uint8Array[] = [];
  for (let i = 0; i < REUSED_BATCHES_KEPT + 1; i++) taken.push(batchBuffer(REUSED_BATCH_MIN_BYTES));
  return taken;
}

describe('reused batch buffers', () => {
  it('a big batch is a view of a reused buffer of REUSED_BATCH_BYTES; small and oversized ones are not', () => {
    const big = batchBuffer(REUSED_BATCH_MIN_BYTES + 10);
    expect(big.byteLength).toBe(REUSED_BATCH_MIN_BYTES + 10);
    expect(big.buffer.byteLength).toBe(REUSED_BATCH_BYTES);
    expect(isReusedBatch(big)).toBe(true);
    for (const size of [0, 100, REUSED_BATCH_MIN_BYTES - 1, REUSED_BATCH_BYTES + 1]) {
      const other = batchBuffer(size);
      expect(other.byteLength).toBe(size);
      expect(isReusedBatch(other), `size ${size}`).toBe(false);
    }
    expect(isReusedBatch(new Uint8Array(REUSED_BATCH_BYTES))).toBe(false);
  });

  it('a buffer comes back only after releaseBatch: two batches in flight never share memory', () => {
    drainPool();
    const a = batchBuffer(REUSED_BATCH_MIN_BYTES);
    const b = batchBuffer(REUSED_BATCH_MIN_BYTES);
    expect(a.buffer).not.toBe(b.buffer);
    releaseBatch(a);
    const c = batchBuffer(2 * REUSED_BATCH_MIN_BYTES);
    expect(c.buffer).toBe(a.buffer);
    expect(c.buffer).not.toBe(b.buffer);
  });

  it('releasing twice, or releasing a batch that is not reused, adds nothing to the pool', () => {
    drainPool();
    const a = batchBuffer(REUSED_BATCH_MIN_BYTES);
    releaseBatch(a);
    releaseBatch(a);
    releaseBatch(new Uint8Array(REUSED_BATCH_BYTES));
    releaseBatch(batchBuffer(100));
    const first = batchBuffer(REUSED_BATCH_MIN_BYTES);
    const second = batchBuffer(REUSED_BATCH_MIN_BYTES);
    expect(first.buffer).toBe(a.buffer);
    expect(second.buffer).not.toBe(a.buffer);
  });

  it(`at most REUSED_BATCHES_KEPT (${REUSED_BATCHES_KEPT}) buffers wait; more released are left to the GC`, () => {
    drainPool();
    const held = Array.from({ length: REUSED_BATCHES_KEPT + 2 }, () => batchBuffer(REUSED_BATCH_MIN_BYTES));
    for (const batch of held) releaseBatch(batch);
    const kept = new Set(held.slice(0, REUSED_BATCHES_KEPT).map((b) => b.buffer));
    const again = Array.from({ length: REUSED_BATCHES_KEPT + 1 }, () => batchBuffer(REUSED_BATCH_MIN_BYTES).buffer);
    expect(new Set(again.slice(0, REUSED_BATCHES_KEPT))).toEqual(kept);
    expect(held.map((b) => b.buffer)).not.toContain(again[REUSED_BATCHES_KEPT]);
  });

  it('joinFrames fills a reused view completely: a batch written over an older one carries only its own bytes', () => {
    drainPool();
    const old = joinFrames([new Uint8Array(REUSED_BATCH_MIN_BYTES + 1000).fill(7)], batchBuffer);
    expect(isReusedBatch(old)).toBe(true);
    releaseBatch(old);
    const frame = new Uint8Array(REUSED_BATCH_MIN_BYTES).fill(1);
    const batch = joinFrames([frame, { head: new Uint8Array([9, 9]), body: new Uint8Array(10).fill(2) }], batchBuffer);
    expect(batch.buffer).toBe(old.buffer);
    // Prefix (a 3-byte varint), the frame, prefix 12, head, body: nothing of the old batch inside.
    expect(batch.byteLength).toBe(3 + REUSED_BATCH_MIN_BYTES + 1 + 12);
    expect(batch.subarray(3, 3 + REUSED_BATCH_MIN_BYTES).every((b) => b === 1)).toBe(true);
    expect([...batch.subarray(3 + REUSED_BATCH_MIN_BYTES)]).toEqual([12, 9, 9, ...new Array(10).fill(2)]);
  });
});

describe('FrameBatch maxBytes', () => {
  it('a frame that would take the batch (length prefixes included) over maxBytes sends what waits first', () => {
    const delivered: number[][] = [];
    const batch = new FrameBatch<Uint8Array>((frames) => delivered.push(frames.map((f) => f.byteLength)), () => {}, 100);
    batch.push(new Uint8Array(40));
    batch.push(new Uint8Array(40)); // 2 × (1 + 40) = 82
    expect(delivered).toEqual([]);
    batch.push(new Uint8Array(40)); // 123 > 100: the first two go out first
    expect(delivered).toEqual([[40, 40]]);
    batch.push(new Uint8Array(18)); // 41 + 19 = 60
    batch.flush();
    expect(delivered).toEqual([[40, 40], [40, 18]]);
    // Exactly at the limit stays one batch (1 + 48 + 1 + 49 + 1 + 0 = 100); one more frame takes it over.
    batch.push(new Uint8Array(48));
    batch.push(new Uint8Array(49));
    batch.push(new Uint8Array(0));
    expect(delivered).toHaveLength(2);
    batch.push(new Uint8Array(1));
    expect(delivered).toEqual([[40, 40], [40, 18], [48, 49, 0]]);
  });
});
