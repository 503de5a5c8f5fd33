// A Socket.IO server for the ws suite (the Socket.IO peer rows). WebSocket transport only
// (the client is told to skip HTTP long-polling), no compression. Per socket:
//
//   'm'      (value)            counted (one-way messages)
//   'bytes'  (chunk, ack?)      chunk.byteLength added to `bytes`; acked if the client asks
//   'echo'   (value, ack)       ack(value) (request/reply)
//   'sync'   (ack)              ack({ count, bytes }): the socket's totals so far
//
//   const server = await spawnServer(new URL('../servers/socketio.mjs', import.meta.url));
//   const socket = io(`http://127.0.0.1:${server.info.port}`, { transports: ['websocket'] });
import { createServer } from 'node:http';
import { Server } from 'socket.io';
import { onClose, ready } from '../lib/server.mjs';

const http = createServer();
const io = new Server(http, { transports: ['websocket'], perMessageDeflate: false, maxHttpBufferSize: 4 * 1024 * 1024, serveClient: false });
io.on('connection', (socket) => {
  let count = 0;
  let bytes = 0;
  socket.on('m', () => {
    count++;
  });
  socket.on('bytes', (chunk, ack) => {
    bytes += chunk.byteLength;
    if (typeof ack === 'function') ack(bytes);
  });
  socket.on('echo', (value, ack) => ack(value));
  socket.on('sync', (ack) => ack({ count, bytes }));
});
http.listen(0, '127.0.0.1', () => ready({ port: http.address().port }));
onClose(
  () =>
    new Promise((resolve) => {
      io.disconnectSockets(true);
      io.close(() => resolve());
    }),
);
