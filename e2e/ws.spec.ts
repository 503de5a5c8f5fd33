// libchan over WebSocket between real Chromium and a Node server.
//
// The page (served by e2e/fixtures/server.mjs, same origin as the WebSocket endpoint) loads
// the vite bundle of e2e/fixtures/client.ts, which puts @libchan/core and
// @libchan/transport-ws on `window.libchan`; each test drives it with `page.evaluate` and
// checks what comes back. The bundle is built once per run in `beforeAll` (only when
// missing or stale, see e2e/fixtures/build.mjs).
//
// Nothing here depends on wall-clock speed: every wait is bounded (in the page by
// `libchan.within`, outside by the test's own timeout) only so a hang fails with a clear
// message instead of stalling the run.
import { test, expect, type Page } from '@playwright/test';
// Types only: declares `window.libchan` / `window.state` for the page.evaluate callbacks.
import type {} from './fixtures/client.js';
import { ensureBundle } from './fixtures/build.mjs';
import { start } from './fixtures/server.mjs';

type FixtureServer = Awaited<ReturnType<typeof start>>;

let server: FixtureServer;
const extraServers: FixtureServer[] = [];

/** A fixture server closed in afterAll (and after the test that started it). */
async function startServer(options: Parameters<typeof start>[0] = {}): Promise<FixtureServer> {
  const s = await start(options);
  extraServers.push(s);
  return s;
}

test.beforeAll(async () => {
  test.setTimeout(60_000);
  await ensureBundle();
  server = await start();
});

test.afterAll(async () => {
  await Promise.all([server?.close(), ...extraServers.map((s) => s.close())]);
});

const pageErrors = new WeakMap<Page, Error[]>();

/** Opens a fixture page and waits until `window.libchan` is there. */
async function openPage(page: Page, url: string): Promise<void> {
  const errors: Error[] = [];
  pageErrors.set(page, errors);
  page.on('pageerror', (error) => errors.push(error));
  const response = await page.goto(url);
  expect(response?.status()).toBe(200);
  await page.waitForFunction(() => document.documentElement.dataset.libchan === 'ready', undefined, { timeout: 10_000 });
}

test.afterEach(async ({ page }) => {
  // No uncaught exception or unhandled rejection in the page, no failed request on the server.
  expect((pageErrors.get(page) ?? []).map((e) => e.message)).toEqual([]);
  expect((server?.errors ?? []).map(String)).toEqual([]);
  for (const s of extraServers) expect(s.errors.map(String)).toEqual([]);
});

