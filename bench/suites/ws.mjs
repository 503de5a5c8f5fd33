// libchan over WebSocket against raw `ws` (the baseline) and Socket.IO (a peer), client
// and server in separate processes over loopback: each server runs in a child
// (spawnServer), the client in this suite's process. All three use the WebSocket
// protocol over one TCP connection, without compression.
//
//   one-way     the ~100-byte object, client → server, msgs/s. The server counts; at the end
//               of a round the client asks for the count (a "sync" on the same ordered
//               stream), so a round ends when all N messages have arrived.
//               raw ws: JSON.stringify + ws.send per message, waiting for a send callback
//               whenever bufferedAmount > 1 MiB; the server JSON.parses every message.
//               Socket.IO: socket.emit per message; an acked sync every 10,000 messages
//               (at most 2 outstanding) bounds what is buffered.
//               libchan: one top-level channel, `await tx.send(obj)` per message.
//               Target: libchan ≥ 0.8× raw ws.
//   request/reply  one request in flight, 5,000 per round; p50/p99 latency (µs) and round trips/s.
//               raw ws: send {i}, await the echo (bench/servers/ws-echo.mjs).
//               Socket.IO: emitWithAck('echo', {i}).
//               libchan: `const [r, ret] = pipe(); await tx.send({ i, ret }); await r.receive()`,
//               the server replies on ret and closes it. Target: libchan p50 ≤ 1.3× raw ws.
//               Like raw ws's echo server, libchan's request/reply server is a process
//               of its own (the one-way and byte-stream cases share another).
//               A second libchan row sends { echo: i } and reads the reply from one long-lived
//               reply channel (sent once as { replies }): what the Ret's own sub-stream costs.
//   byte stream 64 KiB chunks, 256 MiB per round, client → server, MiB/s; the server
//               reports the byte count at the end.
//               raw ws: one binary message per chunk, bufferedAmount > 1 MiB waits.
//               Socket.IO: emit('bytes', chunk); every 16th chunk acked, at most 2 acks
//               outstanding (Socket.IO has no backpressure of its own).
//               libchan: a ReadableStream of the chunks inside one message { body, ret };
//               the server reads it to the end and replies with the count on ret.
//               Target: libchan ≥ 0.9× raw ws. Another row repeats it with a 4 MiB stream
//               window (initialWindowBytes) from the start instead of the default 1 MiB
//               (which grows to 4 MiB while the reader keeps up).
//
// In each group raw ws runs first, then libchan, then Socket.IO: a case run right after
// Socket.IO's byte stream in the same process measured ~25% slower (Socket.IO's client
// leaves Node's shared socket and stream code tuned to other shapes), so Socket.IO goes
// last, after the two cases the targets compare. The groups themselves share the client
// process on purpose, as an application's would: the byte stream runs after libchan's and
// Socket.IO's request/reply, and that heap state once cost libchan's byte stream 10–20%
// in major GCs (docs/BENCHMARKS.md, 2026-11-26 fifth pass).
import { io } from 'socket.io-client';
import WebSocket from 'ws';
import { pipe } from '../../packages/core/dist/index.js';
import { libchanClient } from '../lib/libchan-client.mjs';
import { connectWebSocket } from '../../packages/transport-ws/dist/node.js';
import { spawnServer } from '../lib/child.mjs';
import { CHUNK, chunk, inbox, latencyCase, message, repeatedChunks, sendCounted, withTimeout as sharedWithTimeout } from '../lib/measure.mjs';

export const name = 'ws';

const HIGH_WATER = 1024 * 1024;
const SYNC_EVERY = 10_000;

const serverUrl = (file) => new URL(`../servers/${file}`, import.meta.url);

const withTimeout = (promise, what, ms) => sharedWithTimeout('ws', promise, what, ms);

// ─── raw ws client ──────────────────────────────────────────────────────────

async function rawConnect(port) {
  const ws = new WebSocket(`ws://127.0.0.1:${port}`, { perMessageDeflate: false });
  const messages = inbox();
  ws.on('message', (data) => messages.push(data));
  ws.on('close', () => messages.fail(new Error('raw ws: connection closed')));
  ws.on('error', () => {});
  await new Promise((resolve, reject) => {
    ws.once('open', resolve);
    ws.once('error', reject);
  });
  return {
    ws,
    /** The next message from the server. */
    next: messages.next,
    /** Sends, and once more than HIGH_WATER is buffered, waits until this message is flushed. */
    send(data) {
      if (ws.bufferedAmount <= HIGH_WATER) {
        ws.send(data);
        return undefined;
      }
      return new Promise((resolve, reject) => ws.send(data, (error) => (error ? reject(error) : resolve())));
    },
    async sync() {
      ws.send('{"sync":1}');
      return JSON.parse(await this.next());
    },
    close() {
      ws.close();
    },
  };
}

