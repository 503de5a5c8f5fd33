// A libchan server for the unix suite: ONE `serve` function (bench/lib/libchan-serve.mjs) behind two listeners, a Unix
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
import { serve } from '../lib/libchan-serve.mjs';
import { onClose, ready } from '../lib/server.mjs';

const path = join(tmpdir(), `libchan-bench-${process.pid}-${randomBytes(4).toString('hex')}.sock`);
const unix = await listenSocket({ path }, serve, { closeTimeoutMs: 1000 });
const ws = await listenWebSocket({ port: 0, host: '127.0.0.1', closeTimeoutMs: 1000 }, serve);
ready({ path, wsUrl: ws.url });
onClose(() => Promise.all([unix.close(), ws.close()]));
