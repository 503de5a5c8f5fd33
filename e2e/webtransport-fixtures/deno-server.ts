// A libchan server on Deno's native HTTP/3 WebTransport, for the Chromium tests:
//
//   deno run --unstable-net -A e2e/webtransport-fixtures/deno-server.ts
//
// Listens on 127.0.0.1 (UDP, any free port) with a fresh self-signed ECDSA P-256
// certificate (valid 10 days, made with WebCrypto by @libchan/transport-webtransport), and
// prints one JSON line on stdout: { "port": n, "hash": [32 bytes] } (the certificate's
// SHA-256 for serverCertificateHashes). It serves sessions on /chan with serve.mjs's
// handlers, logs errors as JSON lines { "error": … } on stdout, and exits on stdin EOF.
//
// It imports the *built* packages by relative path (run `npx tsc -b packages/core
// packages/transport-webtransport` first); Deno resolves their '@libchan/core' import
// through the package's node_modules symlink, so both share one module instance.
import * as core from '../../packages/core/dist/index.js';
import { acceptDenoWebTransport, createCertificate } from '../../packages/transport-webtransport/dist/index.js';
import { serveSession } from './serve.mjs';

const certificate = await createCertificate();
const endpoint = new Deno.QuicEndpoint({ hostname: '127.0.0.1', port: 0 });
const listener = endpoint.listen({ cert: certificate.cert, key: certificate.key, alpnProtocols: ['h3'] });
const errors: string[] = [];
const stalled: unknown[] = [];
const out = (line: unknown) => console.log(JSON.stringify(line));
globalThis.addEventListener('unhandledrejection', (event) => {
  event.preventDefault();
  out({ error: `unhandled rejection: ${event.reason?.stack ?? event.reason}` });
});

out({ port: endpoint.addr.port, hash: Array.from(certificate.hash.value) });

// Exit when the test runner goes away (stdin closes).
void (async () => {
  for await (const _ of Deno.stdin.readable) {
    // ignore input
  }
  endpoint.close();
  Deno.exit(0);
})();

for await (const incoming of listener) {
  void (async () => {
    const conn = await incoming.accept();
    conn.closed.catch(() => {});
    const { session, url } = await acceptDenoWebTransport(conn);
    if (new URL(url).pathname !== '/chan') {
      session.abort(new Error(`no libchan endpoint at ${url}`));
      return;
    }
    session.closed.catch(() => {});
    await session.ready;
    serveSession(core, session, errors, stalled);
  })().catch((error) => out({ error: `session: ${error?.stack ?? error}` }));
}
