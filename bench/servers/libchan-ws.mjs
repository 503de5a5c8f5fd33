// A libchan server over WebSocket for the ws suite (`listenWebSocket` from
// @libchan/transport-ws). Every top-level channel a client opens is read with
// `for await`; what each message is decides what happens:
//
//   { sync: true, ret }    ret.send({ count, bytes }) (the session's totals so far), then close
//   { body, ret }          body (a ReadableStream) is read to the end; ret.send(byteCount), close
//   { i, ret }             ret.send(i), close: request/reply with a fresh `Ret` channel
//   anything else          counted (one-way messages)
//
// Messages on one channel arrive in order, so a sync sent after N messages on that
// channel is answered after all N were received. `info.url` has the default session
// options; `info.bigWindowUrl` grants every stream 4 MiB of credit (initialWindowBytes).
//
//   const server = await spawnServer(new URL('../servers/libchan-ws.mjs', import.meta.url));
//   const session = await connectWebSocket(server.info.url);
import { listenWebSocket } from '../../packages/transport-ws/dist/node.js';
import { serve } from '../lib/libchan-serve.mjs';
import { onClose, ready } from '../lib/server.mjs';

const BIG_WINDOW = 4 * 1024 * 1024;

// The default options, and a second listener whose sessions grant each stream 4 MiB of
// credit instead of the default 1 MiB (for a byte-stream row that shows the window's effect).
const listener = await listenWebSocket({ port: 0, host: '127.0.0.1', closeTimeoutMs: 1000 }, (session) => serve(session));
const bigWindow = await listenWebSocket(
  { port: 0, host: '127.0.0.1', closeTimeoutMs: 1000, initialWindowBytes: BIG_WINDOW },
  (session) => serve(session),
);
ready({ port: listener.port, url: listener.url, bigWindowUrl: bigWindow.url, bigWindowBytes: BIG_WINDOW });
onClose(() => Promise.all([listener.close(), bigWindow.close()]));
