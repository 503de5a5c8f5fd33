// Tabs talking over BroadcastChannel in real Chromium: two and three pages of one origin in one
// browser context, no server in between (the Node server below only serves the page and bundle).
// Each page runs the BUILT @libchan/core + @libchan/transport-broadcast, bundled by
// e2e/broadcast-fixtures/build.mjs, and is driven through `window.bcTest` (broadcast-fixtures/page.ts).
import { createHash, randomUUID } from 'node:crypto';
import { expect, test, type BrowserContext, type Page } from '@playwright/test';
import { ensureBundle } from './broadcast-fixtures/build.mjs';
import { startPageServer } from '../scripts/page-server.mjs';
import type { BroadcastTestApi } from './broadcast-fixtures/page.js';

declare global {
  interface Window {
    bcTest: BroadcastTestApi;
  }
}

let server: { origin: string; close(): Promise<void> };

test.beforeAll(async () => {
  test.setTimeout(120_000); // a cold vite build
  const { dir } = await ensureBundle();
  server = await startPageServer(dir, 'libchan broadcast e2e');
});

test.afterAll(async () => {
  await server?.close();
});

const channelName = (label: string) => `libchan-e2e-${label}-${randomUUID()}`;

/** A new tab of the shared origin with the bundle loaded; page errors fail the test. */
async function openTab(context: BrowserContext, errors: string[], label: string): Promise<Page> {
  const page = await context.newPage();
  page.on('pageerror', (error) => errors.push(`${label}: ${error.message}`));
  await page.goto(`${server.origin}/`);
  await expect(page.locator('html')).toHaveAttribute('data-bc-test', 'ready', { timeout: 10_000 });
  return page;
}

/** The spec's own copy of page.ts's patternBytes (xorshift32, one byte per step). */
function patternBytes(size: number, seed: number): Uint8Array {
  const out = new Uint8Array(size);
  let x = seed >>> 0 || 0x9e3779b9;
  for (let i = 0; i < size; i++) {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    out[i] = x & 0xff;
  }
  return out;
}

const range = (n: number) => Array.from({ length: n }, (_, i) => i);

