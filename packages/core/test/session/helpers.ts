/**
 * Helpers for the session scenario tests. Nothing here relies on wall-clock
 * speed for correctness: "still pending" is only asserted after a
 * synchronisation round trip over the same (ordered) link, or for things
 * that cannot make progress at all (no credit is ever returned).
 */
import { createHash } from 'node:crypto';
import { expect } from 'vitest';
import type { Receiver, Sender, Session } from '../../src/index.js';

// Promise observation is shared with the channel tests.
import { macrotasks as turns, rejectionOf, track, type Tracked } from '../channel/helpers.js';
export { rejectionOf, track, turns, type Tracked };

export function deferred<T = void>(): { promise: Promise<T>; resolve(value: T): void; reject(reason: unknown): void } {
  let resolve!: (value: T) => void;
  let reject!: (reason: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  promise.catch(() => {});
  return { promise, resolve, reject };
}

export function range(n: number): number[] {
  return Array.from({ length: n }, (_, i) => i);
}

/** Deterministic pseudo-random bytes (xorshift32), so failures are reproducible. */
export function bytes(n: number, seed = 1): Uint8Array {
  const out = new Uint8Array(n);
  let x = seed >>> 0 || 0x9e3779b9;
  for (let i = 0; i < n; i++) {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    out[i] = x & 0xff;
  }
  return out;
}

/** A string of `n` UTF-16 code units mixing ASCII, 2-, 3- and 4-byte UTF-8 characters. */
export function text(n: number): string {
  const alphabet = ['a', 'Z', '0', ' ', '"', '\\', '\n', 'é', 'ß', '€', '中', '😀', '{', '}'];
  let s = '';
  let i = 0;
  while (s.length < n) {
    s += alphabet[(i * 7 + (i >> 3)) % alphabet.length] as string;
    i++;
  }
  return s.slice(0, n - 1) + 'x'; // never end on half a surrogate pair
}

export function sha256(...parts: Uint8Array[]): string {
  const h = createHash('sha256');
  for (const p of parts) h.update(p);
  return h.digest('hex');
}

export function concat(parts: Uint8Array[]): Uint8Array {
  const total = parts.reduce((n, p) => n + p.byteLength, 0);
  const out = new Uint8Array(total);
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.byteLength;
  }
  return out;
}

export function sameBytes(actual: unknown, expected: Uint8Array): void {
  expect(actual).toBeInstanceOf(Uint8Array);
  const a = actual as Uint8Array;
  expect(a.byteLength).toBe(expected.byteLength);
  expect(Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(Buffer.from(expected.buffer, expected.byteOffset, expected.byteLength))).toBe(true);
}

/** A ReadableStream of `total` deterministic bytes in `chunk`-sized pieces, produced on demand. */
export function byteSource(total: number, chunk: number, seed = 7): { stream: ReadableStream<Uint8Array>; sha256: string } {
  const all = bytes(total, seed);
  let offset = 0;
  const stream = new ReadableStream<Uint8Array>(
    {
      pull(controller) {
        if (offset >= total) {
          controller.close();
          return;
        }
        const end = Math.min(offset + chunk, total);
        controller.enqueue(all.slice(offset, end));
        offset = end;
      },
    },
    { highWaterMark: 0 },
  );
  return { stream, sha256: sha256(all) };
}

/**
 * A byte stream of `total` bytes in chunks of `chunkBytes`, where the byte at
 * position p is p % 251 (a prime, so a lost, repeated or shifted piece shows
 * wherever the receiver's chunks are cut). Read it with `readPositioned`.
 */
export function positionedBytes(total: number, chunkBytes = 64 * 1024): ReadableStream<Uint8Array> {
  let sent = 0;
  return new ReadableStream<Uint8Array>({
    pull(controller) {
      if (sent >= total) return controller.close();
      const chunk = new Uint8Array(Math.min(chunkBytes, total - sent));
      for (let i = 0; i < chunk.byteLength; i++) chunk[i] = (sent + i) % 251;
      sent += chunk.byteLength;
      controller.enqueue(chunk);
    },
  });
}

