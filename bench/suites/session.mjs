// Sessions without a network: `sessionPair()` joins two sessions by an in-memory frame link
// that runs the full wire protocol and codec, so these numbers are the session's own cost
// (framing, flow control, codec, scheduling) on one thread, with no I/O.
//
//   messages      the ~100-byte object. Baseline (the ceiling): the session's codec alone,
//                 `codec.encode(v, undefined, 16)` + `codec.decode(…)`, as a session does per
//                 message. Then a sessionPair: a opens a sender, b accepts; the producer does
//                 `await tx.send(obj)` in a loop, the consumer `for await`. Target ≥ 0.7× the ceiling.
//   byte stream   a ReadableStream of 64 KiB chunks, 512 MiB per round, sent inside one message
//                 and read to the end on the other side. Target ≥ 1 GiB/s. Baseline: the same
//                 ReadableStream read directly, with no session (the stream machinery's floor).
//   request/reply a request carrying a fresh `Ret` pipe each (`const [r, ret] = pipe();
//                 await tx.send({ i, ret }); await r.receive()`), the other side replies and
//                 closes ret. Baseline: the same over an in-memory pipe(), with no session.
import { pipe, sessionPair } from '../../packages/core/dist/index.js';
import { Codec } from '../../packages/core/dist/codec/index.js';
import { repeatedChunks, withTimeout as sharedWithTimeout } from '../lib/measure.mjs';

export const name = 'session';

const message = { id: 12345, name: 'hello world', tags: ['a', 'b', 'c'], nested: { x: 1.5, y: true, z: null }, t: 'abcdefghij' };
const CHUNK = 64 * 1024;
const GiB = 1024 * 1024 * 1024;
/** A round that takes longer than this is a hang: fail with what hung. */
const ROUND_TIMEOUT_MS = 60_000;

let sink = 0;

const withTimeout = (promise, what, ms = ROUND_TIMEOUT_MS) => sharedWithTimeout('session', promise, what, ms);

/** A new top-level channel from a to b. */
async function channel(a, b) {
  const [tx, rx] = await Promise.all([a.openSender(), b.accept()]);
  return { tx, rx };
}

export async function run(report) {
  const [a, b] = sessionPair();
  await Promise.all([a.ready, b.ready]);
  try {
    await messages(report, a, b);
    await byteStream(report, a, b);
    await requestReply(report, a, b);
  } finally {
    a.abort();
    b.abort();
  }
}

async function messages(report, a, b) {
  const group = 'messages, ~100 B';
  const codec = new Codec({ maxNestingDepth: 64 });
  const check = codec.encode(message, undefined, 16);
  if (JSON.stringify(codec.decode(check.bytes.subarray(check.offset))) !== JSON.stringify(message)) throw new Error('codec did not round-trip');

  await report.measure('codec alone: encode(v, undefined, 16) + decode (ceiling)', {
    group,
    baseline: true,
    unit: 'msgs/s',
    minRoundMs: 300,
    fn: (n) => {
      let s = 0;
      for (let i = 0; i < n; i++) {
        const e = codec.encode(message, undefined, 16);
        s += codec.decode(e.bytes.subarray(e.offset)).id;
      }
      sink += s;
    },
  });

  await report.measure('sessionPair: await tx.send(obj) → for await', {
    group,
    unit: 'msgs/s',
    minRoundMs: 300,
    calibrateFrom: 10_000,
    target: { minRatio: 0.7 },
    setup: () => channel(a, b),
    fn: (n, { tx, rx }) =>
      withTimeout(
        (async () => {
          const consumer = (async () => {
            let count = 0;
            let s = 0;
            for await (const v of rx) {
              count++;
              s += v.id;
            }
            sink += s;
            return count;
          })();
          for (let i = 0; i < n; i++) await tx.send(message);
          await tx.close();
          const count = await consumer;
          if (count !== n) throw new Error(`sessionPair: ${count} of ${n} messages arrived`);
        })(),
        'sessionPair messages',
      ),
  });
  report.note(
    `messages: the codec payload is ${check.byteLength} B. The sessionPair row is both ends on one thread, so it pays encode and decode like the ceiling, ` +
      `plus framing, credit and two async hops per message. Its target is relative: ≥ 0.7× the ceiling row.`,
  );
}

async function byteStream(report, a, b) {
  const group = 'byte stream, 64 KiB chunks';
  const total = Math.ceil(report.scale(512 * 1024 * 1024) / CHUNK) * CHUNK;
  const chunk = new Uint8Array(CHUNK);
  for (let i = 0; i < CHUNK; i++) chunk[i] = i * 31;
  const common = { group, unit: 'GiB/s', ops: total / GiB };

  // No bytes move here, so a round reads 16× as many chunks to last long enough to time.
  const floorTotal = 16 * total;
  await report.measure('ReadableStream read directly, no session (floor)', {
    ...common,
    ops: floorTotal / GiB,
    baseline: true,
    fn: async () => {
      let got = 0;
      for await (const c of repeatedChunks(floorTotal, chunk)) got += c.byteLength;
      if (got !== floorTotal) throw new Error(`read ${got} of ${floorTotal}`);
    },
  });

  await report.measure('sessionPair: ReadableStream inside a message → read to the end', {
    ...common,
    target: { min: 1 },
    setup: () => channel(a, b),
    fn: (n, { tx, rx }) =>
      withTimeout(
        (async () => {
          const sent = tx.send({ body: repeatedChunks(total, chunk) });
          const { body } = await rx.receive();
          let got = 0;
          for await (const c of body) got += c.byteLength;
          await sent;
          await tx.close();
          if (got !== total) throw new Error(`sessionPair: read ${got} of ${total} bytes`);
        })(),
        'sessionPair byte stream',
      ),
  });
  report.note(
    `byte stream: ${total / (1024 * 1024)} MiB per round. The same 64 KiB chunk is enqueued each time (it is never written to; the session copies it into frames). ` +
      'The floor row moves no bytes at all: it is the cost of the ReadableStream itself.',
  );
}

async function requestReply(report, a, b) {
  const group = 'request/reply';
  const common = { group, unit: 'round trips/s', minRoundMs: 300, calibrateFrom: 2_000 };

  const serve = async (requests) => {
    for await (const { i, ret } of requests) {
      ret.send(i).then(
        () => ret.close(),
        () => {},
      );
    }
  };
  const client = (tx) => async (n) => {
    for (let i = 0; i < n; i++) {
      const [replies, ret] = pipe();
      await tx.send({ i, ret });
      const reply = await replies.receive();
      if (reply !== i) throw new Error(`reply ${reply} to ${i}`);
    }
  };

  {
    const [rx, tx] = pipe();
    const server = serve(rx);
    await report.measure('in-memory pipe(): request with a fresh Ret pipe, no session', {
      ...common,
      baseline: true,
      fn: (n) => withTimeout(client(tx)(n), 'pipe request/reply'),
    });
    await tx.close();
    await server;
  }

  const { tx, rx } = await channel(a, b);
  const server = serve(rx);
  await report.measure('sessionPair: request with a fresh Ret pipe', {
    ...common,
    warmup: Math.max(2, report.options.warmup),
    fn: (n) => withTimeout(client(tx)(n), 'sessionPair request/reply'),
  });
  await tx.close();
  await withTimeout(server, 'sessionPair request/reply server loop');
}
