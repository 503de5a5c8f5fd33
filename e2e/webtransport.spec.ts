// libchan over WebTransport in real Chromium (Debian's /usr/bin/chromium):
//
//   1. native WebTransport over HTTP/3 ↔ a Deno server (deno-server.ts: Deno.QuicEndpoint +
//      Deno.upgradeWebTransport, self-signed ECDSA P-256 certificate accepted through
//      serverCertificateHashes);
//   2. @fails-components' WebTransportPonyfill (WebTransport over WebSocket) ↔ the Node
//      `listenWebTransport` server.
//
// The page (http://127.0.0.1, a secure context) loads a vite bundle (webtransport-fixtures/
// client-native.ts, or client-ponyfill.ts on a page whose native WebTransport was removed),
// which puts the libraries on `window.libchanwt`; each test drives it with `page.evaluate`. The same scenarios run against both servers: Ret reply,
// nested channel streaming, byte streams both ways, close/abort, and head-of-line
// independence (a channel whose receiver never reads beside one that streams — checked by
// counting, not by timing). Every wait is bounded only so a hang fails with a clear message.
import { test, expect, type Page } from '@playwright/test';
import type {} from './webtransport-fixtures/client.js';
import { ensureBundle } from './webtransport-fixtures/build.mjs';
import { startDenoServer, startNodeServer, startPageServer } from './webtransport-fixtures/servers.mjs';

type PageServer = Awaited<ReturnType<typeof startPageServer>>;

/** How the page connects: which implementation, which URL, which certificate hash. */
interface Target {
  url: string;
  hash: number[];
  ponyfill: boolean;
}

let pages: PageServer;

test.beforeAll(async () => {
  test.setTimeout(60_000);
  await ensureBundle();
  pages = await startPageServer();
});

test.afterAll(async () => {
  await pages?.close();
});

const pageErrors = new WeakMap<Page, Error[]>();

/** Opens the native page, or the ponyfill page (no native WebTransport in it). */
async function openPage(page: Page, target: Target): Promise<void> {
  const errors: Error[] = [];
  pageErrors.set(page, errors);
  page.on('pageerror', (error) => errors.push(error));
  const response = await page.goto(target.ponyfill ? `${pages.url}?ponyfill` : pages.url);
  expect(response?.status()).toBe(200);
  await page.waitForFunction(() => document.documentElement.dataset.libchanwt === 'ready', undefined, { timeout: 10_000 });
}

test.afterEach(async ({ page }) => {
  expect((pageErrors.get(page) ?? []).map((e) => e.message)).toEqual([]);
});

/** Connect options for the page, built inside it (functions cannot cross page.evaluate). */
const connectIn = `
  (target) => {
    const { connectWebTransport, WebTransportPonyfill, within } = window.libchanwt;
    return (extra = {}) =>
      within(15000, connectWebTransport(target.url, {
        serverCertificateHashes: [{ algorithm: 'sha-256', value: new Uint8Array(target.hash) }],
        ...(target.ponyfill ? { WebTransport: WebTransportPonyfill } : {}),
        hello: { page: true, when: new Date(0) },
        ...extra,
      }), 'connectWebTransport');
  }
`;

