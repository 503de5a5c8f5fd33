// A tiny static server on 127.0.0.1, port 0, for browser scenarios built with
// ./browser-bundle.mjs (the broadcast bench and e2e specs): `/` is an empty page that
// loads `/page.js` from `bundleDir`. Every tab loads it from this one origin, so they
// share BroadcastChannel names.
import { readFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import { join, normalize, sep } from 'node:path';

/**
 * Starts the server; resolves with its origin and a close().
 * @param {string} bundleDir  the folder holding page.js (and its source map)
 * @param {string} title      the page's title
 */
export async function startPageServer(bundleDir, title) {
  const page = `<!doctype html>
<html><head><meta charset="utf-8"><title>${title}</title>
<script type="module" src="/page.js"></script></head><body></body></html>`;
  const root = normalize(bundleDir + sep);
  const server = createServer(async (req, res) => {
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    if (path === '/' || path === '/index.html') {
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' });
      res.end(page);
      return;
    }
    if (path === '/favicon.ico') {
      res.writeHead(204).end();
      return;
    }
    const file = normalize(join(root, path));
    if (!file.startsWith(root) || !/\.(js|map)$/.test(file)) {
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