/** Reads a byte stream to its end, handing each chunk to `onChunk`. */
async function eachChunk(readable: ReadableStream<Uint8Array>, onChunk: (chunk: Uint8Array) => void): Promise<void> {
  const reader = readable.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) return;
    onChunk(value);
  }
}

/** Reads a `positionedBytes` stream to its end: the bytes, and how many are not what was sent; `onChunk` runs after each read. */
export async function readPositioned(readable: ReadableStream<Uint8Array>, onChunk?: () => void): Promise<{ bytes: number; wrong: number }> {
  let bytes = 0;
  let wrong = 0;
  await eachChunk(readable, (value) => {
    for (let i = 0; i < value.byteLength; i++) if (value[i] !== (bytes + i) % 251) wrong++;
    bytes += value.byteLength;
    onChunk?.();
  });
  return { bytes, wrong };
}

/** Reads a byte stream to its end: its length and SHA-256. */
export async function drainBytes(readable: ReadableStream<Uint8Array>): Promise<{ length: number; sha256: string; chunks: number }> {
  const h = createHash('sha256');
  let length = 0;
  let chunks = 0;
  await eachChunk(readable, (value) => {
    expect(value).toBeInstanceOf(Uint8Array);
    h.update(value);
    length += value.byteLength;
    chunks++;
  });
  return { length, sha256: h.digest('hex'), chunks };
}

/** Every value of a receiver until its clean end (a for-await, so a reset throws). */
export async function collect<T>(receiver: Receiver<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const value of receiver) out.push(value);
  return out;
}

/**
 * A top-level channel used only to synchronise: once `sync()` returns, every
 * frame `from` wrote before the call has been handled by `to` (links are
 * ordered and frames are handled in order). Open it before any other channel
 * `to` would accept, so it does not take someone else's place in the queue.
 */
export interface SyncLink {
  sync(): Promise<void>;
  tx: Sender<number>;
  rx: Receiver<number>;
}

export async function syncLink(from: Session, to: Session): Promise<SyncLink> {
  const tx = await from.openSender<number>();
  const rx = await to.accept<number>();
  let n = 0;
  return {
    tx,
    rx,
    async sync() {
      const token = ++n;
      await tx.send(token);
      expect(await rx.receive()).toBe(token);
      await turns(2);
    },
  };
}

export function expectClosedCode(error: unknown, code: string): void {
  expect(error, `expected a ChannelClosedError with code ${code}`).toBeInstanceOf(Error);
  expect((error as Error).name).toBe('ChannelClosedError');
  expect((error as { code?: unknown }).code).toBe(code);
}

/** Name and message as they cross the wire (the object itself is a rebuilt copy). */
export function expectSameError(actual: unknown, expected: Error): void {
  expect(actual).toBeInstanceOf(Error);
  expect((actual as Error).name).toBe(expected.name);
  expect((actual as Error).message).toBe(expected.message);
}

/**
 * Polls `check` until it holds. A wait that does not end fails, naming `what`, after `ms`
 * of wall-clock time: under the test timeout, so the polling stops and says where it hung.
 * Nothing asserts that it is fast. With fake timers, pass `tick`: it runs each round
 * (then one setImmediate turn) instead of a 2 ms sleep.
 */
export async function until(check: () => boolean, what: string, options: { ms?: number; tick?: () => void } = {}): Promise<void> {
  const ms = options.ms ?? 15_000;
  const deadline = performance.now() + ms;
  while (!check()) {
    if (performance.now() > deadline) throw new Error(`still waiting after ${ms} ms: ${what}`);
    if (options.tick) {
      options.tick();
      await new Promise((resolve) => setImmediate(resolve));
    } else await new Promise((resolve) => setTimeout(resolve, 2));
  }
}