function scenarios(name: string, setup: () => Promise<{ target: Target; errors: () => string[]; close(): Promise<void> }>): void {
  test.describe(name, () => {
    let target: Target;
    let serverErrors: () => string[];
    let closeServer: (() => Promise<void>) | undefined;

    test.beforeAll(async () => {
      test.setTimeout(60_000);
      const server = await setup();
      target = server.target;
      serverErrors = server.errors;
      closeServer = () => server.close();
    });

    test.afterAll(async () => {
      await closeServer?.();
    });

    test.afterEach(() => {
      expect(serverErrors()).toEqual([]);
    });

    test('the page has the WebTransport it should; connecting without one is a TypeError', async ({ page }) => {
      await openPage(page, target);
      const result = await page.evaluate(async (url) => {
        const { connectWebTransport, settle, nativeWebTransport } = window.libchanwt;
        return { nativeWebTransport, bare: nativeWebTransport ? undefined : await settle(connectWebTransport(url)) };
      }, target.url);
      expect(result.nativeWebTransport).toBe(!target.ponyfill);
      if (target.ponyfill) expect(result.bare).toMatchObject({ ok: false, error: { name: 'TypeError' } });
    });

    test('Ret reply: rich values round-trip; the server saw the hello', async ({ page }) => {
      await openPage(page, target);
      const result = await page.evaluate(
        async ({ target, connectIn }) => {
          const connect = (0, eval)(connectIn)(target);
          const { pipe, within, settle, patternBytes } = window.libchanwt;
          const session = await connect();
          const requests = await session.openSender();
          const value = {
            when: new Date(Date.UTC(2014, 5, 10)),
            map: new Map<unknown, unknown>([['a', 1], [2, -5n]]),
            big: 2n ** 70n + 1n,
            bytes: patternBytes(100_000),
            set: new Set(['x']),
            missing: undefined,
          };
          const [replies, ret] = pipe<typeof value>();
          await within(10_000, requests.send({ op: 'echo', value, ret }), 'send echo');
          const back = await within(10_000, replies.receive(), 'echo reply');
          const end = await settle(within(10_000, replies.receive(), 'end of ret'));
          const [helloReplies, helloRet] = pipe<unknown>();
          await requests.send({ op: 'hello', ret: helloRet });
          const hello = (await within(10_000, helloReplies.receive(), 'hello reply')) as { page: boolean; when: Date };
          const checks = {
            date: back.when instanceof Date && back.when.getTime() === value.when.getTime(),
            map: back.map instanceof Map && back.map.get('a') === 1 && back.map.get(2) === -5n,
            big: back.big === value.big,
            bytes: back.bytes instanceof Uint8Array && back.bytes.byteLength === 100_000 && back.bytes.every((b, i) => b === i % 251),
            set: back.set instanceof Set && back.set.has('x'),
            undefinedKept: 'missing' in back && back.missing === undefined,
            hello: hello.page === true && hello.when instanceof Date && hello.when.getTime() === 0,
          };
          await within(10_000, requests.close(), 'requests.close');
          await within(10_000, session.close(), 'session.close');
          return { checks, end };
        },
        { target, connectIn },
      );
      expect(result.checks).toEqual(Object.fromEntries(Object.keys(result.checks).map((k) => [k, true])));
      expect(result.end).toMatchObject({ ok: false, error: { name: 'ChannelClosedError' } });
    });

    test('nested channel streaming: a Receiver inside a reply delivers 1,000 values in order', async ({ page }) => {
      await openPage(page, target);
      const result = await page.evaluate(
        async ({ target, connectIn }) => {
          const connect = (0, eval)(connectIn)(target);
          const { pipe, within, settle } = window.libchanwt;
          const session = await connect();
          const requests = await session.openSender();
          const [replies, ret] = pipe<{ feed: AsyncIterable<number> & { receive(): Promise<number> } }>();
          await requests.send({ op: 'feed', count: 1000, ret });
          const { feed } = await within(10_000, replies.receive(), 'feed reply');
          const values: number[] = [];
          await within(
            20_000,
            (async () => {
              for await (const v of feed) values.push(v);
            })(),
            'feed values',
          );
          const inOrder = values.length === 1000 && values.every((v, i) => v === i);
          const retEnd = await settle(replies.receive());
          await requests.close();
          await within(10_000, session.close(), 'session.close');
          return { inOrder, count: values.length, retEnd };
        },
        { target, connectIn },
      );
      expect(result).toMatchObject({ inOrder: true, count: 1000, retEnd: { ok: false, error: { name: 'ChannelClosedError' } } });
    });

    test('byte streams: a 2 MiB upload and a 2 MiB download arrive byte-exact (SHA-256)', async ({ page }) => {
      test.setTimeout(60_000);
      await openPage(page, target);
      const result = await page.evaluate(
        async ({ target, connectIn }) => {
          const connect = (0, eval)(connectIn)(target);
          const { pipe, within, patternBytes, sha256Hex } = window.libchanwt;
          const session = await connect();
          const requests = await session.openSender();
          const size = 2 * 1024 * 1024;
          const source = patternBytes(size);
          let offset = 0;
          const bytes = new ReadableStream<Uint8Array>({
            pull(controller) {
              if (offset >= size) return controller.close();
              const n = Math.min(64 * 1024, size - offset);
              controller.enqueue(source.slice(offset, offset + n));
              offset += n;
            },
          });
          const [upReplies, upRet] = pipe<{ size: number; sha256: string }>();
          await requests.send({ op: 'upload', bytes, ret: upRet });
          const up = await within(30_000, upReplies.receive(), 'upload reply');

          const [downReplies, downRet] = pipe<{ bytes: ReadableStream<Uint8Array> }>();
          await requests.send({ op: 'download', size, ret: downRet });
          const { bytes: down } = await within(10_000, downReplies.receive(), 'download reply');
          const chunks: Uint8Array[] = [];
          await within(
            30_000,
            (async () => {
              const reader = down.getReader();
              for (;;) {
                const { done, value } = await reader.read();
                if (done) break;
                chunks.push(value);
              }
            })(),
            'download',
          );
          const got = new Uint8Array(chunks.reduce((n, c) => n + c.byteLength, 0));
          let o = 0;
          for (const c of chunks) {
            got.set(c, o);
            o += c.byteLength;
          }
          const expected = await sha256Hex(source);
          await requests.close();
          await within(10_000, session.close(), 'session.close');
          return { up, upOk: up.size === size && up.sha256 === expected, downSize: got.byteLength, downOk: (await sha256Hex(got)) === expected };
        },
        { target, connectIn },
      );
      expect(result).toMatchObject({ upOk: true, downSize: 2 * 1024 * 1024, downOk: true });
    });

    test('close and abort: a remote abort keeps name/message/code; a page abort reaches the server; close and abort end sessions', async ({ page }) => {
      await openPage(page, target);
      const result = await page.evaluate(
        async ({ target, connectIn }) => {
          const connect = (0, eval)(connectIn)(target);
          const { pipe, within, settle } = window.libchanwt;
          const session = await connect();
          const requests = await session.openSender();

          // The server aborts our Ret with a coded error.
          const [failReplies, failRet] = pipe<unknown>();
          await requests.send({ op: 'fail', message: 'no such thing', code: 'E_MISSING', ret: failRet });
          const failed = await settle(within(10_000, failReplies.receive(), 'fail reply'));

          // The page aborts a channel the server is draining.
          const [drainRx, drainTx] = pipe<number>();
          const [drainReplies, drainRet] = pipe<{ count: number; sum: number; aborted?: unknown }>();
          await requests.send({ op: 'drain', rx: drainRx, ret: drainRet });
          for (let i = 1; i <= 10; i++) await drainTx.send(i);
          drainTx.abort(Object.assign(new TypeError('page gave up'), { code: 'E_PAGE' }));
          const drained = await within(10_000, drainReplies.receive(), 'drain reply');

          // Graceful close: resolves once every channel ended.
          await requests.close();
          const closed = await settle(within(10_000, session.close(), 'session.close'));
          const closedPromise = await settle(session.closed);

          // Abort: a second session, torn down at once.
          const second = await connect();
          const secondRequests = await second.openSender();
          second.abort(new Error('page abort'));
          const aborted = await settle(second.closed);
          const afterAbort = await settle(secondRequests.send({ op: 'echo', value: 1, ret: pipe()[1] }));
          return { failed, drained, closed, closedPromise, aborted, afterAbort };
        },
        { target, connectIn },
      );
      expect(result.failed).toMatchObject({ ok: false, error: { name: 'Error', message: 'no such thing', code: 'E_MISSING' } });
      // 10 values (sum 55) may all arrive before the abort, or fewer: the abort itself must arrive.
      expect(result.drained.aborted).toMatchObject({ name: 'TypeError', message: 'page gave up', code: 'E_PAGE' });
      expect(result.drained.count).toBeLessThanOrEqual(10);
      expect(result.closed).toEqual({ ok: true, value: undefined });
      expect(result.closedPromise).toEqual({ ok: true, value: undefined });
      expect(result.aborted).toMatchObject({ ok: false, error: { name: 'SessionClosedError' } });
      expect(result.afterAbort).toMatchObject({ ok: false, error: { name: 'SessionClosedError' } });
    });

    test('head-of-line: a channel whose receiver never reads does not hold up one that streams', async ({ page }) => {
      await openPage(page, target);
      const result = await page.evaluate(
        async ({ target, connectIn }) => {
          const connect = (0, eval)(connectIn)(target);
          const { pipe, within, countingWebTransport, WebTransportPonyfill, patternBytes } = window.libchanwt;
          const counting = countingWebTransport(target.ponyfill ? WebTransportPonyfill : WebTransport);
          const session = await connect({ WebTransport: counting.WebTransport });
          const requests = await session.openSender();

          // Channel A: the server keeps the Receiver and never reads it.
          const [stallRx, stallTx] = pipe<Uint8Array>();
          const [stallReplies, stallRet] = pipe<string>();
          await requests.send({ op: 'stall', rx: stallRx, ret: stallRet });
          const stalled = await within(10_000, stallReplies.receive(), 'stall reply');
          // 32 × 64 KiB: twice the peer's default 1 MiB window for this channel.
          let settledA = 0;
          const sendsA = Array.from({ length: 32 }, (_, i) => stallTx.send(patternBytes(64 * 1024, i)).then(() => void settledA++));
          for (const s of sendsA) s.catch(() => {});

          // Channel B, beside it: 1,000 values of 1 KiB stream through and are all read.
          const [drainRx, drainTx] = pipe<number>();
          const [drainReplies, drainRet] = pipe<{ count: number; sum: number }>();
          await requests.send({ op: 'drain', rx: drainRx, ret: drainRet });
          let expectedSum = 0;
          for (let i = 0; i < 1000; i++) {
            await within(10_000, drainTx.send(i), `send ${i} on the streaming channel`);
            expectedSum += i;
          }
          await drainTx.close();
          const drained = await within(20_000, drainReplies.receive(), 'drain reply');
          // And the server → page direction: a 1,000-value feed.
          const [feedReplies, feedRet] = pipe<{ feed: AsyncIterable<number> }>();
          await requests.send({ op: 'feed', count: 1000, ret: feedRet });
          const { feed } = await within(10_000, feedReplies.receive(), 'feed reply');
          let fed = 0;
          await within(
            20_000,
            (async () => {
              for await (const v of feed) if (v === fed) fed++;
            })(),
            'feed',
          );

          // Everything above took many round trips; channel A is still held at its window.
          const stillPendingA = 32 - settledA;
          const native = { ...counting.counts };
          session.abort(new Error('test over'));
          return { stalled, drained, expectedSum, fed, settledA, stillPendingA, native };
        },
        { target, connectIn },
      );
      expect(result.stalled).toBe('stalled');
      expect(result.drained).toMatchObject({ count: 1000, sum: result.expectedSum });
      expect(result.fed).toBe(1000);
      // The stalled channel took at most its window (+ the value the session holds for it)…
      expect(result.settledA).toBeGreaterThanOrEqual(1);
      expect(result.settledA).toBeLessThanOrEqual(18);
      // …and stayed blocked while the other channels streamed.
      expect(result.stillPendingA).toBeGreaterThanOrEqual(2);
      // One control stream; sub-streams on native unidirectional streams of their own.
      expect(result.native.bidi).toBe(1);
      expect(result.native.uni).toBeGreaterThanOrEqual(3); // requests, the stalled channel, the streaming one
    });
  });
}

scenarios('native WebTransport over HTTP/3 ↔ Deno (Deno.upgradeWebTransport)', async () => {
  const deno = await startDenoServer();
  return {
    target: { url: deno.url, hash: deno.hash, ponyfill: false },
    errors: () => deno.errors,
    close: () => deno.close(),
  };
});

test.describe('ponyfill', () => {
  // The ponyfill speaks WebTransport over WebSocket (wss://): the browser checks the server's
  // TLS certificate itself, so the self-signed test certificate must be accepted here.
  test.use({ ignoreHTTPSErrors: true });
  scenarios('@fails-components WebTransportPonyfill (over WebSocket) ↔ Node listenWebTransport', async () => {
    const node = await startNodeServer();
    return {
      target: { url: node.url, hash: node.hash, ponyfill: true },
      errors: () => node.errors,
      close: () => node.close(),
    };
  });
});
