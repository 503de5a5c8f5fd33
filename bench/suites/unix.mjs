// Same-host processes: libchan over a Unix domain socket (`listenSocket` / `connectSocket`
// from @libchan/core/node), next to libchan over a loopback WebSocket and a raw Unix-socket
// baseline with no library. Each server runs in its own child process (spawnServer), the
// client in this suite's process:
//   bench/servers/unix-raw.mjs      plain `net` server (the 1.00× rows)
//   bench/servers/unix-libchan.mjs  ONE libchan serve() behind listenSocket({ path }) and
//                                   listenWebSocket (so both libchan rows run the same server code)
//
//   one-way      the ~100-byte object, client → server, msgs/s. The server counts; at the end of
//                a round the client asks for the count (a sync on the same ordered stream), so a
//                round ends when all N messages have arrived.
//                raw: JSON.stringify → [u32 length][JSON] → socket.write per message, waiting for
//                'drain' when write() returns false; the server JSON.parses every message.
//                libchan (unix, ws): one top-level channel, `await tx.send(obj)` per message.
//   request/reply  one request in flight, 5,000 per round; round trips/s and p50/p99 latency (µs).
//                raw: write the frame {"i":i}, await the echoed frame, JSON.parse it.
//                libchan: `const [r, ret] = pipe(); await tx.send({ i, ret }); await r.receive()`;
//                the server replies on ret and closes it.
//   byte stream  64 KiB chunks, 256 MiB per round, client → server, MiB/s.
//                raw: socket.write per chunk with 'drain' backpressure, then end(); the server
//                answers with its byte count.
//                libchan: a ReadableStream of the chunks inside one message { body, ret }; the
//                server reads it to the end and replies with the count on ret.
//
// The issue ("Same-host processes") asks for the report, not for a ratio, so no row has a target.
import { connect as netConnect } from 'node:net';
import WebSocket from 'ws';
import { pipe } from '../../packages/core/dist/index.js';
import { libchanClient } from '../lib/libchan-client.mjs';
import { connectSocket } from '../../packages/core/dist/node/index.js';
import { connectWebSocket } from '../../packages/transport-ws/dist/node.js';
import { spawnServer } from '../lib/child.mjs';
import { CHUNK, chunk, inbox, latencyCase, message, repeatedChunks, sendCounted, withTimeout as sharedWithTimeout } from '../lib/measure.mjs';

export const name = 'unix';

const serverUrl = (file) => new URL(`../servers/${file}`, import.meta.url);

const withTimeout = (promise, what, ms) => sharedWithTimeout('unix', promise, what, ms);

// ─── raw Unix-socket client (bench/servers/unix-raw.mjs) ─────────────────────

function rawSocket(path, mode) {
  return new Promise((resolve, reject) => {
    const socket = netConnect({ path });
    socket.once('error', reject);
    socket.once('connect', () => {
      socket.off('error', reject);
      socket.setNoDelay?.(true);
      socket.write(mode);
      resolve(socket);
    });
  });
}

function frame(text) {
  const body = Buffer.from(text);
  const out = Buffer.allocUnsafe(4 + body.length);
  out.writeUInt32BE(body.length, 0);
  body.copy(out, 4);
  return out;
}

/** Mode 'M': length-prefixed JSON frames both ways. */
async function rawMessages(path) {
  const socket = await rawSocket(path, 'M');
  const messages = inbox();
  let pending = Buffer.alloc(0);
  socket.on('data', (chunk) => {
    const buf = pending.length === 0 ? chunk : Buffer.concat([pending, chunk]);
    let o = 0;
    while (buf.length - o >= 4) {
      const len = buf.readUInt32BE(o);
      if (buf.length - o - 4 < len) break;
      const payload = buf.toString('utf8', o + 4, o + 4 + len);
      o += 4 + len;
      messages.push(payload);
    }
    pending = o === buf.length ? Buffer.alloc(0) : buf.subarray(o);
  });
  const onGone = (error) => messages.fail(error ?? new Error('raw unix: connection closed'));
  socket.on('close', () => onGone());
  socket.on('error', onGone);
  let drained;
  return {
    socket,
    next: messages.next,
    /** Writes one frame; returns a promise only when the socket asks to wait for 'drain'. */
    send(text) {
      return this.sendRaw(frame(text));
    },
    sendRaw(bytes) {
      if (socket.write(bytes)) return undefined;
      return (drained ??= new Promise((resolve) =>
        socket.once('drain', () => {
          drained = undefined;
          resolve();
        }),
      ));
    },
    async sync() {
      socket.write(frame('{"sync":1}'));
      return JSON.parse(await this.next());
    },
    close() {
      socket.destroy();
    },
  };
}

/** Mode 'B': writes `total` bytes in chunks, half-closes, resolves with the server's count. */
async function rawBytes(socket, chunk, total) {
  const counted = new Promise((resolve, reject) => {
    const parts = [];
    socket.on('data', (d) => parts.push(d));
    socket.once('end', () => resolve(Number(Buffer.concat(parts).readBigUInt64BE(0))));
    socket.once('error', reject);
  });
  for (let sent = 0; sent < total; sent += CHUNK) {
    if (!socket.write(chunk)) await new Promise((resolve) => socket.once('drain', resolve));
  }
  socket.end();
  return counted;
}

// ─── libchan client (unix or ws) ─────────────────────────────────────────────

async function libchanConnect(transport, server) {
  return libchanClient(transport === 'unix' ? await connectSocket({ path: server.path }) : await connectWebSocket(server.wsUrl, { WebSocket }));
}

const LABEL = { unix: 'libchan over Unix socket', ws: 'libchan over WebSocket (loopback)' };

