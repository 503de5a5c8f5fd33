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
import { createHash } from 'node:crypto';
import { isReceiver, isSender, pipe, ProtocolError, type Sender, type Session } from '../../packages/core/dist/index.js';
import { acceptDenoWebTransport, createCertificate } from '../../packages/transport-webtransport/dist/index.js';

const PATH = '/chan';
const MAX_QUESTION = 500;
const MAX_NAME = 255;
const MAX_UPLOAD = 512 * 1024 * 1024;
const TICK_MS = 200;

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

// ---------------------------------------------------------------- requests (as in server.mjs)

let served = 0;
let sessionSeq = 0;
let feedSeq = 0;
let uploadSeq = 0;
const live = new Set<Session>();
const feeds = new Set<Sender<unknown>>();

const words = (s: string): string[] => s.split(/\s+/u).filter(Boolean);
const segmenter = new Intl.Segmenter(undefined, { granularity: 'grapheme' });
const reverse = (s: string): string => Array.from(segmenter.segment(s), (x) => x.segment).reverse().join('');

function answerFor(question: string): string {
  const text = question.trim();
  if (text === '') return 'Silence is golden — ask me anything.';
  const w = words(text);
  const letters = [...text].filter((c) => /\p{L}/u.test(c)).length;
  const vowels = [...text.toLowerCase()].filter((c) => 'aeiouyäöüéèàáíóú'.includes(c)).length;
  const backwards = reverse(text);
  const palindrome =
    text.length > 1 && text.toLowerCase().replace(/[^\p{L}\p{N}]/gu, '') === reverse(text.toLowerCase().replace(/[^\p{L}\p{N}]/gu, ''));
  const mood = ['curious', 'bold', 'gentle', 'cosmic', 'sly', 'sunny', 'stormy', 'wise'][createHash('sha256').update(text).digest()[0]! % 8];
  return `${w.length} ${w.length === 1 ? 'word' : 'words'}, ${letters} letters, ${vowels} vowels — a ${mood} question. Backwards: “${backwards}”${palindrome ? ' (a palindrome!)' : ''}`;
}

/** Resets every channel and stream in a value we will not use (one level deep). */
function discard(value: unknown, reason: unknown): void {
  if (value === null || typeof value !== 'object') return;
  for (const v of Object.values(value)) {
    try {
      if (isSender(v)) v.abort(reason);
      else if (isReceiver(v)) v.close(reason);
      else if (v instanceof ReadableStream) v.cancel(reason).catch(() => {});
      else if (v instanceof WritableStream) v.abort(reason).catch(() => {});
    } catch {
      // already detached or ended
    }
  }
}

type Req = Record<string, unknown> & { op: string; ret: Sender<unknown> };
const plain = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);

async function ask(req: Req, ret: Sender<unknown>): Promise<void> {
  const { question } = req;
  if (typeof question !== 'string' || question.length > MAX_QUESTION) throw new ProtocolError(`ask: question must be a string of at most ${MAX_QUESTION} characters`);
  served += 1;
  await ret.send({ question, answer: answerFor(question), at: new Date(), served });
  await ret.close();
}

async function feed(ret: Sender<unknown>, sid: number): Promise<void> {
  const n = ++feedSeq;
  const [receiver, tx] = pipe<unknown>();
  await ret.send({ feed: receiver });
  await ret.close();
  feeds.add(tx);
  log(`session ${sid}: feed ${n} started`);
  let seq = 0;
  let value = 50;
  let reason = 'ended';
  try {
    for (;;) {
      value = Math.max(0, Math.min(100, value + (Math.random() - 0.5) * 12));
      seq += 1;
      await tx.send({
        seq,
        at: new Date(),
        value: Math.round(value * 100) / 100,
        sessions: live.size,
        heapMB: Math.round((Deno.memoryUsage().heapUsed / 1048576) * 10) / 10,
      });
      await new Promise((resolve) => setTimeout(resolve, TICK_MS));
    }
  } catch (err) {
    // The page closed its receiver (the close crossed the wire), or the session ended.
    const e = err as { name?: string; code?: string };
    reason = `${e?.name ?? 'Error'}${e?.code ? ` ${e.code}` : ''}`;
  } finally {
    feeds.delete(tx);
    tx.abort();
  }
  log(`session ${sid}: feed ${n} stopped after ${seq} ticks (${reason})`);
}

