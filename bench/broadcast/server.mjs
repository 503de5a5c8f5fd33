// A tiny static server for bench/suites/broadcast.mjs on 127.0.0.1, port 0: `/` is an empty
// page that loads the bundle (`/page.js`, built by ./build.mjs). Both pages load it from this
// one origin, so they share BroadcastChannel names.
import { readFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import { join, normalize } from 'node:path';

const PAGE = `<!doctype html>
<html><head><meta charset="utf-8"><title>libchan broadcast bench</title>
<script type="module" src="/page.js"></script></head><body></body></html>`;

/** Starts the server; resolves with its origin and a close(). */
export async function startPageServer(bundleDir) {
  const server = createServer(async (req, res) => {
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    if (path === '/' || path === '/index.html') {
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' });
      res.end(PAGE);
      return;
    }
    if (path === '/favicon.ico') {
      res.writeHead(204).end();
      return;
    }
    const file = normalize(join(bundleDir, path));
    if (!file.startsWith(bundleDir) || !/\.(js|map)$/.test(file)) {
      res.writeHead(404).end();
      return;
    }
    try {
      const body = await readFile(file);
      res.writeHead(200, { 'content-type': file.endsWith('.js') ? 'text/javascript; charset=utf-8' : 'application/json', 'cache-control': 'no-store' });
      res.end(body);
    } catch {
      res.writeHead(404).end();
    }
  });
  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const { port } = server.address();
  return {
    origin: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections?.();
        server.close(() => resolve());
      }),
  };
}
