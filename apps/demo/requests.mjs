// What the demo serves on every session, whatever carries it: the Node WebSocket server
// (server.mjs) and the Deno WebTransport sidecar (webtransport-sidecar.ts) both call
// createDemoService(). Each top-level channel carries requests, each with its own reply
// channel `ret`:
//   { op: 'ask', question, ret }          → { question, answer, at, served }
//   { op: 'feed', ret }                   → { feed: Receiver } streaming ticks until the page closes it
//   { op: 'upload', name, size, bytes, ret } → { name, size, sha256, ms }
// The library is passed in (not imported) so the functions work on the same module
// instance the caller's sessions use.
import { createHash } from 'node:crypto';

const MAX_QUESTION = 500;
const MAX_NAME = 255;
const MAX_UPLOAD = 512 * 1024 * 1024;
const TICK_MS = 200;

/**
 * @param {{ lib: { pipe: Function; isSender: Function; isReceiver: Function; ProtocolError: new (message: string) => Error };
 *   log: (line: string) => void; heapMB: () => number }} options
 */
export function createDemoService({ lib, log, heapMB }) {
  const { pipe, isSender, isReceiver, ProtocolError } = lib;
  /** Sessions currently open (for the ticks, and for shutdown). */
  const sessions = new Set();
  let sessionSeq = 0;
  let served = 0;
  let feedSeq = 0;
  let uploadSeq = 0;
  /** Feed senders still running, so shutdown can end them first. */
  const feeds = new Set();

  const words = (s) => s.split(/\s+/u).filter(Boolean);
  const segmenter = new Intl.Segmenter(undefined, { granularity: 'grapheme' });
  const reverse = (s) => Array.from(segmenter.segment(s), (x) => x.segment).reverse().join('');

  /** Something fun and deterministic about the question. */
  function answerFor(question) {
    const text = question.trim();
    if (text === '') return 'Silence is golden — ask me anything.';
    const w = words(text);
    const letters = [...text].filter((c) => /\p{L}/u.test(c)).length;
    const vowels = [...text.toLowerCase()].filter((c) => 'aeiouyäöüéèàáíóú'.includes(c)).length;
    const backwards = reverse(text);
    const palindrome = text.length > 1 && text.toLowerCase().replace(/[^\p{L}\p{N}]/gu, '') === reverse(text.toLowerCase().replace(/[^\p{L}\p{N}]/gu, ''));
    const mood = ['curious', 'bold', 'gentle', 'cosmic', 'sly', 'sunny', 'stormy', 'wise'][
      createHash('sha256').update(text).digest()[0] % 8
    ];
    return `${w.length} ${w.length === 1 ? 'word' : 'words'}, ${letters} letters, ${vowels} vowels — a ${mood} question. Backwards: “${backwards}”${palindrome ? ' (a palindrome!)' : ''}`;
  }

  /** Resets every channel and stream in a value we will not use (one level deep). */
  function discard(value, reason) {
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

  async function ask(req, ret) {
    const { question } = req;
    if (typeof question !== 'string' || question.length > MAX_QUESTION) throw new ProtocolError(`ask: question must be a string of at most ${MAX_QUESTION} characters`);
    served += 1;
    await ret.send({ question, answer: answerFor(question), at: new Date(), served });
    await ret.close();
  }

  async function feed(ret, sid) {
    const n = ++feedSeq;
    const [receiver, tx] = pipe();
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
          sessions: sessions.size,
          heapMB: heapMB(),
        });
        await new Promise((resolve) => setTimeout(resolve, TICK_MS));
      }
    } catch (err) {
      // The page closed its receiver (the close crossed the wire), or the session ended.
      reason = `${err?.name ?? 'Error'}${err?.code ? ` ${err.code}` : ''}`;
    } finally {
      feeds.delete(tx);
      tx.abort();
    }
    log(`session ${sid}: feed ${n} stopped after ${seq} ticks (${reason})`);
  }

  async function upload(req, ret, sid) {
    const { name, size, bytes } = req;
    if (typeof name !== 'string' || name.length > MAX_NAME) throw new ProtocolError(`upload: name must be a string of at most ${MAX_NAME} characters`);
    if (typeof size !== 'number' || !Number.isSafeInteger(size) || size < 0 || size > MAX_UPLOAD) throw new ProtocolError(`upload: size must be an integer from 0 to ${MAX_UPLOAD}`);
    if (!(bytes instanceof ReadableStream)) throw new ProtocolError('upload: bytes must be a ReadableStream');
    const n = ++uploadSeq;
    const started = performance.now();
    const hash = createHash('sha256');
  let received = 0;
    const reader = bytes.getReader();
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

  async function handle(req, sid) {
    if (!plain(req) || !isSender(req.ret) || typeof req.op !== 'string') {
      const error = new ProtocolError('malformed request: expected { op, ret: Sender, … }');
      discard(req, error);
      throw error;
    }
    const { ret } = req;
    try {
      switch (req.op) {
        case 'ask':
          return await ask(req, ret);
        case 'feed':
          return await feed(ret, sid);
        case 'upload':
          return await upload(req, ret, sid);
        default:
          throw new ProtocolError(`unknown op ${JSON.stringify(req.op.slice(0, 40))}`);
      }
    } catch (err) {
      // Tell the page on its reply channel (and reset anything else it sent along).
      try {
        ret.abort(err);
      } catch {
        // already ended
      }
      discard(req, err);
      if (!(err instanceof ProtocolError)) return; // the page went away mid-request: nothing more to do
      throw err;
    }
  }

  /** Serves one top-level channel: every request in its own task, so a long upload never blocks an ask. */
  async function serveChannel(requests, sid) {
    try {
      for await (const req of requests) {
        handle(req, sid).catch((err) => {
          log(`session ${sid}: bad request (${err?.message ?? err}); channel reset`);
          requests.close(err);
        });
      }
    } catch {
      // reset by the page or the session ended: nothing to clean up beyond what the library does
    }
  }

  /**
   * Serves a session until it ends: every top-level channel it opens with serveChannel.
   * The peer's address, and the transport when it is not the default WebSocket, go into the log.
   * @param {{ closed: Promise<void>; incoming(): AsyncIterable<unknown> }} session
   * @param {string} remote
   * @param {string} [over]
   */
  function serveSession(session, remote, over) {
    const sid = ++sessionSeq;
    sessions.add(session);
    log(`session ${sid} open${over ? ` over ${over}` : ''} (${remote}, ${sessions.size} live)`);
    const done = (err) => {
      sessions.delete(session);
      log(`session ${sid} closed${err ? ` (${err.name ?? 'Error'}: ${err.message ?? err})` : ''} (${sessions.size} live)`);
    };
    session.closed.then(() => done(), done);
    (async () => {
      try {
        for await (const requests of session.incoming()) void serveChannel(requests, sid);
      } catch {
        // the session ended
      }
    })();
  }

  return { serveSession, sessions, feeds };
}

const plain = (v) => v !== null && typeof v === 'object' && !Array.isArray(v);

/** What the demo accepts as a page's handshake `hello`: nothing, or a small plain object. */
export function acceptableHello(hello) {
  return hello === undefined || (plain(hello) && Object.keys(hello).length <= 8);
}