async function upload(req: Req, ret: Sender<unknown>, sid: number): Promise<void> {
  const { name, size, bytes } = req;
  if (typeof name !== 'string' || name.length > MAX_NAME) throw new ProtocolError(`upload: name must be a string of at most ${MAX_NAME} characters`);
  if (typeof size !== 'number' || !Number.isSafeInteger(size) || size < 0 || size > MAX_UPLOAD) throw new ProtocolError(`upload: size must be an integer from 0 to ${MAX_UPLOAD}`);
  if (!(bytes instanceof ReadableStream)) throw new ProtocolError('upload: bytes must be a ReadableStream');
  const n = ++uploadSeq;
  const started = performance.now();
  const hash = createHash('sha256');
  let received = 0;
  const reader = (bytes as ReadableStream<unknown>).getReader();
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      if (!(value instanceof Uint8Array)) throw new ProtocolError('upload: the stream must carry Uint8Array chunks');
      received += value.byteLength;
      if (received > MAX_UPLOAD) throw new ProtocolError(`upload: more than ${MAX_UPLOAD} bytes`);
      hash.update(value);
    }
  } catch (err) {
    reader.cancel(err).catch(() => {});
    throw err;
  }
  const sha256 = hash.digest('hex');
  const ms = Math.round(performance.now() - started);
  log(`session ${sid}: upload ${n} ${JSON.stringify(name.slice(0, 60))} ${received} bytes in ${ms} ms, sha256 ${sha256.slice(0, 16)}…`);
  await ret.send({ name, size: received, sha256, ms });
  await ret.close();
}

async function handle(req: unknown, sid: number): Promise<void> {
  if (!plain(req) || !isSender(req.ret) || typeof req.op !== 'string') {
    const error = new ProtocolError('malformed request: expected { op, ret: Sender, … }');
    discard(req, error);
    throw error;
  }
  const r = req as Req;
  const { ret } = r;
  try {
    switch (r.op) {
      case 'ask':
        return await ask(r, ret);
      case 'feed':
        return await feed(ret, sid);
      case 'upload':
        return await upload(r, ret, sid);
      default:
        throw new ProtocolError(`unknown op ${JSON.stringify(r.op.slice(0, 40))}`);
    }
  } catch (err) {
    try {
      ret.abort(err);
    } catch {
      // already ended
    }
    discard(r, err);
    if (!(err instanceof ProtocolError)) return; // the page went away mid-request
    throw err;
  }
}

/** Serves one top-level channel: every request in its own task. */
async function serveChannel(requests: AsyncIterable<unknown> & { close(reason?: unknown): void }, sid: number): Promise<void> {
  try {
    for await (const req of requests) {
      handle(req, sid).catch((err) => {
        log(`session ${sid}: bad request (${(err as Error)?.message ?? err}); channel reset`);
        requests.close(err);
      });
    }
  } catch {
    // reset by the page or the session ended
  }
}

function onSession(session: Session, remote: string): void {
  const sid = ++sessionSeq;
  live.add(session);
  log(`session ${sid} open over WebTransport (${remote}, ${live.size} live)`);
  const done = (err?: { name?: string; message?: string }): void => {
    live.delete(session);
    log(`session ${sid} closed${err ? ` (${err.name ?? 'Error'}: ${err.message ?? err})` : ''} (${live.size} live)`);
  };
  session.closed.then(() => done(), done);
  void (async () => {
    try {
      for await (const requests of session.incoming()) void serveChannel(requests as never, sid);
    } catch {
      // the session ended
    }
  })();
}

// ---------------------------------------------------------------- stop

let stopping = false;
async function shutdown(why: string): Promise<void> {
  if (stopping) return;
  stopping = true;
  const hard = setTimeout(() => Deno.exit(0), 2500);
  log(`${why}: WebTransport endpoint shutting down`);
  await Promise.allSettled([...feeds].map((tx) => tx.close()));
  await Promise.allSettled([...live].map((s) => s.close()));
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

const plainHello = (hello: unknown): boolean => hello === undefined || (plain(hello) && Object.keys(hello).length <= 8);

for await (const incoming of listener) {
  void (async () => {
    const conn = await incoming.accept();
    conn.closed.catch(() => {});
    const remote = (conn as { remoteAddr?: { hostname?: string } }).remoteAddr?.hostname ?? '?';
    const { session, url } = await acceptDenoWebTransport(conn, { verifyHello: plainHello });
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
    onSession(session, remote);
  })().catch((error) => out({ error: `session: ${(error as Error)?.stack ?? error}` }));
}
