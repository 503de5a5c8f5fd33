#!/usr/bin/env node
// Placeholder demo server: a tiny Node http server (no framework) that serves
// apps/demo/index.html. The demo issue replaces it with the vite-built live page.
//
//   PORT (default 5173; 0 picks a free port)   HOST (default 127.0.0.1)
//
// On start it prints exactly one line: `libchan demo: http://HOST:PORT/`
// (with the real port when PORT=0), which the e2e spec waits for.
import { createServer } from 'node:http';
import { readFile } from 'node:fs/promises';

const host = process.env.HOST || '127.0.0.1';
const port = process.env.PORT === undefined || process.env.PORT === '' ? 5173 : Number(process.env.PORT);
if (!Number.isInteger(port) || port < 0 || port > 65535) {
  console.error(`libchan demo: invalid PORT ${JSON.stringify(process.env.PORT)}`);
  process.exit(2);
}

const pages = new Map([
  ['/', 'index.html'],
  ['/index.html', 'index.html'],
]);

const server = createServer(async (req, res) => {
  const path = new URL(req.url ?? '/', 'http://localhost').pathname;
  const file = pages.get(path);
  if ((req.method !== 'GET' && req.method !== 'HEAD') || file === undefined) {
    res.writeHead(req.method === 'GET' || req.method === 'HEAD' ? 404 : 405, { 'content-type': 'text/plain; charset=utf-8' });
    res.end(req.method === 'HEAD' ? undefined : 'not found\n');
    return;
  }
  try {
    const body = await readFile(new URL(file, import.meta.url));
    res.writeHead(200, {
      'content-type': 'text/html; charset=utf-8',
      'content-length': body.byteLength,
      'cache-control': 'no-cache',
    });
    res.end(req.method === 'HEAD' ? undefined : body);
  } catch (err) {
    res.writeHead(500, { 'content-type': 'text/plain; charset=utf-8' });
    res.end(`internal error: ${err instanceof Error ? err.message : String(err)}\n`);
  }
});

server.on('error', (err) => {
  console.error(`libchan demo: cannot listen on ${host}:${port}: ${err.message}`);
  process.exit(1);
});

server.listen(port, host, () => {
  const addr = server.address();
  const shown = addr.family === 'IPv6' || addr.address.includes(':') ? `[${addr.address}]` : addr.address;
  console.log(`libchan demo: http://${shown}:${addr.port}/`);
});

for (const signal of ['SIGINT', 'SIGTERM']) {
  process.on(signal, () => {
    server.close(() => process.exit(0));
    server.closeAllConnections?.();
    setTimeout(() => process.exit(0), 1000).unref();
  });
}
