// A libchan server for the unix suite: ONE `serve` function behind two listeners, a Unix
// socket (`listenSocket({ path })` from @libchan/core/node) and a WebSocket on loopback
// (`listenWebSocket` from @libchan/transport-ws), so the suite compares the two transports
// with the same server code. Every top-level channel a client opens is read with
// `for await`; what each message is decides what happens:
//
//   { sync: true, ret }    ret.send({ count, bytes }) (the session's totals so far), then close
//   { body, ret }          body (a ReadableStream) is read to the end; ret.send(byteCount), close
//   { i, ret }             ret.send(i), close: request/reply with a fresh `Ret` channel
//   anything else          counted (one-way messages)
//
// Messages on one channel arrive in order, so a sync sent after N messages on that channel is
// answered after all N were received. Start it with spawnServer(); `info` is
// { path, wsUrl }. The socket file lives in os.tmpdir() and is removed on close.
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { listenSocket } from '../../packages/core/dist/node/index.js';
import { listenWebSocket } from '../../packages/transport-ws/dist/node.js';
import { onClose, ready } from '../lib/server.mjs';

function fail(where, error) {
  // The client ending its session (or going away) ends its channels: not worth a line.
  if (error?.name === 'SessionClosedError') return;
  // Anything else is a library bug the suite must see: print it (the client then times out or errors).
  process.stderr.write(`unix-libchan server: ${where}: ${error?.stack ?? error}\n`);
}

async function reply(ret, value) {
  try {
    await ret.send(value);
    await ret.close();
  } catch (error) {
    fail('reply', error);
  }
}

async function readBody(body, ret) {
  try {
    let bytes = 0;
    for await (const chunk of body) bytes += chunk.byteLength;
    await reply(ret, bytes);
    return bytes;
  } catch (error) {
    fail('byte stream', error);
    return 0;
  }
}

function serve(session) {
  const totals = { count: 0, bytes: 0 };
  const channel = async (rx) => {
    try {
      for await (const m of rx) {
        if (m !== null && typeof m === 'object' && m.ret !== undefined) {
          if (m.sync === true) void reply(m.ret, { ...totals });
          else if (m.body !== undefined) totals.bytes += await readBody(m.body, m.ret);
          else void reply(m.ret, m.i);
        } else totals.count++;
      }
    } catch (error) {
      fail('channel', error);
    }
  };
  (async () => {
    try {
      for await (const rx of session.incoming()) void channel(rx);
    } catch (error) {
      fail('incoming', error);
    }
  })();
  session.closed.catch(() => {});
}

const path = join(tmpdir(), `libchan-bench-${process.pid}-${randomBytes(4).toString('hex')}.sock`);
const unix = await listenSocket({ path }, serve, { closeTimeoutMs: 1000 });
const ws = await listenWebSocket({ port: 0, host: '127.0.0.1', closeTimeoutMs: 1000 }, serve);
ready({ path, wsUrl: ws.url });
onClose(() => Promise.all([unix.close(), ws.close()]));
