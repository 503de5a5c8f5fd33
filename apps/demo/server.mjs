#!/usr/bin/env node
// The libchan demo server: one Node http server (no framework) that
//   - serves the vite-built page from apps/demo/dist,
//   - answers GET /config.json with the endpoints the page may use,
//   - runs libchan sessions over WebSocket at /chan (same origin),
//   - starts the WebTransport sidecar (webtransport-sidecar.ts on Deno: native
//     HTTP/3, which Node cannot serve) and offers it in /config.json.
//
//   PORT (default 5173; 0 picks a free port)   HOST (default 127.0.0.1)
//   DEMO_QUIET=1 silences the one-line event log (sessions, feeds, uploads).
//
// Once listening it prints exactly one line starting with
// `libchan demo: http://HOST:PORT/` (the real port when PORT=0).
//
// Every top-level channel a page opens carries requests; each request carries
// its own reply channel (`ret`, libchan's Ret):
//   { op: 'ask', question, ret }            → { question, answer, at, served }
//   { op: 'feed', ret }                     → { feed: Receiver<Tick> }, then a tick every 200 ms
//   { op: 'upload', name, size, bytes, ret } → { name, size, sha256, ms }
// A malformed request resets its channel (and every channel inside it); a bad
// client never takes the server down.
import { spawn } from 'node:child_process';
import { createServer } from 'node:http';
import { createInterface } from 'node:readline';
import { readFile, stat } from 'node:fs/promises';
import { extname, join, normalize, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { isReceiver, isSender, pipe, ProtocolError } from '@libchan/core';
import { listenWebSocket } from '@libchan/transport-ws';
import { acceptableHello, createDemoService } from './requests.mjs';
import { findDeno } from '../../scripts/deno-binary.mjs';

const host = process.env.HOST || '127.0.0.1';
const port = process.env.PORT === undefined || process.env.PORT === '' ? 5173 : Number(process.env.PORT);
if (!Number.isInteger(port) || port < 0 || port > 65535) {
  console.error(`libchan demo: invalid PORT ${JSON.stringify(process.env.PORT)}`);
  process.exit(2);
}
const quiet = process.env.DEMO_QUIET === '1';
const log = (line) => {
  if (!quiet) console.log(`[demo] ${line}`);
};

const distDir = fileURLToPath(new URL('./dist/', import.meta.url));
const rootDir = fileURLToPath(new URL('../../', import.meta.url));
/** `webtransport` is `{ url, certificateHash }` (hex SHA-256) while the sidecar runs, else null. */
const CONFIG = { ws: '/chan', webtransport: null };

// ---------------------------------------------------------------- static files

const TYPES = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.ico': 'image/x-icon',
  '.webp': 'image/webp',
  '.woff2': 'font/woff2',
  '.txt': 'text/plain; charset=utf-8',
  '.webmanifest': 'application/manifest+json',
};

const SECURITY_HEADERS = {
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'x-frame-options': 'DENY',
};

/** Resolves a URL path to a file inside dist/, or undefined (never escapes dist/). */
function fileFor(pathname) {
  let decoded;
  try {
    decoded = decodeURIComponent(pathname);
  } catch {
    return undefined;
  }
  if (decoded.includes('\0')) return undefined;
  if (decoded === '/' || decoded === '') decoded = '/index.html';
  const full = normalize(join(distDir, decoded));
  if (!full.startsWith(distDir) || full.endsWith(sep)) return undefined;
  return full;
}

function send(res, method, status, headers, body) {
  res.writeHead(status, { ...SECURITY_HEADERS, ...headers, 'content-length': body ? Buffer.byteLength(body) : 0 });
  res.end(method === 'HEAD' ? undefined : body);
}