test('request/reply with Ret channels: Date, Map, BigInt, Uint8Array and friends round-trip intact', async ({ page }) => {
  test.setTimeout(30_000);
  await openPage(page, server.url);
  const result = await page.evaluate(async (wsUrl) => {
    const { connectWebSocket, pipe, within, settle, patternBytes, sha256Hex } = window.libchan;
    const session = await within(10_000, connectWebSocket(wsUrl), 'connectWebSocket');
    const requests = await session.openSender<{ op: string; value?: unknown; ret: unknown }>();

    const bytes = patternBytes(100_000); // several 16 KiB frames
    const when = new Date(Date.UTC(2014, 5, 10, 12, 34, 56, 789));
    const big = 2n ** 70n + 1n;
    const value = {
      when,
      map: new Map<unknown, unknown>([
        ['a', 1],
        [2, { nested: -5n }],
      ]),
      big,
      bytes,
      small: new Uint8Array([0, 1, 254, 255]),
      set: new Set(['x', 'y']),
      missing: undefined,
      re: /ab+c/gi,
      url: new URL('https://example.com/path?q=1'),
      error: Object.assign(new RangeError('out of range'), { code: 'E_RANGE' }),
      deep: { list: [1, 'two', [new Date(0)]] },
    };

    // One echo: the reply arrives on the Ret channel, which then ends cleanly.
    const [replies, ret] = pipe<typeof value>();
    await within(10_000, requests.send({ op: 'echo', value, ret }), 'send echo');
    const afterTransfer = await settle(ret.send(value));
    const back = await within(10_000, replies.receive(), 'echo reply');
    const end = await settle(within(10_000, replies.receive(), 'end of ret'));

    const sameBytes = (a: unknown, b: Uint8Array) =>
      a instanceof Uint8Array && a.byteLength === b.byteLength && a.every((x, i) => x === b[i]);
    const backMap = back.map as Map<unknown, unknown>;
    const nested = backMap instanceof Map ? (backMap.get(2) as { nested?: unknown } | undefined) : undefined;
    const checks = {
      dateIsDate: back.when instanceof Date,
      dateValue: back.when instanceof Date && back.when.getTime() === when.getTime(),
      mapIsMap: backMap instanceof Map,
      mapEntries: backMap instanceof Map && backMap.size === 2 && backMap.get('a') === 1,
      bigintInMap: typeof nested?.nested === 'bigint' && nested.nested === -5n,
      bigintType: typeof back.big === 'bigint',
      bigintValue: back.big === big,
      bytesIsUint8Array: back.bytes instanceof Uint8Array,
      bytesEqual: sameBytes(back.bytes, bytes),
      bytesSha: (await sha256Hex(back.bytes)) === (await sha256Hex(bytes)),
      smallBytes: sameBytes(back.small, new Uint8Array([0, 1, 254, 255])),
      set: back.set instanceof Set && back.set.size === 2 && back.set.has('x') && back.set.has('y'),
      undefinedKept: 'missing' in back && back.missing === undefined,
      regexp: back.re instanceof RegExp && back.re.source === 'ab+c' && back.re.flags === 'gi',
      url: back.url instanceof URL && back.url.href === 'https://example.com/path?q=1',
      error:
        back.error instanceof Error &&
        back.error.name === 'RangeError' &&
        back.error.message === 'out of range' &&
        (back.error as { code?: unknown }).code === 'E_RANGE',
      deep: back.deep.list[0] === 1 && back.deep.list[1] === 'two' && (back.deep.list[2] as Date[])[0] instanceof Date,
    };

    // What the *server* saw (not just a symmetric pass-through).
    const [seen, seenRet] = pipe<{ kind: string; fields: Record<string, string> }>();
    await requests.send({ op: 'inspect', value, ret: seenRet });
    const serverView = await within(10_000, seen.receive(), 'inspect reply');

    // Many requests in flight on one channel, each with its own Ret: replies never cross.
    const many = await within(
      20_000,
      Promise.all(
        Array.from({ length: 50 }, async (_, i) => {
          const [r, s] = pipe<unknown>();
          await requests.send({ op: 'echo', value: { i, at: new Date(i), n: BigInt(i) }, ret: s });
          const reply = (await r.receive()) as { i: number; at: Date; n: bigint };
          return reply.i === i && reply.at instanceof Date && reply.at.getTime() === i && reply.n === BigInt(i);
        }),
      ),
      '50 concurrent echoes',
    );

    await within(10_000, requests.close(), 'requests.close');
    await within(10_000, session.close(), 'session.close');
    return { checks, afterTransfer, end, serverView, manyOk: many.filter(Boolean).length };
  }, server.wsUrl!);

  expect(result.checks).toEqual(Object.fromEntries(Object.keys(result.checks).map((k) => [k, true])));
  // The transferred Ret is detached in the page.
  expect(result.afterTransfer).toMatchObject({ ok: false, error: { name: 'ChannelClosedError', code: 'TRANSFERRED' } });
  // The server closed the Ret after replying: a clean end (libchan's EOF).
  expect(result.end).toMatchObject({ ok: false, error: { name: 'ChannelClosedError' } });
  expect(result.serverView).toEqual({
    kind: 'Object',
    fields: {
      when: 'Date',
      map: 'Map',
      big: 'bigint',
      bytes: 'Uint8Array',
      small: 'Uint8Array',
      set: 'Set',
      missing: 'undefined',
      re: 'RegExp',
      url: 'URL',
      error: 'Error',
      deep: 'Object',
    },
  });
  expect(result.manyOk).toBe(50);
});

