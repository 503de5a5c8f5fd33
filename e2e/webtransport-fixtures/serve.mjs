// The libchan request handlers the WebTransport browser tests talk to, shared by the Deno
// server (deno-server.ts, native HTTP/3) and the Node server (node-server.mjs,
// @fails-components over HTTP/2 / WebSocket). Plain JS, runtime-neutral (WebCrypto,
// web streams), so both runtimes import the same file.
//
// For every top-level channel a page opens, each request is served concurrently:
//   { op: 'echo', value, ret }        → ret gets `value`, then ret closes
//   { op: 'hello', ret }              → ret gets the client's handshake hello
//   { op: 'feed', count, ret }        → ret gets { feed: Receiver }; `count` numbers 0..count-1
//                                       arrive on feed, then feed and ret close
//   { op: 'upload', bytes, ret }      → reads the ReadableStream; ret gets { size, sha256 }
//   { op: 'download', size, ret }     → ret gets { bytes: ReadableStream } of `size` pattern bytes
//   { op: 'fail', message, code, ret } → ret is aborted with an Error(message) carrying `code`
//   { op: 'stall', rx, ret }          → keeps Receiver `rx` and never reads it; ret gets 'stalled'
//   { op: 'drain', rx, ret }          → reads every value of Receiver `rx`; ret gets { count, sum,
//                                       aborted?: { name, message, code } if rx was aborted }
// Errors end up in `errors` (the fixture reports them).

/** Bytes i % 251 (the pattern both sides can check). */
export function patternBytes(size, offset = 0) {
  const out = new Uint8Array(size);
  for (let i = 0; i < size; i++) out[i] = (offset + i) % 251;
  return out;
}

export async function sha256Hex(bytes) {
  const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', bytes));
  return Array.from(digest, (b) => b.toString(16).padStart(2, '0')).join('');
}

function concat(chunks) {
  let size = 0;
  for (const c of chunks) size += c.byteLength;
  const out = new Uint8Array(size);
  let o = 0;
  for (const c of chunks) {
    out.set(c, o);
    o += c.byteLength;
  }
  return out;
}

/** Serves one libchan session; `core` is @libchan/core (so both share one module instance). */
export function serveSession(core, session, errors, stalled) {
  const { pipe } = core;
  async function handle(req) {
    const { op, ret } = req;
    switch (op) {
      case 'echo':
        await ret.send(req.value);
        await ret.close();
        return;
      case 'hello':
        await ret.send(session.peer.hello);
        await ret.close();
        return;
      case 'feed': {
        const [feed, feedTx] = pipe();
        await ret.send({ feed });
        for (let i = 0; i < req.count; i++) await feedTx.send(i);
        await feedTx.close();
        await ret.close();
        return;
      }
      case 'upload': {
        const chunks = [];
        for await (const chunk of req.bytes) chunks.push(chunk);
        const all = concat(chunks);
        await ret.send({ size: all.byteLength, sha256: await sha256Hex(all) });
        await ret.close();
        return;
      }
      case 'download': {
        let sent = 0;
        const size = req.size;
        const bytes = new ReadableStream({
          pull(controller) {
            if (sent >= size) {
              controller.close();
              return;
            }
            const n = Math.min(64 * 1024, size - sent);
            controller.enqueue(patternBytes(n, sent));
            sent += n;
          },
        });
        await ret.send({ bytes });
        await ret.close();
        return;
      }
      case 'fail':
        ret.abort(Object.assign(new Error(req.message), { code: req.code }));
        return;
      case 'stall':
        stalled.push(req.rx); // never read
        await ret.send('stalled');
        await ret.close();
        return;
      case 'drain': {
        // Reads every value; an abort of rx is reported on ret (not an error of the server).
        let count = 0;
        let sum = 0;
        let aborted;
        try {
          for await (const value of req.rx) {
            count++;
            sum += value;
          }
        } catch (error) {
          aborted = { name: error?.name, message: error?.message, code: error?.code };
        }
        await ret.send({ count, sum, aborted });
        await ret.close();
        return;
      }
      default:
        throw new Error(`unknown op ${op}`);
    }
  }
  void (async () => {
    for await (const rx of session.incoming()) {
      void (async () => {
        for await (const req of rx) {
          handle(req).catch((error) => {
            let text = `${req.op}: ${error?.message ?? error}`;
            for (let cause = error?.cause, depth = 0; cause !== undefined && depth < 4; cause = cause?.cause, depth++) {
              text += ` ← ${cause?.name ?? ''}: ${cause?.message ?? cause}`;
            }
            errors.push(text);
            try {
              req.ret?.abort(error);
            } catch {
              // ret was never live
            }
          });
        }
      })().catch(() => {});
    }
  })().catch(() => {});
}