// ─── cases ───────────────────────────────────────────────────────────────────

async function oneWay(report, raw, lc) {
  const group = 'one-way, ~100 B';
  const ops = report.scale(100_000);
  const common = { group, unit: 'msgs/s', ops };

  const client = await rawMessages(raw.path);
  await report.measure('raw Unix socket: [length][JSON] write per message, drain backpressure', {
    ...common,
    baseline: true,
    setup: () => client.sync(),
    fn: (n, { count: before }) =>
      withTimeout(sendCounted(client, n, before, 'raw unix'), 'raw unix one-way'),
  });

  // Reference (not a baseline): the same frames, but joined into one write per BATCH messages,
  // which is what libchan's link does per tick; shows how much of a gap is syscalls per message.
  const BATCH = 256;
  await report.measure(`raw Unix socket, same frames joined: one write per ${BATCH} messages`, {
    ...common,
    setup: () => client.sync(),
    fn: (n, { count: before }) =>
      withTimeout(
        (async () => {
          const parts = [];
          for (let i = 0; i < n; i++) {
            parts.push(frame(JSON.stringify(message)));
            if (parts.length === BATCH || i === n - 1) {
              const wait = client.sendRaw(Buffer.concat(parts));
              parts.length = 0;
              if (wait) await wait;
            }
          }
          const after = (await client.sync()).count;
          if (after - before !== n) throw new Error(`raw unix (batched): server counted ${after - before} of ${n}`);
        })(),
        'raw unix one-way (batched)',
      ),
  });
  client.close();

  for (const transport of ['unix', 'ws']) {
    const c = await libchanConnect(transport, lc);
    await report.measure(`${LABEL[transport]}: await tx.send(obj) on one channel`, {
      ...common,
      setup: () => c.request((ret) => ({ sync: true, ret })),
      fn: (n, { count: before }) =>
        withTimeout(
          (async () => {
            for (let i = 0; i < n; i++) await c.tx.send(message);
            const after = (await c.request((ret) => ({ sync: true, ret }))).count;
            if (after - before !== n) throw new Error(`${LABEL[transport]}: server counted ${after - before} of ${n}`);
          })(),
          `${LABEL[transport]} one-way (bench/servers/unix-libchan.mjs)`,
        ),
    });
    await withTimeout(c.close(), `${LABEL[transport]}: session close`);
  }
}

async function requestReply(report, raw, lc) {
  const group = 'request/reply';
  const client = await rawMessages(raw.path);
  await latencyCase(report, 'unix', 'raw Unix socket: write {i}, await the echoed frame', { group, baseline: true }, async (i) => {
    client.socket.write(frame(JSON.stringify({ i })));
    const reply = JSON.parse(await client.next());
    if (reply.i !== i) throw new Error(`raw unix: reply ${reply.i} to ${i}`);
  });
  client.close();

  for (const transport of ['unix', 'ws']) {
    const c = await libchanConnect(transport, lc);
    await latencyCase(report, 'unix', `${LABEL[transport]}: request with a fresh Ret pipe`, { group }, async (i) => {
      const [replies, ret] = pipe();
      await c.tx.send({ i, ret });
      const reply = await replies.receive();
      if (reply !== i) throw new Error(`${LABEL[transport]}: reply ${reply} to ${i}`);
    });
    await withTimeout(c.close(), `${LABEL[transport]}: session close`);
  }
}

async function byteStream(report, raw, lc) {
  const group = 'byte stream, 64 KiB chunks';
  const total = Math.ceil(report.scale(256 * 1024 * 1024) / CHUNK) * CHUNK;
  const common = { group, unit: 'MiB/s', ops: total / (1024 * 1024) };

  await report.measure('raw Unix socket: write per chunk, drain backpressure', {
    ...common,
    baseline: true,
    setup: () => rawSocket(raw.path, 'B'),
    fn: (n, socket) =>
      withTimeout(
        (async () => {
          const got = await rawBytes(socket, chunk, total);
          if (got !== total) throw new Error(`raw unix: server got ${got} of ${total} bytes`);
        })(),
        'raw unix byte stream',
      ),
    teardown: (socket) => socket.destroy(),
  });

  for (const transport of ['unix', 'ws']) {
    const c = await libchanConnect(transport, lc);
    await report.measure(`${LABEL[transport]}: a ReadableStream inside one message`, {
      ...common,
      fn: () =>
        withTimeout(
          (async () => {
            const got = await c.request((ret) => ({ body: repeatedChunks(total), ret }));
            if (got !== total) throw new Error(`${LABEL[transport]}: server read ${got} of ${total} bytes`);
          })(),
          `${LABEL[transport]} byte stream (bench/servers/unix-libchan.mjs)`,
        ),
    });
    await withTimeout(c.close(), `${LABEL[transport]}: session close`);
  }
}

export async function run(report) {
  const [raw, lc] = await Promise.all([spawnServer(serverUrl('unix-raw.mjs')), spawnServer(serverUrl('unix-libchan.mjs'))]);
  try {
    await oneWay(report, raw.info, lc.info);
    await requestReply(report, raw.info, lc.info);
    await byteStream(report, raw.info, lc.info);
  } finally {
    await Promise.all([raw.close(), lc.close()]);
  }
  const json = Buffer.byteLength(JSON.stringify(message));
  report.note(
    `Client in the suite process, each server in its own child process; Unix socket in os.tmpdir(), WebSocket on 127.0.0.1 without compression. ` +
      `The ~100 B message is ${json} B of JSON (the raw rows send exactly that behind a 4-byte length; libchan sends its 110 B codec payload in a frame, frames batched per tick). ` +
      'The raw rows issue one socket.write per message or chunk, with no batching of their own.',
  );
}