test('a server-pushed stream of 1,000 values on a nested channel handed back in a reply arrives in order', async ({ page }) => {
  test.setTimeout(30_000);
  await openPage(page, server.url);
  const result = await page.evaluate(async (wsUrl) => {
    const { connectWebSocket, pipe, within, settle, isReceiver } = window.libchan;
    const session = await within(10_000, connectWebSocket(wsUrl), 'connectWebSocket');
    const requests = await session.openSender<unknown>();
    const [replies, ret] = pipe<{ feed: AsyncIterable<number> }>();
    await requests.send({ op: 'feed', count: 1000, ret });
    const reply = await within(10_000, replies.receive(), 'feed reply');
    const feedIsReceiver = isReceiver(reply.feed);
    const values: number[] = [];
    await within(
      20_000,
      (async () => {
        for await (const n of reply.feed) values.push(n); // ends quietly at the clean end
      })(),
      'reading the feed',
    );
    const retEnd = await settle(within(10_000, replies.receive(), 'end of ret'));
    await within(10_000, requests.close(), 'requests.close');
    await within(10_000, session.close(), 'session.close');
    const firstOutOfOrder = values.findIndex((n, i) => n !== i);
    return { feedIsReceiver, count: values.length, firstOutOfOrder, last: values.at(-1), retEnd };
  }, server.wsUrl!);

  expect(result.feedIsReceiver).toBe(true);
  expect(result.count).toBe(1000);
  expect(result.firstOutOfOrder).toBe(-1);
  expect(result.last).toBe(999);
  expect(result.retEnd).toMatchObject({ ok: false, error: { name: 'ChannelClosedError' } });
});

test('an 8 MiB ReadableStream upload (64 KiB chunks): the server’s size and SHA-256 match the page’s', async ({ page }) => {
  test.setTimeout(60_000);
  await openPage(page, server.url);
  const result = await page.evaluate(async (wsUrl) => {
    const { connectWebSocket, pipe, within, settle, patternBytes, sha256Hex } = window.libchan;
    const SIZE = 8 * 1024 * 1024;
    const CHUNK = 64 * 1024;
    const data = patternBytes(SIZE, 0xc0ffee);
    const expected = await sha256Hex(data);

    let offset = 0;
    let pulls = 0;
    const bytes = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (offset >= SIZE) {
          controller.close();
          return;
        }
        pulls += 1;
        controller.enqueue(data.slice(offset, offset + CHUNK)); // a fresh copy per chunk
        offset += CHUNK;
      },
    });

    const session = await within(10_000, connectWebSocket(wsUrl), 'connectWebSocket');
    const requests = await session.openSender<unknown>();
    const [replies, ret] = pipe<{ size: number; sha256: string; chunks: number }>();
    await within(10_000, requests.send({ op: 'upload', bytes, ret }), 'send upload');
    const resend = await settle(requests.send({ op: 'upload', bytes, ret: pipe()[1] }));
    const reply = await within(45_000, replies.receive(), 'upload reply');
    await within(10_000, requests.close(), 'requests.close');
    await within(10_000, session.close(), 'session.close');
    return { expected, reply, pulls, offset, resend };
  }, server.wsUrl!);

  expect(result.reply.size).toBe(8 * 1024 * 1024);
  expect(result.reply.sha256).toBe(result.expected);
  expect(result.reply.chunks).toBeGreaterThan(0);
  expect(result.pulls).toBe(128);
  // The stream was transferred by the first send: sending it again is a TypeError that sent nothing.
  expect(result.resend).toMatchObject({ ok: false, error: { name: 'TypeError' } });
});

test('a WritableStream sent to the server writes 4 MiB back into the page', async ({ page }) => {
  test.setTimeout(60_000);
  await openPage(page, server.url);
  const result = await page.evaluate(async (wsUrl) => {
    const { connectWebSocket, pipe, within, sha256Hex } = window.libchan;
    const SIZE = 4 * 1024 * 1024;
    const received = new Uint8Array(SIZE);
    let length = 0;
    let closed = false;
    const sink = new WritableStream<Uint8Array>({
      write(chunk) {
        if (length + chunk.byteLength > SIZE) throw new RangeError('more bytes than asked for');
        received.set(chunk, length);
        length += chunk.byteLength;
      },
      close() {
        closed = true;
      },
    });
    const session = await within(10_000, connectWebSocket(wsUrl), 'connectWebSocket');
    const requests = await session.openSender<unknown>();
    const [replies, ret] = pipe<{ size: number; sha256: string }>();
    await requests.send({ op: 'download', size: SIZE, sink, ret });
    const reply = await within(45_000, replies.receive(), 'download reply');
    // The reply is sent after the server's writer.close() resolved; give our sink's close a
    // moment to run if it has not yet (it is a separate sub-stream).
    await within(10_000, (async () => { while (!closed) await new Promise((r) => setTimeout(r, 10)); })(), 'sink close');
    const sha256 = await sha256Hex(received.subarray(0, length));
    await requests.close();
    await within(10_000, session.close(), 'session.close');
    return { reply, length, sha256, closed };
  }, server.wsUrl!);

  expect(result.length).toBe(4 * 1024 * 1024);
  expect(result.reply.size).toBe(result.length);
  expect(result.sha256).toBe(result.reply.sha256);
  expect(result.closed).toBe(true);
});