// ─── Socket.IO client ───────────────────────────────────────────────────────

async function sioConnect(port) {
  const socket = io(`http://127.0.0.1:${port}`, { transports: ['websocket'], forceNew: true, reconnection: false });
  await new Promise((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('connect_error', reject);
  });
  return socket;
}

// ─── libchan client ─────────────────────────────────────────────────────────

async function libchanConnect(url, options = {}) {
  // The same `ws` package as the raw baseline (Node 20 has no global WebSocket).
  return libchanClient(await connectWebSocket(url, { WebSocket, ...options }));
}

// ─── cases ──────────────────────────────────────────────────────────────────

export async function run(report) {
  // raw ws answers requests from a server process of its own (ws-echo), apart from the sink
  // of the one-way and byte-stream cases; libchan's request/reply server is likewise a
  // second process, so neither baseline nor libchan answers with a server that has just
  // taken 600,000 one-way messages (which cost libchan's ~10 µs per round trip).
  const servers = await Promise.all(
    ['ws-sink.mjs', 'ws-echo.mjs', 'socketio.mjs', 'libchan-ws.mjs', 'libchan-ws.mjs'].map((file) => spawnServer(serverUrl(file))),
  );
  const [sink, echo, sio, lc, lcRequests] = servers;
  try {
    await oneWay(report, sink.info.port, sio.info.port, lc.info.url);
    await requestReply(report, echo.info.port, sio.info.port, lcRequests.info.url);
    await byteStream(report, sink.info.port, sio.info.port, lc.info);
  } finally {
    await Promise.all(servers.map((s) => s.close()));
  }
  const json = new TextEncoder().encode(JSON.stringify(message)).byteLength;
  report.note(
    `Client in the suite process, each server in its own child process, 127.0.0.1, no compression. The ~100 B message is ${json} B of JSON ` +
      '(raw ws sends exactly that as text; Socket.IO adds its packet prefix; libchan sends its 110 B codec payload in a frame, several frames per WebSocket message). ' +
      'libchan targets are relative to the raw ws row (the baseline) of the same group and metric.',
  );
}

async function oneWay(report, sinkPort, sioPort, lcUrl) {
  const group = 'one-way, ~100 B';
  const ops = report.scale(100_000);
  const common = { group, unit: 'msgs/s', ops };

  const raw = await rawConnect(sinkPort);
  await report.measure('raw ws: ws.send(JSON) per message, bufferedAmount backpressure', {
    ...common,
    baseline: true,
    setup: () => raw.sync(),
    fn: (n, { count: before }) =>
      withTimeout(sendCounted(raw, n, before, 'raw ws'), 'raw ws one-way'),
  });
  raw.close();

  const client = await libchanConnect(lcUrl);
  await report.measure('libchan: await tx.send(obj) on one channel', {
    ...common,
    target: { minRatio: 0.8 },
    setup: () => client.request((ret) => ({ sync: true, ret })),
    fn: (n, { count: before }) =>
      withTimeout(
        (async () => {
          for (let i = 0; i < n; i++) await client.tx.send(message);
          const after = (await client.request((ret) => ({ sync: true, ret }))).count;
          if (after - before !== n) throw new Error(`libchan: server counted ${after - before} of ${n}`);
        })(),
        'libchan one-way (bench/servers/libchan-ws.mjs)',
      ),
  });
  await withTimeout(client.close(), 'libchan session close');

  const socket = await sioConnect(sioPort);
  await report.measure('Socket.IO: socket.emit per message', {
    ...common,
    setup: () => socket.emitWithAck('sync'),
    fn: (n, { count: before }) =>
      withTimeout(
        (async () => {
          let pending;
          for (let i = 0; i < n; i++) {
            socket.emit('m', message);
            if ((i + 1) % SYNC_EVERY === 0) {
              const p = socket.emitWithAck('sync');
              if (pending) await pending;
              pending = p;
            }
          }
          if (pending) await pending;
          const after = (await socket.emitWithAck('sync')).count;
          if (after - before !== n) throw new Error(`Socket.IO: server counted ${after - before} of ${n}`);
        })(),
        'Socket.IO one-way',
      ),
  });
  socket.disconnect();
}