test.describe('BroadcastChannel between tabs (Chromium)', () => {
  let errors: string[];
  test.beforeEach(() => {
    errors = [];
  });
  test.afterEach(() => {
    expect(errors, 'uncaught errors in the pages').toEqual([]);
  });

  test('two tabs: request/reply with Ret (Date, Map, BigInt, Uint8Array); a 1,000-value stream', async ({ context }) => {
    test.setTimeout(30_000);
    const name = channelName('ret');
    const a = await openTab(context, errors, 'A');
    const b = await openTab(context, errors, 'B');
    const id = await a.evaluate((n) => window.bcTest.listen(n, { serve: true, hello: 'tab A' }), name);
    expect(await b.evaluate((n) => window.bcTest.listeners(n), name)).toEqual([id]);
    expect(await b.evaluate((n) => window.bcTest.connect(n, { hello: 'tab B' }), name)).toBe('tab A');
    expect(await a.evaluate(() => window.bcTest.waitSessions(1))).toEqual(['tab B']);

    const result = await b.evaluate(() =>
      window.bcTest.echo(0, {
        when: new Date(Date.UTC(2020, 0, 2, 3, 4, 5)),
        map: new Map<string, unknown>([['k', new Set([1, 2])]]),
        big: 12345678901234567890n,
        bytes: new Uint8Array([0, 1, 2, 254, 255]),
        text: 'héllo 😀',
      }),
    );
    expect(result.isDate).toBe(true);
    expect(result.isMap).toBe(true);
    const reply = result.reply as { when: Date; map: Map<string, unknown>; big: bigint; bytes: Uint8Array; text: string };
    expect(reply.when.getTime()).toBe(Date.UTC(2020, 0, 2, 3, 4, 5));
    expect(reply.big).toBe(12345678901234567890n);
    expect(Array.from(reply.bytes)).toEqual([0, 1, 2, 254, 255]);
    expect(reply.text).toBe('héllo 😀');
    expect(result.end).toMatchObject({ name: 'ChannelClosedError', code: 'CLOSED' });

    const values = await b.evaluate(() => window.bcTest.stream(0, 1000, 'v'));
    expect(values).toEqual(range(1000).map((i) => `v${i}`));
  });

  test('a nested channel handed from tab A to tab B streams 1,000 values (a Receiver one way, a Sender the other)', async ({ context }) => {
    test.setTimeout(30_000);
    const name = channelName('nested');
    const a = await openTab(context, errors, 'A');
    const b = await openTab(context, errors, 'B');
    await a.evaluate((n) => window.bcTest.listen(n), name);
    await b.evaluate((n) => window.bcTest.connect(n), name);
    await a.evaluate(() => window.bcTest.waitSessions(1));

    // A hands B a Receiver and streams into it.
    const [, took] = await Promise.all([
      a.evaluate(() => window.bcTest.handReceiver(0, 1000)),
      b.evaluate(() => window.bcTest.takeReceiver(0)),
    ]);
    expect(took.label).toBe('a receiver for you');
    expect(took.isReceiver).toBe(true);
    expect(took.values).toEqual(range(1000));

    // A hands B a Sender; B streams back through it.
    const [back, isSender] = await Promise.all([
      a.evaluate(() => window.bcTest.handSender(0)),
      b.evaluate(() => window.bcTest.takeSender(0, 1000)),
    ]);
    expect(isSender).toBe(true);
    expect(back).toEqual(range(1000));
  });

  test('a byte stream between tabs: sizes and SHA-256 (crypto.subtle) match, both ways', async ({ context }) => {
    test.setTimeout(60_000);
    const name = channelName('bytes');
    const a = await openTab(context, errors, 'A');
    const b = await openTab(context, errors, 'B');
    await a.evaluate((n) => window.bcTest.listen(n), name);
    await b.evaluate((n) => window.bcTest.connect(n), name);
    await a.evaluate(() => window.bcTest.waitSessions(1));

    for (const [from, to, size, chunk, seed] of [
      [b, a, 3 * 1024 * 1024 + 17, 40_000, 7],
      [a, b, 1024 * 1024, 64 * 1024, 8],
    ] as const) {
      const [sent, got] = await Promise.all([
        from.evaluate(([s, c, d]) => window.bcTest.sendBytes(0, s, c, d), [size, chunk, seed] as const),
        to.evaluate(() => window.bcTest.receiveBytes(0)),
      ]);
      const expected = createHash('sha256').update(patternBytes(size, seed)).digest('hex');
      expect(sent).toEqual({ length: size, sha256: expected });
      expect(got.length).toBe(size);
      expect(got.sha256).toBe(expected);
      expect(got.allUint8Array).toBe(true);
      expect(got.chunks).toBeGreaterThan(1);
    }
  });

  for (const closing of ['connector', 'listener'] as const) {
    test(`the ${closing} tab closed mid-stream: the other tab's receive rejects promptly (pagehide goodbye, not the 120 s keep-alive)`, async ({ context }) => {
      test.setTimeout(15_000);
      const name = channelName(`close-${closing}`);
      const listenerTab = await openTab(context, errors, 'listener');
      const connectorTab = await openTab(context, errors, 'connector');
      const slow = { keepAliveMs: 120_000 };
      await listenerTab.evaluate(([n, o]) => window.bcTest.listen(n, o), [name, slow] as const);
      await connectorTab.evaluate(([n, o]) => window.bcTest.connect(n, o), [name, slow] as const);
      await listenerTab.evaluate(() => window.bcTest.waitSessions(1));
      const [gone, survivor] = closing === 'connector' ? [connectorTab, listenerTab] : [listenerTab, connectorTab];

      // The tab that will go away streams ticks; the survivor reads them as they come.
      await survivor.evaluate(() => window.bcTest.startReceiving(0));
      await gone.evaluate(() => window.bcTest.startTicking(0));
      await expect.poll(() => survivor.evaluate(() => window.bcTest.received()), { timeout: 5_000 }).toBeGreaterThanOrEqual(20);

      const closedAt = Date.now();
      await gone.close();
      const failure = await survivor.evaluate(() => window.bcTest.failure(10_000));
      const elapsed = Date.now() - closedAt;
      expect(failure.count).toBeGreaterThanOrEqual(20);
      expect(failure.error?.name).toBe('SessionClosedError');
      expect(elapsed, `the receive rejected ${elapsed} ms after page.close()`).toBeLessThan(5_000);
    });
  }

  test('three tabs: A listens, B and C connect; each session carries only its own values', async ({ context }) => {
    test.setTimeout(30_000);
    const name = channelName('three');
    const a = await openTab(context, errors, 'A');
    const b = await openTab(context, errors, 'B');
    const c = await openTab(context, errors, 'C');
    await a.evaluate((n) => window.bcTest.listen(n, { hello: 'A' }), name);
    expect(await b.evaluate((n) => window.bcTest.connect(n, { hello: 'B' }), name)).toBe('A');
    expect(await c.evaluate((n) => window.bcTest.connect(n, { hello: 'C' }), name)).toBe('A');
    expect((await a.evaluate(() => window.bcTest.waitSessions(2))).sort()).toEqual(['B', 'C']);

    const N = 500;
    const tagged = (tag: string) => range(N).map((i) => `${tag}#${i}`);
    // Everything at once: B→A, C→A, A→B, A→C.
    const [fromB, fromC, atB, atC] = await Promise.all([
      a.evaluate(() => window.bcTest.receiveTagged('B')),
      a.evaluate(() => window.bcTest.receiveTagged('C')),
      b.evaluate(() => window.bcTest.receiveTagged(0)),
      c.evaluate(() => window.bcTest.receiveTagged(0)),
      b.evaluate((n) => window.bcTest.sendTagged(0, 'from-B', n), N),
      c.evaluate((n) => window.bcTest.sendTagged(0, 'from-C', n), N),
      a.evaluate((n) => window.bcTest.sendTagged('B', 'A-to-B', n), N),
      a.evaluate((n) => window.bcTest.sendTagged('C', 'A-to-C', n), N),
    ]);
    expect(fromB).toEqual(tagged('from-B'));
    expect(fromC).toEqual(tagged('from-C'));
    expect(atB).toEqual(tagged('A-to-B'));
    expect(atC).toEqual(tagged('A-to-C'));
    for (const tab of [a, b, c]) expect(await tab.evaluate(() => window.bcTest.noStrayChannels())).toBe(true);
  });
});