const server = createServer(async (req, res) => {
  const method = req.method ?? 'GET';
  let pathname;
  try {
    pathname = new URL(req.url ?? '/', 'http://localhost').pathname;
  } catch {
    send(res, method, 400, { 'content-type': 'text/plain; charset=utf-8' }, 'bad request\n');
    return;
  }
  if (method !== 'GET' && method !== 'HEAD') {
    send(res, method, 405, { 'content-type': 'text/plain; charset=utf-8', allow: 'GET, HEAD' }, 'method not allowed\n');
    return;
  }
  if (pathname === '/config.json') {
    send(res, method, 200, { 'content-type': TYPES['.json'], 'cache-control': 'no-store' }, JSON.stringify(CONFIG));
    return;
  }
  if (pathname === '/healthz') {
    send(res, method, 200, { 'content-type': 'text/plain; charset=utf-8', 'cache-control': 'no-store' }, 'ok\n');
    return;
  }
  const file = fileFor(pathname);
  try {
    if (file === undefined) throw Object.assign(new Error('not found'), { code: 'ENOENT' });
    const info = await stat(file);
    if (!info.isFile()) throw Object.assign(new Error('not found'), { code: 'ENOENT' });
    const body = await readFile(file);
    const hashed = pathname.startsWith('/assets/');
    res.writeHead(200, {
      ...SECURITY_HEADERS,
      'content-type': TYPES[extname(file).toLowerCase()] ?? 'application/octet-stream',
      'content-length': body.byteLength,
      'cache-control': hashed ? 'public, max-age=31536000, immutable' : 'no-cache',
    });
    res.end(method === 'HEAD' ? undefined : body);
  } catch (err) {
    if (err?.code === 'ENOENT' || err?.code === 'ENOTDIR' || err?.code === 'EISDIR') {
      if (pathname === '/' || pathname === '/index.html') {
        send(
          res,
          method,
          503,
          { 'content-type': 'text/plain; charset=utf-8' },
          'The demo page is not built yet: run `npx -y pnpm@12.4.2 start` (or `npx vite build apps/demo`) from the repository root.\n',
        );
      } else {
        send(res, method, 404, { 'content-type': 'text/plain; charset=utf-8' }, 'not found\n');
      }
      return;
    }
    send(res, method, 500, { 'content-type': 'text/plain; charset=utf-8' }, 'internal error\n');
    console.error('libchan demo: static file error:', err);
  }
});

// ---------------------------------------------------------------- requests

const { serveSession, feeds } = createDemoService({
  lib: { pipe, isSender, isReceiver, ProtocolError },
  log,
  heapMB: () => Math.round((process.memoryUsage().heapUsed / 1048576) * 10) / 10,
});

// ---------------------------------------------------------------- WebTransport sidecar

const SIDECAR_TIMEOUT_MS = 8000;
let sidecar;
/** When shutdown began (0: running). */
let stopping = 0;

/**
 * Starts webtransport-sidecar.ts and resolves with its { port, certificateHash },
 * or with undefined (one line logged) when deno is missing or it does not start in time.
 */
async function startSidecar() {
  if (process.env.DEMO_WEBTRANSPORT === '0') return undefined;
  const warn = (why) => console.warn(`libchan demo: WebTransport off (${why}); WebSocket only`);
  const deno = findDeno();
  if (!deno) {
    warn('no deno binary: set DENO_BIN or run `npx -y pnpm@12.4.2 install`');
    return undefined;
  }
  const script = fileURLToPath(new URL('./webtransport-sidecar.ts', import.meta.url));
  let child;
  try {
    child = spawn(deno, ['run', '--unstable-net', '-A', script], {
      cwd: rootDir,
      stdio: ['pipe', 'pipe', 'pipe'],
      env: { ...process.env, NO_COLOR: '1', DENO_NO_UPDATE_CHECK: '1' },
    });
  } catch (err) {
    warn(`cannot start deno: ${err.message}`);
    return undefined;
  }
  sidecar = child;
  child.stdin.on('error', () => {});
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (chunk) => {
    stderr = (stderr + chunk).slice(-4000);
  });
  let info;
  const exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve(code ?? signal)));
  exited.then((how) => {
    if (sidecar === child) sidecar = undefined;
    if (info && !stopping) {
      CONFIG.webtransport = null;
      console.warn(`libchan demo: the WebTransport sidecar exited (${how}); WebSocket only now`);
    }
  });
  const lastLine = () => stderr.trim().split('\n').at(-1)?.slice(0, 200) ?? '';
  return new Promise((resolve) => {
    const fail = (why) => {
      clearTimeout(timer);
      if (info) return;
      info = null;
      child.kill('SIGKILL');
      warn(why);
      resolve(undefined);
    };
    const timer = setTimeout(() => fail(`the sidecar printed no port within ${SIDECAR_TIMEOUT_MS} ms`), SIDECAR_TIMEOUT_MS);
    child.once('error', (err) => fail(`cannot start deno: ${err.message}`));
    exited.then((how) => fail(`the sidecar exited (${how}) before listening${lastLine() ? `: ${lastLine()}` : ''}`));
    createInterface({ input: child.stdout }).on('line', (line) => {
      let data;
      try {
        data = JSON.parse(line);
      } catch {
        return;
      }
      if (info === undefined && Number.isInteger(data?.port) && typeof data.certificateHash === 'string') {
        clearTimeout(timer);
        info = { port: data.port, certificateHash: data.certificateHash };
        resolve(info);
      } else if (typeof data?.log === 'string') log(`wt ${data.log}`);
      else if (data?.error) console.error(`libchan demo: WebTransport sidecar: ${String(data.error).slice(0, 2000)}`);
    });
  });
}