test('leaving a for-await over a forwarded server channel early stops the server’s sends (ChannelClosedError at the server)', async ({ page }) => {
  test.setTimeout(30_000);
  await openPage(page, server.url);
  const tag = `break-${Date.now()}`;
  const result = await page.evaluate(
    async ({ wsUrl, tag }) => {
      const { connectWebSocket, pipe, within, settle } = window.libchan;
      const session = await within(10_000, connectWebSocket(wsUrl), 'connectWebSocket');
      const requests = await session.openSender<unknown>();
      const [replies, ret] = pipe<{ feed: AsyncIterable<number> & { closed: Promise<void> } }>();
      // Far more than any window holds: the server can only finish by learning that we stopped.
      await requests.send({ op: 'feed', count: 1_000_000, tag, mayStop: true, ret });
      const { feed } = await within(10_000, replies.receive(), 'feed reply');
      const values: number[] = [];
      await within(
        10_000,
        (async () => {
          for await (const n of feed) {
            values.push(n);
            if (values.length === 10) break; // closes the receiver
          }
        })(),
        'reading 10 values',
      );
      // The server closes ret once its sends on the feed have been refused.
      const retEnd = await settle(within(20_000, replies.receive(), 'end of ret'));
      await requests.close();
      await within(10_000, session.close(), 'session.close');
      return { values, retEnd };
    },
    { wsUrl: server.wsUrl!, tag },
  );

  expect(result.values).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  expect(result.retEnd).toMatchObject({ ok: false, error: { name: 'ChannelClosedError' } });
  const outcome = server.state.feeds.find((f) => f.tag === tag);
  expect(outcome).toMatchObject({ end: 'ChannelClosedError' });
  expect(outcome!.sent).toBeGreaterThanOrEqual(10);
  expect(outcome!.sent).toBeLessThan(1_000_000);
});

test('select() over two server feeds takes every value exactly once, each feed in order, and reports both ends', async ({ page }) => {
  test.setTimeout(30_000);
  await openPage(page, server.url);
  const result = await page.evaluate(async (wsUrl) => {
    const { connectWebSocket, pipe, select, within } = window.libchan;
    const session = await within(10_000, connectWebSocket(wsUrl), 'connectWebSocket');
    const requests = await session.openSender<unknown>();
    const feedOf = async (count: number) => {
      const [replies, ret] = pipe<{ feed: import('@libchan/core').Receiver<number> }>();
      await requests.send({ op: 'feed', count, ret });
      return (await within(10_000, replies.receive(), 'feed reply')).feed;
    };
    const feeds = [await feedOf(300), await feedOf(200)];
    const got: number[][] = [[], []];
    const ended: number[] = [];
    let active = feeds.map((rx, i) => ({ rx, i }));
    await within(
      20_000,
      (async () => {
        while (active.length > 0) {
          const r = await select(active.map((a) => a.rx));
          const which = active[r.index]!.i;
          if ('done' in r && r.done) {
            ended.push(which);
            active = active.filter((a) => a.i !== which);
          } else {
            got[which]!.push(r.value as number);
          }
        }
      })(),
      'select loop',
    );
    await requests.close();
    await within(10_000, session.close(), 'session.close');
    const inOrder = (xs: number[], n: number) => xs.length === n && xs.every((x, i) => x === i);
    return { ordered: [inOrder(got[0]!, 300), inOrder(got[1]!, 200)], counts: got.map((g) => g.length), ended: ended.sort() };
  }, server.wsUrl!);

  expect(result.counts).toEqual([300, 200]);
  expect(result.ordered).toEqual([true, true]);
  expect(result.ended).toEqual([0, 1]);
});

