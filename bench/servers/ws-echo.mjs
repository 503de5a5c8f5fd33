// A raw `ws` echo server for network suites (the "raw ws" baseline): every message
// comes straight back, binary stays binary. Start it with spawnServer():
//
//   const server = await spawnServer(new URL('../servers/ws-echo.mjs', import.meta.url));
//   const ws = new WebSocket(`ws://127.0.0.1:${server.info.port}`);
import { WebSocketServer } from 'ws';
import { serveWebSocketServer } from '../lib/server.mjs';

const wss = new WebSocketServer({ host: '127.0.0.1', port: 0, perMessageDeflate: false });
wss.on('connection', (ws) => {
  ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary }));
});
serveWebSocketServer(wss);
