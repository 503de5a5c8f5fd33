// Measurement shapes the network suites share (ws, unix, the broadcast page): the ~100-byte
// message, the byte-stream chunk and a stream of it, a hang guard for rounds, and the
// request/reply latency case. No Node APIs: the broadcast page runs it in Chromium.

/** The ~100-byte message of the one-way cases (108 B of JSON). */
export const message = { id: 12345, name: 'hello world', tags: ['a', 'b', 'c'], nested: { x: 1.5, y: true, z: null }, t: 'abcdefghij' };
/** Byte-stream chunk size. */
export const CHUNK = 64 * 1024;
/** The byte-stream chunk every case sends, never written to after this. */
export const chunk = new Uint8Array(CHUNK);
for (let i = 0; i < CHUNK; i++) chunk[i] = (i * 31) & 0xff;

/**
 * A ReadableStream of `total` bytes (a multiple of the piece's size): `piece` (default
 * `chunk`) enqueued again and again, on demand. Safe because nothing writes to it (a
 * session copies it into frames).
 */
export function repeatedChunks(total, piece = chunk) {
  let sent = 0;
  return new ReadableStream({
    pull(controller) {
      if (sent >= total) controller.close();
      else {
        sent += piece.byteLength;
        controller.enqueue(piece);
      }
    },
  });
}
/** A round (or a connection) that takes longer than this is a hang: fail with what hung. */
export const ROUND_TIMEOUT_MS = 30_000;

/** `promise`, or a rejection naming `what` (prefixed by the suite) after `ms`. */
export function withTimeout(suite, promise, what, ms = ROUND_TIMEOUT_MS) {
  let timer;
  return Promise.race([
    promise,
    new Promise((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${suite} suite: ${what} did not finish within ${ms / 1000} s (hang)`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

/**
 * Messages from a raw connection, in order: `push` each one as it arrives, `fail` when the
 * connection is gone; `next()` resolves with the next message, or rejects after `fail`.
 */
export function inbox() {
  const queued = [];
  const waiters = [];
  let failure;
  return {
    push(message) {
      const w = waiters.shift();
      if (w) w.resolve(message);
      else queued.push(message);
    },
    fail(error) {
      failure = error;
      for (const w of waiters.splice(0)) w.reject(error);
    },
    next() {
      if (queued.length > 0) return Promise.resolve(queued.shift());
      if (failure) return Promise.reject(failure);
      return new Promise((resolve, reject) => waiters.push({ resolve, reject }));
    },
  };
}

/**
 * One round of a raw one-way case: `n` copies of `message` as JSON through `client.send`
 * (awaited only when it asks to wait), then `client.sync()`, whose count must have grown by `n`.
 */
export async function sendCounted(client, n, before, what) {
  for (let i = 0; i < n; i++) {
    const wait = client.send(JSON.stringify(message));
    if (wait) await wait;
  }
  const after = (await client.sync()).count;
  if (after - before !== n) throw new Error(`${what}: server counted ${after - before} of ${n}`);
}

export function percentile(sorted, p) {
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))];
}

/**
 * Request/reply: warm-up, then timed rounds of `n` sequential round trips. Records
 * round trips/s, p50 and p99 latency (one sample per round each; the table shows medians).
 */
export async function latencyCase(report, suite, caseName, { group, baseline, p50Target }, roundTrip) {
  const n = report.scale(5_000);
  const latencies = new Float64Array(n);
  const round = async () => {
    globalThis.gc?.();
    const start = performance.now();
    for (let i = 0; i < n; i++) {
      const t0 = performance.now();
      await roundTrip(i);
      latencies[i] = performance.now() - t0;
    }
    const ms = performance.now() - start;
    const sorted = latencies.slice().sort();
    return { rate: n / (ms / 1e3), p50: percentile(sorted, 0.5) * 1e3, p99: percentile(sorted, 0.99) * 1e3 };
  };
  const warmup = Math.max(2, report.options.warmup);
  for (let i = 0; i < warmup; i++) await withTimeout(suite, round(), `${caseName} (warm-up)`);
  const rounds = [];
  for (let i = 0; i < report.options.rounds; i++) rounds.push(await withTimeout(suite, round(), caseName));
  const common = { group, baseline, ops: n };
  report.record(caseName, { ...common, metric: 'throughput', unit: 'round trips/s', samples: rounds.map((r) => r.rate) });
  report.record(caseName, { ...common, metric: 'p50 latency', unit: 'µs', better: 'lower', samples: rounds.map((r) => r.p50), target: p50Target });
  report.record(caseName, { ...common, metric: 'p99 latency', unit: 'µs', better: 'lower', samples: rounds.map((r) => r.p99) });
}
