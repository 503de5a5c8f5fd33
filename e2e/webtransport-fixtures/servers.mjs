// The Node side of the WebTransport browser tests:
//
//   startPageServer()            http://127.0.0.1:<port>/ (native page) and /?ponyfill (no native
//                                WebTransport), serving the vite bundles
//                                (127.0.0.1 is a secure context, as WebTransport requires)
//   startDenoServer()            spawns deno-server.ts (native HTTP/3); resolves { port, hash,
//                                url, errors, close() } once it printed its port and hash
//   startNodeServer()            listenWebTransport (@fails-components: HTTP/2 + WebSocket
//                                mapping, what the ponyfill speaks) on 127.0.0.1 with the
//                                serve.mjs handlers
import { spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import { extname, join, normalize, sep } from 'node:path';
import { createInterface } from 'node:readline';
import * as core from '../../packages/core/dist/index.js';
import { listenWebTransport } from '../../packages/transport-webtransport/dist/node.js';
import { bundleDir, root } from './build.mjs';
import { serveSession } from './serve.mjs';
import { denoBinary } from '../../scripts/deno-binary.mjs';

/** `/` loads the native bundle; `/?ponyfill` first removes the native WebTransport, then loads the ponyfill bundle. */
const page = (ponyfill) => `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>libchan WebTransport e2e</title>
<link rel="icon" href="data:,">
${ponyfill ? '<script>delete window.WebTransport;</script>\n' : ''}<script type="module" src="/${ponyfill ? 'ponyfill' : 'native'}.js"></script>
</head>
<body><h1>libchan WebTransport e2e (${ponyfill ? 'ponyfill' : 'native'})</h1></body>
</html>
`;

const TYPES = new Map([
  ['.js', 'text/javascript; charset=utf-8'],
  ['.map', 'application/json; charset=utf-8'],
]);

export async function startPageServer() {
  const server = createServer(async (req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    const path = url.pathname;
    if (path === '/' || path === '/index.html') {
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' }).end(page(url.searchParams.has('ponyfill')));
      return;
    }
    const file = normalize(join(bundleDir, path));
    const type = TYPES.get(extname(file));
    if (!file.startsWith(bundleDir + sep) || type === undefined) {
      res.writeHead(404).end('not found\n');
      return;
    }
    try {
      const body = await readFile(file);
      res.writeHead(200, { 'content-type': type, 'cache-control': 'no-store' }).end(body);
    } catch {
      res.writeHead(404).end('not found\n');
    }
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address();
  return {
    url: `http://127.0.0.1:${port}/`,
    close: () =>
      new Promise((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

export async function startDenoServer({ timeoutMs = 30_000 } = {}) {
  const child = spawn(denoBinary(), ['run', '--unstable-net', '-A', join(root, 'e2e', 'webtransport-fixtures', 'deno-server.ts')], {
    cwd: root,
    stdio: ['pipe', 'pipe', 'pipe'],
    env: { ...process.env, NO_COLOR: '1', DENO_NO_UPDATE_CHECK: '1' },
  });
  const errors = [];
  let stderr = '';
  child.stderr.on('data', (chunk) => {
    stderr += chunk;
    if (stderr.length > 20_000) stderr = stderr.slice(-20_000);
  });
  const lines = createInterface({ input: child.stdout });
  const exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  const info = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`deno-server.ts printed no port within ${timeoutMs} ms\n${stderr}`)), timeoutMs);
    exited.then(({ code, signal }) => {
      clearTimeout(timer);
      reject(new Error(`deno-server.ts exited (${code ?? signal}) before listening\n${stderr}`));
    });
    lines.on('line', (line) => {
      let data;
      try {
        data = JSON.parse(line);
      } catch {
        return;
      }
      if (typeof data.port === 'number') {
        clearTimeout(timer);
        resolve(data);
      } else if (data.error) errors.push(data.error);
    });
  });
  return {
    port: info.port,
    hash: info.hash,
    url: `https://127.0.0.1:${info.port}/chan`,
    errors,
    stderr: () => stderr,
    async close() {
      child.stdin.end(); // the server exits on stdin EOF
      const timer = setTimeout(() => child.kill('SIGKILL'), 3000);
      await exited;
      clearTimeout(timer);
    },
  };
}

export async function startNodeServer(options = {}) {
  const errors = [];
  const stalled = [];
  const listener = await listenWebTransport({ port: 0, path: '/chan', ...options }, (session) => {
    serveSession(core, session, errors, stalled);
  });
  return {
    url: listener.url,
    port: listener.port,
    hash: Array.from(listener.certificateHash.value),
    http3: listener.http3,
    errors,
    listener,
    close: () => listener.close(),
  };
}