async function requestReply(report, echoPort, sioPort, lcUrl) {
  const group = 'request/reply';

  const raw = await rawConnect(echoPort);
  await latencyCase(report, 'ws', 'raw ws: send, await the echo', { group, baseline: true }, async (i) => {
    raw.ws.send(JSON.stringify({ i }));
    const reply = JSON.parse(await raw.next());
    if (reply.i !== i) throw new Error(`raw ws: reply ${reply.i} to ${i}`);
  });
  raw.close();

  const client = await libchanConnect(lcUrl);
  await latencyCase(report, 'ws', 'libchan: request with a fresh Ret pipe', { group, p50Target: { maxRatio: 1.3 } }, async (i) => {
    const [replies, ret] = pipe();
    await client.tx.send({ i, ret });
    const reply = await replies.receive();
    if (reply !== i) throw new Error(`libchan: reply ${reply} to ${i}`);
  });
  await withTimeout(client.close(), 'libchan session close');

  const twoChannels = await libchanConnect(lcUrl);
  const [replies, repliesTx] = pipe();
  await twoChannels.tx.send({ replies: repliesTx });
  await latencyCase(report, 'ws', 'libchan: no Ret, replies on one long-lived channel', { group }, async (i) => {
    await twoChannels.tx.send({ echo: i });
    const reply = await replies.receive();
    if (reply !== i) throw new Error(`libchan: reply ${reply} to ${i}`);
  });
  // The server holds the reply channel's sender open; a graceful close waits for every channel.
  replies.close();
  await withTimeout(twoChannels.close(), 'libchan session close');

  const socket = await sioConnect(sioPort);
  await latencyCase(report, 'ws', 'Socket.IO: emitWithAck', { group }, async (i) => {
    const reply = await socket.emitWithAck('echo', { i });
    if (reply.i !== i) throw new Error(`Socket.IO: reply ${reply.i} to ${i}`);
  });
  socket.disconnect();
}

async function byteStream(report, sinkPort, sioPort, lc) {
  const group = 'byte stream, 64 KiB chunks';
  const total = Math.ceil(report.scale(256 * 1024 * 1024) / CHUNK) * CHUNK;
  const common = { group, unit: 'MiB/s', ops: total / (1024 * 1024) };

  const raw = await rawConnect(sinkPort);
  await report.measure('raw ws: a binary message per chunk, bufferedAmount backpressure', {
    ...common,
    baseline: true,
    setup: () => raw.sync(),
    fn: (n, { bytes: before }) =>
      withTimeout(
        (async () => {
          for (let sent = 0; sent < total; sent += CHUNK) {
            const wait = raw.send(chunk);
            if (wait) await wait;
          }
          const after = (await raw.sync()).bytes;
          if (after - before !== total) throw new Error(`raw ws: server got ${after - before} of ${total} bytes`);
        })(),
        'raw ws byte stream',
      ),
  });
  raw.close();

  const sendBody = (client, what) => () =>
    withTimeout(
      (async () => {
        const got = await client.request((ret) => ({ body: repeatedChunks(total), ret }));
        if (got !== total) throw new Error(`libchan: server read ${got} of ${total} bytes`);
      })(),
      `${what} (bench/servers/libchan-ws.mjs)`,
    );

  let client = await libchanConnect(lc.url);
  await report.measure('libchan: a ReadableStream inside one message', {
    ...common,
    target: { minRatio: 0.9 },
    fn: sendBody(client, 'libchan byte stream'),
  });
  await withTimeout(client.close(), 'libchan session close');

  const windowMiB = lc.bigWindowBytes / (1024 * 1024);
  client = await libchanConnect(lc.bigWindowUrl, { initialWindowBytes: lc.bigWindowBytes });
  await report.measure(`libchan, same, with initialWindowBytes ${windowMiB} MiB from the start`, {
    ...common,
    fn: sendBody(client, 'libchan byte stream, big window'),
  });
  await withTimeout(client.close(), 'libchan session close');

  const socket = await sioConnect(sioPort);
  await report.measure('Socket.IO: emit per chunk, every 16th acked', {
    ...common,
    setup: () => socket.emitWithAck('sync'),
    fn: (n, { bytes: before }) =>
      withTimeout(
        (async () => {
          let pending;
          for (let k = 0, sent = 0; sent < total; k++, sent += CHUNK) {
            if (k % 16 === 15) {
              const p = socket.emitWithAck('bytes', chunk);
              if (pending) await pending;
              pending = p;
            } else socket.emit('bytes', chunk);
          }
          if (pending) await pending;
          const after = (await socket.emitWithAck('sync')).bytes;
          if (after - before !== total) throw new Error(`Socket.IO: server got ${after - before} of ${total} bytes`);
        })(),
        'Socket.IO byte stream',
      ),
  });
  socket.disconnect();
}