/** Rejects with a clear message if `promise` has not settled after `ms` (a hang guard, not a speed test). */
async function bounded<T>(promise: Promise<T>, ms: number, label: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${label} did not settle within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * In the page: connect, ask the server to `hold` a Ret channel open (it answers 'holding'
 * first, so the server has certainly taken the request), then leave a `receive()` on it, an
 * `accept()` and `session.closed` pending; `collectEnd` later reports how they settled.
 */
async function holdOpen(page: Page, wsUrl: string): Promise<void> {
  await page.evaluate(async (url) => {
    const { connectWebSocket, pipe, within, settle } = window.libchan;
    const session = await within(10_000, connectWebSocket(url), 'connectWebSocket');
    const requests = await session.openSender<unknown>();
    const [replies, ret] = pipe<string>();
    await requests.send({ op: 'hold', ret });
    const first = await within(10_000, replies.receive(), 'holding reply');
    if (first !== 'holding') throw new Error(`unexpected first reply ${String(first)}`);
    // Nothing more comes on `replies` while the server lives.
    window.state.requests = requests;
    window.state.pending = settle(within(25_000, replies.receive(), 'pending receive'));
    window.state.accept = settle(within(25_000, session.accept(), 'pending accept'));
    window.state.closed = settle(within(25_000, session.closed, 'session.closed'));
  }, wsUrl);
}

async function collectEnd(page: Page) {
  return page.evaluate(async () => {
    const { settle } = window.libchan;
    const s = window.state as {
      pending: Promise<unknown>;
      accept: Promise<unknown>;
      closed: Promise<unknown>;
      requests: { send(v: unknown): Promise<void> };
    };
    const [pending, accept, closed] = await Promise.all([s.pending, s.accept, s.closed]);
    const laterSend = await settle(s.requests.send({ op: 'echo', value: 1 }));
    return { pending, accept, closed, laterSend };
  });
}

function expectSessionEnded(result: Awaited<ReturnType<typeof collectEnd>>): void {
  expect(result.pending).toMatchObject({ ok: false, error: { name: 'SessionClosedError' } });
  expect(result.accept).toMatchObject({ ok: false, error: { name: 'SessionClosedError' } });
  // `closed` settled (resolved or rejected) rather than running into the page's `within` bound.
  expect(JSON.stringify(result.closed)).not.toContain('did not settle');
  expect(result.laterSend).toMatchObject({ ok: false, error: { name: 'SessionClosedError' } });
}

test('the session ends when the server stops: a pending receive() rejects with SessionClosedError and session.closed settles', async ({ page }) => {
  test.setTimeout(40_000);
  // Its own server: the test closes it. closeTimeoutMs bounds the graceful close, after
  // which the listener aborts the sessions that still have open channels (ours does).
  const own = await startServer({ closeTimeoutMs: 500 });
  await openPage(page, own.url);
  await holdOpen(page, own.wsUrl!);
  expect(own.openSessions.size).toBe(1);
  expect(own.state.held.size).toBe(1);

  // listenWebSocket's close(): GOAWAY, 500 ms for open channels, then abort.
  await bounded(own.close(), 10_000, 'the fixture server close() (listenWebSocket close())');

  expectSessionEnded(await collectEnd(page));
  expect(own.openSessions.size).toBe(0);
});

test('the session ends when the server closes it with open channels (Session.close with a deadline): the page sees SessionClosedError', async ({ page }) => {
  test.setTimeout(40_000);
  // The same end as above, driven by the server's Session directly rather than by the
  // listener: graceful close, aborted when its signal fires because a channel stays open.
  const own = await startServer();
  await openPage(page, own.url);
  await holdOpen(page, own.wsUrl!);
  const sessions = [...own.openSessions];
  expect(sessions).toHaveLength(1);

  const outcome = await bounded(
    sessions[0]!.close({ signal: AbortSignal.timeout(500) }).then(
      () => 'resolved',
      (error: unknown) => `rejected: ${String(error)}`,
    ),
    10_000,
    'server Session.close({ signal })',
  );
  expect(typeof outcome).toBe('string');

  expectSessionEnded(await collectEnd(page));
  await expect.poll(() => own.openSessions.size, { timeout: 10_000 }).toBe(0);
});

test('the session ends cleanly when the server stops while nothing is open', async ({ page }) => {
  test.setTimeout(40_000);
  const own = await startServer({ closeTimeoutMs: 5_000 });
  await openPage(page, own.url);
  await page.evaluate(async (wsUrl) => {
    const { connectWebSocket, within, settle } = window.libchan;
    const session = await within(10_000, connectWebSocket(wsUrl), 'connectWebSocket');
    window.state.accept = settle(within(25_000, session.accept(), 'pending accept'));
    window.state.closed = settle(within(25_000, session.closed, 'session.closed'));
  }, own.wsUrl!);
  await expect.poll(() => own.openSessions.size, { timeout: 10_000 }).toBe(1);

  await bounded(own.close(), 10_000, 'the fixture server close() (listenWebSocket close())');

  const result = await page.evaluate(async () => {
    const s = window.state as { accept: Promise<unknown>; closed: Promise<unknown> };
    const [accept, closed] = await Promise.all([s.accept, s.closed]);
    return { accept, closed };
  });
  expect(result.accept).toMatchObject({ ok: false, error: { name: 'SessionClosedError' } });
  // A graceful end: nothing was open, so `closed` resolves.
  expect(result.closed).toEqual({ ok: true });
});

test('onHello refuses a browser by its hello: token "bad" is rejected, "ok" works', async ({ page }) => {
  test.setTimeout(30_000);
  const seen: unknown[] = [];
  const guarded = await startServer({
    onHello: (hello: unknown) => {
      seen.push(hello);
      return (hello as { token?: unknown } | undefined)?.token === 'ok';
    },
  });
  await openPage(page, guarded.url);
  const result = await page.evaluate(async (wsUrl) => {
    const { connectWebSocket, pipe, within, settle } = window.libchan;
    const bad = await settle(within(15_000, connectWebSocket(wsUrl, { hello: { token: 'bad' } }), 'connect (bad token)'));
    const none = await settle(within(15_000, connectWebSocket(wsUrl), 'connect (no hello)'));
    const session = await within(10_000, connectWebSocket(wsUrl, { hello: { token: 'ok' } }), 'connect (good token)');
    const requests = await session.openSender<unknown>();
    const [replies, ret] = pipe<string>();
    await requests.send({ op: 'echo', value: 'hello, ok', ret });
    const echoed = await within(10_000, replies.receive(), 'echo reply');
    await requests.close();
    await within(10_000, session.close(), 'session.close');
    return { bad, none, echoed };
  }, guarded.wsUrl!);

  // The refusal is the library's (not our `within` bound): the server refused the handshake.
  const refusal = { ok: false, error: { name: 'SessionClosedError', cause: { name: 'ProtocolError', code: 'REFUSED_BY_PEER' } } };
  expect(result.bad).toMatchObject(refusal);
  expect(result.none).toMatchObject(refusal);
  expect(result.echoed).toBe('hello, ok');
  expect(seen).toEqual([{ token: 'bad' }, undefined, { token: 'ok' }]);
  // onSession ran only for the accepted client.
  expect(guarded.state.sessions).toBe(1);
});

test('a page from another origin (another port on 127.0.0.1) is refused by default; an allowed origin works', async ({ page }) => {
  test.setTimeout(30_000);
  const other = await startServer({ websocket: false }); // serves the page only
  const allowing = await startServer({ origins: [`http://127.0.0.1:${other.port}`] });
  expect(other.origin).not.toBe(server.origin);
  await openPage(page, other.url);
  const sessionsBefore = server.state.sessions;
  const result = await page.evaluate(
    async ({ refusedUrl, allowedUrl }) => {
      const { connectWebSocket, pipe, within, settle } = window.libchan;
      const refused = await settle(within(15_000, connectWebSocket(refusedUrl), 'connect (cross-origin)'));
      const session = await within(10_000, connectWebSocket(allowedUrl), 'connect (allowed origin)');
      const requests = await session.openSender<unknown>();
      const [replies, ret] = pipe<string>();
      await requests.send({ op: 'echo', value: location.origin, ret });
      const echoed = await within(10_000, replies.receive(), 'echo reply');
      await requests.close();
      await within(10_000, session.close(), 'session.close');
      return { refused, echoed, origin: location.origin };
    },
    { refusedUrl: server.wsUrl!, allowedUrl: allowing.wsUrl! },
  );

  expect(result.origin).toBe(other.origin);
  // The upgrade is refused (403), so the socket never opens: no session handshake at all.
  expect(result.refused).toMatchObject({ ok: false, error: { name: 'SessionClosedError', cause: { name: 'WebSocketCloseError' } } });
  expect(server.state.sessions).toBe(sessionsBefore);
  expect(result.echoed).toBe(other.origin);
  expect(allowing.state.sessions).toBe(1);
});
