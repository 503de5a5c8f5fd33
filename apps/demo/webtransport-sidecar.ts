// The demo's WebTransport endpoint: libchan over Deno's native HTTP/3 WebTransport,
// started by apps/demo/server.mjs (Node cannot serve HTTP/3 here, Deno can):
//
//   deno run --unstable-net -A apps/demo/webtransport-sidecar.ts
//
// Listens on 127.0.0.1 (UDP, a free port unless WT_PORT is set) with a fresh
// self-signed ECDSA P-256 certificate (valid 10 days — browsers accept a
// certificate by its hash only when it is valid for less than 14), and prints
// one JSON line on stdout first:
//   { "port": n, "certificateHash": "<hex SHA-256 of the DER certificate>" }
// then one JSON line per event: { "log": "…" } (the Node server forwards them
// to its own log) or { "error": "…" }.
//
// Sessions at /chan serve the SAME requests as the WebSocket server
// (server.mjs): ask, feed and upload, each with its own reply channel `ret`.
// Exits when stdin closes (the Node server went away) or on SIGTERM/SIGINT,
// ending feeds and sessions first.
//
// It imports the *built* packages by relative path (`tsc -b packages/core
// packages/transport-webtransport`); Deno resolves the package's
// '@libchan/core' import through its node_modules symlink, so both share one
// module instance (isSender/isReceiver/pipe work on what the session makes).
import { acceptableHello, createDemoService } from './requests.mjs';
import { isReceiver, isSender, pipe, ProtocolError, type Session } from '../../packages/core/dist/index.js';
import { acceptDenoWebTransport, createCertificate } from '../../packages/transport-webtransport/dist/index.js';

const PATH = '/chan';

const out = (line: unknown): void => console.log(JSON.stringify(line));
const log = (line: string): void => out({ log: line });

globalThis.addEventListener('unhandledrejection', (event) => {
  event.preventDefault();
  out({ error: `unhandled rejection: ${(event.reason as Error)?.stack ?? event.reason}` });
});

const certificate = await createCertificate({ days: 10 });
const wantPort = Number(Deno.env.get('WT_PORT') ?? '0');
const endpoint = new Deno.QuicEndpoint({ hostname: '127.0.0.1', port: Number.isInteger(wantPort) ? wantPort : 0 });
const listener = endpoint.listen({ cert: certificate.cert, key: certificate.key, alpnProtocols: ['h3'] });
const hex = (bytes: Uint8Array): string => Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');

out({ port: endpoint.addr.port, certificateHash: hex(certificate.hash.value), notAfter: certificate.notAfter.toISOString() });

// ---------------------------------------------------------------- requests (shared with server.mjs)

const { serveSession, sessions, feeds } = createDemoService({
  lib: { pipe, isSender, isReceiver, ProtocolError },
  log,
  heapMB: () => Math.round((Deno.memoryUsage().heapUsed / 1048576) * 10) / 10,
});

// ---------------------------------------------------------------- stop

let stopping = false;
async function shutdown(why: string): Promise<void> {
  if (stopping) return;
  stopping = true;
  const hard = setTimeout(() => Deno.exit(0), 2500);
  log(`${why}: WebTransport endpoint shutting down`);
  await Promise.allSettled([...feeds].map((tx) => tx.close()));
  await Promise.allSettled([...sessions].map((s) => (s as Session).close()));
  try {
    endpoint.close();
  } catch {
    // already closed
  }
  clearTimeout(hard);
  Deno.exit(0);
}
for (const signal of ['SIGTERM', 'SIGINT'] as const) Deno.addSignalListener(signal, () => void shutdown(signal));
void (async () => {
  try {
    for await (const _ of Deno.stdin.readable) {
      // ignore input
    }
  } catch {
    // stdin unusable: treat as closed
  }
  await shutdown('stdin closed');
})();

// ---------------------------------------------------------------- accept

for await (const incoming of listener) {
  void (async () => {
    const conn = await incoming.accept();
    conn.closed.catch(() => {});
    const remote = (conn as { remoteAddr?: { hostname?: string } }).remoteAddr?.hostname ?? '?';
    const { session, url } = await acceptDenoWebTransport(conn, { verifyHello: acceptableHello });
    session.closed.catch(() => {});
    if (new URL(url).pathname !== PATH) {
      session.abort(new Error(`no libchan endpoint at ${new URL(url).pathname} (try ${PATH})`));
      return;
    }
    await session.ready;
    if (stopping) {
      void session.close();
      return;
    }
    serveSession(session, remote, 'WebTransport');
  })().catch((error) => out({ error: `session: ${(error as Error)?.stack ?? error}` }));
}