/** Ends the sidecar (stdin EOF asks it to stop; SIGTERM too; SIGKILL if it lingers). */
function stopSidecar(force = false) {
  const child = sidecar;
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  try {
    child.stdin.end();
    child.kill(force ? 'SIGKILL' : 'SIGTERM');
  } catch {
    // already gone
  }
}
process.on('exit', () => stopSidecar(true));

const wt = await startSidecar();
if (wt) {
  CONFIG.webtransport = { url: `https://127.0.0.1:${wt.port}/chan`, certificateHash: wt.certificateHash };
  log(`WebTransport (HTTP/3, Deno sidecar) at ${CONFIG.webtransport.url}`);
}

// ---------------------------------------------------------------- start / stop

const listener = await listenWebSocket(
  {
    server,
    path: CONFIG.ws,
    closeTimeoutMs: 1500,
    // The page says who it is; anything that is not a small plain object is refused.
    onHello: acceptableHello,
  },
  (session, request) => serveSession(session, request.socket.remoteAddress ?? '?'),
);

server.on('error', (err) => {
  stopSidecar(true);
  console.error(`libchan demo: cannot listen on ${host}:${port}: ${err.message}`);
  process.exit(1);
});

server.listen(port, host, () => {
  const addr = server.address();
  const shown = addr.family === 'IPv6' || addr.address.includes(':') ? `[${addr.address}]` : addr.address;
  console.log(`libchan demo: http://${shown}:${addr.port}/`);
  stat(join(distDir, 'index.html')).catch(() =>
    console.warn('libchan demo: apps/demo/dist is missing — build the page with `npx vite build apps/demo` (the `demo` script does it).'),
  );
});

async function shutdown(signal) {
  if (stopping) {
    // A second Ctrl-C forces the exit (duplicates within a second — a terminal's
    // process-group signal plus a package manager forwarding it — are ignored).
    if (Date.now() - stopping > 1000) process.exit(130);
    return;
  }
  stopping = Date.now();
  log(`${signal}: shutting down`);
  const hard = setTimeout(() => process.exit(1), 4000);
  hard.unref();
  // End the feeds first (a clean end the pages see), then close sessions gracefully.
  await Promise.allSettled([...feeds].map((tx) => tx.close()));
  const sidecarExited = sidecar ? new Promise((resolve) => sidecar.once('exit', resolve)) : undefined;
  stopSidecar();
  await listener.close().catch(() => {});
  if (sidecarExited) await Promise.race([sidecarExited, new Promise((resolve) => setTimeout(resolve, 2500))]);
  await new Promise((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections?.();
  });
  process.exit(0);
}
process.on('SIGINT', () => void shutdown('SIGINT'));
process.on('SIGTERM', () => void shutdown('SIGTERM'));
