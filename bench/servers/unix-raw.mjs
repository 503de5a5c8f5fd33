// A raw Unix-socket server (plain `net`, no library) for the unix suite's baseline rows.
// The first byte a client writes picks the connection's mode:
//
//   'M'  messages: frames of [u32 big-endian length][payload]. The payload is JSON and is
//        parsed (the application's own decode, as libchan's codec decodes):
//          {"sync":1}   answered with one frame {"count":N,"bytes":0} (totals so far)
//          {"i":…}      echoed back unchanged, as one frame (request/reply)
//          anything else counted
//   'B'  bytes: everything after the mode byte is counted. A client that wants the total
//        half-closes (end()); the server answers with the byte count as 8 bytes (u64 BE)
//        and closes.
//
// Frames on one connection arrive in order, so the answer to a sync sent after N
// messages shows whether all N arrived. Start it with spawnServer(); `info` is { path }.
import { randomBytes } from 'node:crypto';
import { existsSync, unlinkSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { onClose, ready } from '../lib/server.mjs';

function messages(socket, first) {
  let count = 0;
  let pending = first; // bytes not yet parsed (a Buffer)
  const frame = (payload) => {
    const out = Buffer.allocUnsafe(4 + payload.length);
    out.writeUInt32BE(payload.length, 0);
    payload.copy(out, 4);
    return out;
  };
  const onData = (chunk) => {
    const buf = pending.length === 0 ? chunk : Buffer.concat([pending, chunk]);
    let o = 0;
    while (buf.length - o >= 4) {
      const len = buf.readUInt32BE(o);
      if (buf.length - o - 4 < len) break;
      const payload = buf.subarray(o + 4, o + 4 + len);
      o += 4 + len;
      const msg = JSON.parse(payload.toString('utf8'));
      if (msg.sync !== undefined) socket.write(frame(Buffer.from(JSON.stringify({ count, bytes: 0 }))));
      else if (msg.i !== undefined) socket.write(frame(payload));
      else count++;
    }
    pending = o === buf.length ? Buffer.alloc(0) : buf.subarray(o);
  };
  if (first.length > 0) {
    pending = Buffer.alloc(0);
    onData(first);
  }
  socket.on('data', onData);
}

function bytes(socket, first) {
  let total = first.length;
  socket.on('data', (chunk) => {
    total += chunk.length;
  });
  socket.on('end', () => {
    const out = Buffer.allocUnsafe(8);
    out.writeBigUInt64BE(BigInt(total), 0);
    socket.end(out);
  });
}

const server = createServer((socket) => {
  socket.on('error', () => {});
  socket.once('data', (chunk) => {
    const mode = String.fromCharCode(chunk[0]);
    const rest = chunk.subarray(1);
    if (mode === 'M') messages(socket, rest);
    else if (mode === 'B') bytes(socket, rest);
    else socket.destroy(new Error(`unix-raw: unknown mode ${JSON.stringify(mode)}`));
  });
});

const path = join(tmpdir(), `libchan-bench-raw-${process.pid}-${randomBytes(4).toString('hex')}.sock`);
server.listen(path, () => ready({ path }));
onClose(
  () =>
    new Promise((resolve) => {
      server.close(() => resolve());
      server.unref();
      if (existsSync(path)) unlinkSync(path);
    }),
);
