// A raw `ws` sink for the one-way and byte-stream cases of the ws suite (the "raw ws"
// baseline). Per connection it counts what arrives and reports on request:
//
//   text message       JSON; parsed and counted (the app's own decode, as libchan's codec does)
//   text {"sync":1}    answered with the connection's totals so far: {"count":N,"bytes":B}
//   binary message     its length is added to `bytes`
//
// Messages on one WebSocket arrive in order, so the answer to a sync sent after N
// messages shows whether all N arrived. Start it with spawnServer():
//
//   const server = await spawnServer(new URL('../servers/ws-sink.mjs', import.meta.url));
//   const ws = new WebSocket(`ws://127.0.0.1:${server.info.port}`);
import { WebSocketServer } from 'ws';
import { serveWebSocketServer } from '../lib/server.mjs';

const wss = new WebSocketServer({ host: '127.0.0.1', port: 0, perMessageDeflate: false });
wss.on('connection', (ws) => {
  let count = 0;
  let bytes = 0;
  ws.on('message', (data, isBinary) => {
    if (isBinary) {
      bytes += data.byteLength;
      return;
    }
    const msg = JSON.parse(data);
    if (msg.sync !== undefined) ws.send(JSON.stringify({ count, bytes }));
    else count++;
  });
});
serveWebSocketServer(wss);
