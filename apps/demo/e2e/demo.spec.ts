// The demo page end to end in real Chromium: build the page if apps/demo/dist is
// missing or older than its sources (or the libraries' builds), start
// apps/demo/server.mjs on a free port, and drive every panel the way a visitor
// would: ask, live feed, upload, cross-tab, inspector, phone width, a server
// restart. Screenshots of each panel go to test-results/demo/; with
// UPDATE_SCREENSHOT=1 a full-page screenshot is also written to docs/demo.png.
import { test, expect, type Page } from '@playwright/test';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const demoDir = fileURLToPath(new URL('..', import.meta.url));
const root = join(demoDir, '..', '..');
const serverPath = join(demoDir, 'server.mjs');
const distIndex = join(demoDir, 'dist', 'index.html');
const shotsDir = join(root, 'test-results', 'demo');
const docsShot = join(root, 'docs', 'demo.png');

// Tests share one server and run in order.
test.describe.configure({ mode: 'serial' });

// ---------------------------------------------------------------- build + server

/** Newest mtime (ms) of the files under `path` that pass `keep`. */
function newest(path: string, keep: (file: string) => boolean = () => true): number {
  if (!existsSync(path)) return 0;
  const info = statSync(path);
  if (info.isFile()) return keep(path) ? info.mtimeMs : 0;
  let max = 0;
  for (const entry of readdirSync(path)) {
    if (entry === 'node_modules' || entry === 'dist' || entry === 'e2e') continue;
    max = Math.max(max, newest(join(path, entry), keep));
  }
  return max;
}

/** Builds the page with vite unless dist/ is newer than the page sources and the libraries it bundles. */
function ensureBuilt(): void {
  const built = existsSync(distIndex) ? statSync(distIndex).mtimeMs : 0;
  const sources = Math.max(
    newest(join(demoDir, 'index.html')),
    newest(join(demoDir, 'vite.config.ts')),
    newest(join(demoDir, 'src')),
    newest(join(demoDir, 'public')),
    ...['core', 'transport-ws', 'transport-webtransport', 'transport-broadcast'].map((p) => newest(join(root, 'packages', p, 'dist'), (f) => f.endsWith('.js'))),
  );
  if (built > sources) return;
  const pkg = join(demoDir, 'node_modules', 'vite', 'package.json');
  const vitePkg = existsSync(pkg) ? pkg : join(root, 'node_modules', 'vite', 'package.json');
  const bin = join(dirname(vitePkg), (JSON.parse(readFileSync(vitePkg, 'utf8')) as { bin: { vite: string } }).bin.vite);
  const result = spawnSync(process.execPath, [bin, 'build', demoDir, '--logLevel', 'warn'], { cwd: root, encoding: 'utf8', timeout: 120_000 });
  if (result.status !== 0) {
    throw new Error(`vite build apps/demo failed (status ${result.status}, ${result.error?.message ?? ''})\n${result.stdout}\n${result.stderr}`);
  }
}

interface Server {
  child: ChildProcess;
  url: string;
  /** Everything the server printed so far (its event log included). */
  output: () => string;
}

/** Spawns the demo server and resolves with the URL it prints. */
function startServer(port = 0): Promise<Server> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [serverPath], {
      env: { ...process.env, PORT: String(port), HOST: '127.0.0.1', DEMO_QUIET: '' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    let started = false;
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`demo server did not print its URL within 10 s\nstdout: ${out}\nstderr: ${err}`));
    }, 10_000);
    child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
      out += chunk;
      const m = /libchan demo: (http:\/\/\S+)/.exec(out);
      if (m && !started) {
        started = true;
        clearTimeout(timer);
        resolve({ child, url: m[1]!, output: () => out });
      }
    });
    child.stderr!.setEncoding('utf8').on('data', (chunk: string) => {
      err += chunk;
    });
    child.once('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      if (!started) reject(new Error(`demo server exited early (code ${code}, signal ${signal})\nstdout: ${out}\nstderr: ${err}`));
    });
  });
}

/** SIGTERM, then SIGKILL after 5 s; resolves with the exit code. */
async function stopServer(child: ChildProcess): Promise<number | null> {
  if (child.exitCode !== null || child.signalCode !== null) return child.exitCode;
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
  const code = await exited;
  clearTimeout(timer);
  return code;
}

let server: Server | undefined;
let baseURL = '';

test.beforeAll(async () => {
  test.setTimeout(150_000);
  ensureBuilt();
  server = await startServer();
  baseURL = server.url;
  mkdirSync(shotsDir, { recursive: true });
});

test.afterAll(async () => {
  test.setTimeout(15_000);
  const s = server;
  server = undefined;
  if (s) await stopServer(s.child);
});

// ---------------------------------------------------------------- helpers

/** Opens the page, fails the test on uncaught page errors, waits for the WebSocket session. */
async function open(page: Page): Promise<string[]> {
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  const response = await page.goto(baseURL, { timeout: 10_000 });
  expect(response?.status()).toBe(200);
  await expect(page.getByTestId('conn-state')).toHaveAttribute('data-state', 'open', { timeout: 10_000 });
  return errors;
}

const shot = (page: Page, testid: string, name: string): Promise<Buffer> =>
  page.getByTestId(testid).screenshot({ path: join(shotsDir, `${name}.png`), timeout: 10_000 });

/** A deterministic pseudo-random buffer (xorshift32), so the expected hash is computed here independently. */
function testBytes(size: number): Buffer {
  const buf = Buffer.alloc(size);
  let x = 0x9e3779b9;
  for (let i = 0; i < size; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    buf[i] = x & 0xff;
  }
  return buf;
}

// ---------------------------------------------------------------- tests

test('page loads, connects over WebSocket, and offers WebTransport only when /config.json has it', async ({ page, request }) => {
  test.setTimeout(30_000);
  const errors = await open(page);
  const config = await request.get(new URL('/config.json', baseURL).href, { timeout: 5_000 });
  expect(config.status()).toBe(200);
  expect(config.headers()['content-type']).toContain('application/json');
  const body = (await config.json()) as { ws: string; webtransport: { url: string; certificateHash: string } | null };
  await expect(page).toHaveTitle('libchan for the web — demo');
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('libchan for the web — demo');
  await expect(page.getByTestId('conn-state')).toContainText('connected');
  await expect(page.getByTestId('reconnect')).toBeHidden();
  await expect(page.getByTestId('transport-ws')).toBeChecked();
  if (body.webtransport === null) {
    expect(body).toEqual({ ws: '/chan', webtransport: null });
    await expect(page.getByTestId('transport-wt')).toBeDisabled();
    await expect(page.getByTestId('wt-note')).toContainText('WebTransport is off');
  } else {
    expect(body.ws).toBe('/chan');
    expect(body.webtransport.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+\/chan$/);
    expect(body.webtransport.certificateHash).toMatch(/^[0-9a-f]{64}$/);
    await expect(page.getByTestId('transport-wt')).toBeEnabled();
    await expect(page.getByTestId('wt-note')).toContainText(body.webtransport.url);
  }
  // Every panel is there, with an accessible name.
  for (const name of ['Ask the server', 'Live feed', 'Upload', 'Cross-tab', 'Channel inspector']) {
    await expect(page.getByRole('region', { name })).toBeVisible();
  }
  const missing = await request.get(new URL('/no-such-page', baseURL).href, { timeout: 5_000 });
  expect(missing.status()).toBe(404);
  const traversal = await request.get(new URL('/..%2f..%2fpackage.json', baseURL).href, { timeout: 5_000 });
  expect(traversal.status()).toBe(404);
  const html = await request.get(baseURL, { timeout: 5_000 });
  expect(html.headers()['content-type']).toBe('text/html; charset=utf-8');
  const script = /src="(\/assets\/[^"]+\.js)"/.exec(await html.text())?.[1];
  expect(script).toBeTruthy();
  const js = await request.get(new URL(script!, baseURL).href, { timeout: 5_000 });
  expect(js.headers()['content-type']).toBe('text/javascript; charset=utf-8');
  expect(errors).toEqual([]);
});

test('ask: the answer comes back on the request’s own reply channel', async ({ page }) => {
  test.setTimeout(30_000);
  const errors = await open(page);
  await page.getByTestId('ask-input').fill('never odd or even');
  await page.getByTestId('ask-button').click();
  await expect(page.getByTestId('ask-answer')).toContainText('4 words', { timeout: 10_000 });
  await expect(page.getByTestId('ask-answer')).toContainText('Backwards: “neve ro ddo reven”');
  await expect(page.getByTestId('ask-answer')).toContainText('palindrome');
  await expect(page.getByTestId('ask-meta')).toContainText(/answer #\d+ · server time/);
  // Second question: the first moves to the history.
  await page.getByTestId('ask-input').fill('hello channels');
  await page.keyboard.press('Enter');
  await expect(page.getByTestId('ask-answer')).toContainText('“slennahc olleh”', { timeout: 10_000 });
  await expect(page.getByTestId('ask-history')).toContainText('never odd or even');
  // The inspector saw the reply channel born inside a message of the asks channel.
  const asks = page.locator('[data-testid=inspector-node][data-label=asks]');
  await expect(asks).toHaveCount(1, { timeout: 5_000 });
  const asksId = await asks.getAttribute('data-id');
  await expect(page.locator(`[data-testid=inspector-node][data-parent="${asksId}"][data-direction=receive]`).first()).toBeAttached({ timeout: 5_000 });
  await shot(page, 'panel-ask', 'ask');
  expect(errors).toEqual([]);
});

test('live feed: ticks stream on a nested channel; Stop crosses the wire and the server stops', async ({ page }) => {
  test.setTimeout(40_000);
  const errors = await open(page);
  const before = server!.output();
  await page.getByTestId('feed-start').click();
  await expect(page.getByTestId('feed-state')).toHaveAttribute('data-state', 'running', { timeout: 10_000 });
  await expect.poll(async () => Number(await page.getByTestId('feed-count').textContent()), { timeout: 10_000 }).toBeGreaterThanOrEqual(5);
  await expect(page.getByTestId('feed-value')).toHaveText(/^\d+\.\d\d$/);
  expect(await page.locator('#spark-line').getAttribute('d')).toMatch(/^M[\d.]+ [\d.]+( L[\d.]+ [\d.]+){3,}/);
  // The feed is a channel the server opened inside its reply (a child of the reply channel).
  const ticks = page.locator('[data-testid=inspector-node][data-label="feed ticks"]');
  await expect(ticks).toHaveAttribute('data-state', 'open', { timeout: 5_000 });
  await expect(ticks).not.toHaveAttribute('data-parent', '0');
  await shot(page, 'panel-feed', 'feed-running');

  await page.getByTestId('feed-stop').click();
  await expect(page.getByTestId('feed-state')).toHaveAttribute('data-state', 'stopped', { timeout: 5_000 });
  await expect(page.getByTestId('feed-state')).toContainText('stopped');
  await expect(page.getByTestId('feed-start')).toBeEnabled();
  const stoppedAt = await page.getByTestId('feed-count').textContent();
  // The page's receiver closed: the inspector shows the feed channel ended …
  await expect(ticks).toHaveAttribute('data-state', 'ended', { timeout: 5_000 });
  // … and the server's next send was rejected, so its timer stopped (its own log says so).
  await expect
    .poll(() => server!.output().slice(before.length), { timeout: 5_000 })
    .toMatch(/feed \d+ stopped after \d+ ticks \(ChannelClosedError RECEIVER_CLOSED\)/);
  await page.waitForTimeout(1_000);
  await expect(page.getByTestId('feed-count')).toHaveText(stoppedAt!);
  await shot(page, 'panel-feed', 'feed-stopped');
  expect(errors).toEqual([]);
});

test('upload: a 3 MiB file streams up with flow-controlled progress; size and SHA-256 match', async ({ page }) => {
  test.setTimeout(60_000);
  const errors = await open(page);
  const size = 3 * 1024 * 1024;
  const buffer = testBytes(size);
  const sha256 = createHash('sha256').update(buffer).digest('hex');
  // Record every progress value the page shows (driven by the stream's pull()).
  await page.evaluate(() => {
    const bar = document.querySelector('[data-testid=upload-progress]') as HTMLElement;
    const seen: number[] = [];
    (window as unknown as { progressSeen: number[] }).progressSeen = seen;
    new MutationObserver(() => seen.push(Number(bar.dataset.bytes))).observe(bar, { attributes: true, attributeFilter: ['data-bytes'] });
  });
  await page.getByTestId('upload-input').setInputFiles({ name: 'random-3MiB.bin', mimeType: 'application/octet-stream', buffer }, { timeout: 10_000 });
  await expect(page.getByTestId('upload-size')).toHaveAttribute('data-bytes', String(size), { timeout: 30_000 });
  await expect(page.getByTestId('upload-name')).toHaveText('random-3MiB.bin');
  await expect(page.getByTestId('upload-size')).toContainText('3,145,728 bytes');
  await expect(page.getByTestId('upload-sha256')).toHaveText(sha256);
  await expect(page.getByTestId('upload-local-sha256')).toHaveText(sha256, { timeout: 10_000 });
  await expect(page.getByTestId('upload-match')).toContainText('match ✓');
  await expect(page.getByTestId('upload-match')).toHaveAttribute('data-match', 'true');
  await expect(page.getByTestId('upload-progress')).toHaveJSProperty('value', 100);
  const seen = await page.evaluate(() => (window as unknown as { progressSeen: number[] }).progressSeen);
  const partial = seen.filter((n) => n > 0 && n < size);
  expect(partial.length).toBeGreaterThan(4); // the bar moved in steps as the library pulled
  expect(seen.at(-1)).toBe(size);
  expect([...seen].sort((a, b) => a - b)).toEqual(seen); // never backwards
  await shot(page, 'panel-upload', 'upload');
  expect(errors).toEqual([]);
});

test('WebTransport: the switch reconnects over native HTTP/3 (Deno sidecar); ask, live feed and upload work over it', async ({ page, request }) => {
  test.setTimeout(60_000);
  const config = (await (await request.get(new URL('/config.json', baseURL).href, { timeout: 5_000 })).json()) as {
    webtransport: { url: string; certificateHash: string } | null;
  };
  test.skip(config.webtransport === null, '/config.json says webtransport: null — the Deno sidecar did not start (no deno binary?), so there is nothing to switch to');
  const errors = await open(page);
  const before = server!.output();
  await page.locator('label[for=transport-wt]').click();
  await expect(page.getByTestId('transport-wt')).toBeChecked();
  await expect(page.getByTestId('conn-state')).toHaveAttribute('data-state', 'open', { timeout: 15_000 });
  await expect(page.getByTestId('conn-state')).toContainText(`WebTransport ${config.webtransport!.url}`);
  // The inspector shows the WebTransport session (and no longer the WebSocket one).
  const session = page.locator('[data-testid=inspector-session][data-key=wt]');
  await expect(session).toHaveAttribute('data-state', 'open', { timeout: 5_000 });
  await expect(page.locator('[data-testid=inspector-session][data-key=ws]')).toHaveCount(0);
  await expect(page.locator('[data-testid=inspector-node][data-label=asks]')).toHaveAttribute('data-parent', '0', { timeout: 5_000 });
  await expect.poll(() => server!.output().slice(before.length), { timeout: 5_000 }).toMatch(/wt session \d+ open over WebTransport/);

  // Ask.
  await page.getByTestId('ask-input').fill('step on no pets');
  await page.getByTestId('ask-button').click();
  await expect(page.getByTestId('ask-answer')).toContainText('“step on no pets”', { timeout: 10_000 });
  await expect(page.getByTestId('ask-answer')).toContainText('palindrome');
  await expect(page.getByTestId('ask-meta')).toContainText(/answer #\d+ · server time/);

  // Live feed: start, ticks, stop crosses the wire.
  await page.getByTestId('feed-start').click();
  await expect(page.getByTestId('feed-state')).toHaveAttribute('data-state', 'running', { timeout: 10_000 });
  await expect.poll(async () => Number(await page.getByTestId('feed-count').textContent()), { timeout: 10_000 }).toBeGreaterThanOrEqual(3);
  const ticks = page.locator('[data-testid=inspector-node][data-label="feed ticks"]');
  await expect(ticks).toHaveAttribute('data-state', 'open', { timeout: 5_000 });
  await page.getByTestId('feed-stop').click();
  await expect(page.getByTestId('feed-state')).toHaveAttribute('data-state', 'stopped', { timeout: 5_000 });
  await expect(ticks).toHaveAttribute('data-state', 'ended', { timeout: 5_000 });
  await expect
    .poll(() => server!.output().slice(before.length), { timeout: 5_000 })
    .toMatch(/wt session \d+: feed \d+ stopped after \d+ ticks \(ChannelClosedError RECEIVER_CLOSED\)/);

  // A small upload: size and SHA-256 match.
  const size = 300 * 1024;
  const buffer = testBytes(size);
  const sha256 = createHash('sha256').update(buffer).digest('hex');
  await page.getByTestId('upload-input').setInputFiles({ name: 'small-over-wt.bin', mimeType: 'application/octet-stream', buffer }, { timeout: 10_000 });
  await expect(page.getByTestId('upload-size')).toHaveAttribute('data-bytes', String(size), { timeout: 20_000 });
  await expect(page.getByTestId('upload-sha256')).toHaveText(sha256);
  await expect(page.getByTestId('upload-match')).toHaveAttribute('data-match', 'true', { timeout: 10_000 });
  await expect(page.locator('[data-testid=inspector-node][data-label="file bytes"]')).toHaveAttribute('data-kind', 'bytes', { timeout: 5_000 });
  expect(server!.output().slice(before.length)).toMatch(/wt session \d+: upload \d+ "small-over-wt\.bin" 307200 bytes/);
  await shot(page, 'panel-inspector', 'inspector-webtransport');

  // And back: the switch returns to WebSocket.
  await page.locator('label[for=transport-ws]').click();
  await expect(page.getByTestId('transport-ws')).toBeChecked();
  await expect(page.getByTestId('conn-state')).toContainText('WebSocket /chan', { timeout: 10_000 });
  await expect(page.locator('[data-testid=inspector-session][data-key=ws]')).toHaveAttribute('data-state', 'open', { timeout: 5_000 });
  await page.getByTestId('ask-input').fill('back on sockets');
  await page.getByTestId('ask-button').click();
  await expect(page.getByTestId('ask-answer')).toContainText('“stekcos no kcab”', { timeout: 10_000 });
  expect(errors).toEqual([]);
});

test('cross-tab: two tabs find each other over BroadcastChannel; a message carries a Ret and “seen by” comes back', async ({ context }) => {
  test.setTimeout(45_000);
  const a = await context.newPage();
  const b = await context.newPage();
  const errorsA = await open(a);
  const errorsB = await open(b);
  const nameA = (await a.getByTestId('tab-name').textContent())!;
  const nameB = (await b.getByTestId('tab-name').textContent())!;
  const idB = (await b.getByTestId('tab-name').getAttribute('data-id'))!;
  expect(nameA).toMatch(/^[a-z]+-[a-z]+$/);
  expect(idB.startsWith(nameB)).toBe(true);
  await expect(a.getByTestId('xtab-open')).toContainText('Open this page in a second tab');

  await a.getByTestId('xtab-find').click();
  const item = a.locator(`[data-testid=xtab-item][data-tab-id="${idB}"]`);
  await expect(item).toBeVisible({ timeout: 5_000 });
  await expect(item).toContainText(nameB);
  // A tab does not list itself.
  const idA = (await a.getByTestId('tab-name').getAttribute('data-id'))!;
  await expect(a.locator(`[data-testid=xtab-item][data-tab-id="${idA}"]`)).toHaveCount(0);
  await item.getByTestId('xtab-connect').click();
  await expect(item.getByTestId('xtab-connected')).toBeVisible({ timeout: 10_000 });

  await a.getByTestId('xtab-input').fill('hello from the first tab');
  await a.getByTestId('xtab-send').click();
  await expect(b.getByTestId('xtab-inbox')).toContainText('hello from the first tab', { timeout: 10_000 });
  await expect(b.getByTestId('xtab-inbox')).toContainText(`from ${nameA}`);
  await expect(a.getByTestId('xtab-reply').first()).toHaveText(`↩ seen by ${nameB}`, { timeout: 10_000 });

  // Both inspectors show the tab-to-tab session next to the WebSocket one.
  await expect(a.locator('[data-testid=inspector-session]')).toHaveCount(2, { timeout: 5_000 });
  await expect(b.locator('[data-testid=inspector-session]')).toHaveCount(2, { timeout: 5_000 });
  await expect(a.locator('[data-testid=inspector-session][data-key^=bc-out]')).toHaveAttribute('data-state', 'open');
  await expect(b.locator('[data-testid=inspector-session][data-key^=bc-in]')).toHaveAttribute('data-state', 'open');
  await expect(a.locator('[data-testid=inspector-node][data-label=messages]')).toHaveAttribute('data-messages', '1', { timeout: 5_000 });

  await shot(a, 'panel-crosstab', 'crosstab-sender');
  await shot(b, 'panel-crosstab', 'crosstab-receiver');

  // Closing the other tab ends the session (pagehide goodbye).
  await b.close({ runBeforeUnload: true });
  await expect(a.getByTestId('xtab-find-state')).toContainText('went away', { timeout: 10_000 });
  expect(errorsA).toEqual([]);
  expect(errorsB).toEqual([]);
});

test('inspector: one node per stream, trees under their session, ended streams greyed then gone', async ({ page }) => {
  test.setTimeout(40_000);
  const errors = await open(page);
  const session = page.locator('[data-testid=inspector-session][data-key=ws]');
  await expect(session).toHaveAttribute('data-state', 'open', { timeout: 5_000 });
  for (const label of ['asks', 'feed requests', 'uploads']) {
    const node = page.locator(`[data-testid=inspector-node][data-label="${label}"]`);
    await expect(node).toHaveAttribute('data-parent', '0', { timeout: 5_000 });
    await expect(node).toHaveAttribute('data-kind', 'channel');
    await expect(node).toHaveAttribute('data-direction', 'send');
  }
  await expect(page.getByTestId('inspector-summary')).toContainText('1 session · 3 open streams');

  // An upload: a byte stream and a reply channel, both children of the uploads channel.
  await page.getByTestId('upload-sample').click();
  await expect(page.getByTestId('upload-match')).toContainText('match ✓', { timeout: 30_000 });
  const uploadsId = await page.locator('[data-testid=inspector-node][data-label=uploads]').getAttribute('data-id');
  const bytes = page.locator(`[data-testid=inspector-node][data-kind=bytes][data-parent="${uploadsId}"]`);
  await expect(bytes).toHaveCount(1, { timeout: 5_000 });
  await expect(bytes).toHaveAttribute('data-direction', 'send');
  await expect(page.locator(`[data-testid=inspector-node][data-kind=channel][data-parent="${uploadsId}"]`)).toHaveCount(1);
  await expect(bytes).toHaveAttribute('data-state', 'ended', { timeout: 5_000 });
  await expect(page.locator('.inspector .edge').first()).toBeAttached();
  await shot(page, 'panel-inspector', 'inspector');
  // Ended streams are kept for a few seconds, then dropped.
  await expect(bytes).toHaveCount(0, { timeout: 10_000 });
  await expect(page.getByTestId('inspector-summary')).toContainText('0 recently ended', { timeout: 10_000 });
  expect(errors).toEqual([]);
});

test('phone width: one column, nothing wider than the screen, every panel usable', async ({ browser }) => {
  test.setTimeout(40_000);
  const context = await browser.newContext({ viewport: { width: 390, height: 844 }, deviceScaleFactor: 2, hasTouch: true, isMobile: true });
  try {
    const page = await context.newPage();
    const errors = await open(page);
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390);
    const xs = await Promise.all(
      ['panel-ask', 'panel-feed', 'panel-upload', 'panel-crosstab', 'panel-inspector'].map(async (id) => (await page.getByTestId(id).boundingBox())!.x),
    );
    expect(new Set(xs.map(Math.round)).size).toBe(1);
    await page.getByTestId('ask-input').fill('tiny screen');
    await page.getByTestId('ask-button').tap();
    await expect(page.getByTestId('ask-answer')).toContainText('“neercs ynit”', { timeout: 10_000 });
    await page.getByTestId('feed-start').tap();
    await expect.poll(async () => Number(await page.getByTestId('feed-count').textContent()), { timeout: 10_000 }).toBeGreaterThanOrEqual(3);
    await page.waitForTimeout(400);
    await page.screenshot({ path: join(shotsDir, 'phone.png'), fullPage: true, timeout: 10_000 });
    await page.getByTestId('feed-stop').tap();
    expect(errors).toEqual([]);
  } finally {
    await context.close();
  }
});

test('full-page screenshot (docs/demo.png with UPDATE_SCREENSHOT=1)', async ({ context }) => {
  test.setTimeout(60_000);
  const page = await context.newPage();
  await page.setViewportSize({ width: 1280, height: 900 });
  const errors = await open(page);
  const other = await context.newPage();
  await open(other);
  await page.getByTestId('ask-input').fill('was it a car or a cat I saw');
  await page.getByTestId('ask-button').click();
  await expect(page.getByTestId('ask-answer')).toContainText('palindrome', { timeout: 10_000 });
  await page.getByTestId('feed-start').click();
  const otherId = (await other.getByTestId('tab-name').getAttribute('data-id'))!;
  await page.getByTestId('xtab-find').click();
  await page.locator(`[data-testid=xtab-item][data-tab-id="${otherId}"]`).getByTestId('xtab-connect').click();
  await page.getByTestId('xtab-input').fill('hi, other tab!');
  await page.getByTestId('xtab-send').click();
  await expect(page.getByTestId('xtab-reply').first()).toContainText('seen by', { timeout: 10_000 });
  // And back the other way, so both logs have something.
  const pageId = (await page.getByTestId('tab-name').getAttribute('data-id'))!;
  await other.getByTestId('xtab-find').click();
  await other.locator(`[data-testid=xtab-item][data-tab-id="${pageId}"]`).getByTestId('xtab-connect').click();
  await other.getByTestId('xtab-input').fill('hello back — no server involved');
  await other.getByTestId('xtab-send').click();
  await expect(page.getByTestId('xtab-inbox')).toContainText('hello back', { timeout: 10_000 });
  await expect(other.getByTestId('xtab-reply').first()).toContainText('seen by', { timeout: 10_000 });
  await expect.poll(async () => Number(await page.getByTestId('feed-count').textContent()), { timeout: 20_000 }).toBeGreaterThanOrEqual(40);
  // Last, so their short-lived channels are still on the inspector (greyed) in the picture.
  await page.getByTestId('upload-input').setInputFiles({ name: 'holiday-photos.zip', mimeType: 'application/zip', buffer: testBytes(5 * 1024 * 1024) });
  await expect(page.getByTestId('upload-match')).toContainText('match ✓', { timeout: 30_000 });
  await page.getByTestId('ask-input').fill('hello libchan');
  await page.getByTestId('ask-button').click();
  await expect(page.getByTestId('ask-answer')).toContainText('nahcbil olleh', { timeout: 10_000 });
  await page.getByTestId('ask-input').blur();
  await page.mouse.move(0, 0);
  await page.screenshot({ path: join(shotsDir, 'full.png'), fullPage: true, timeout: 10_000 });
  if (process.env.UPDATE_SCREENSHOT === '1') {
    mkdirSync(dirname(docsShot), { recursive: true });
    await page.screenshot({ path: docsShot, fullPage: true, timeout: 10_000 });
  }
  await page.getByTestId('feed-stop').click();
  expect(errors).toEqual([]);
});

test('server restart: the page shows the lost session, then Reconnect brings every panel back', async ({ page }) => {
  test.setTimeout(60_000);
  const errors = await open(page);
  const port = Number(new URL(baseURL).port);
  // Graceful shutdown on SIGTERM: exit code 0.
  expect(await stopServer(server!.child)).toBe(0);
  await expect(page.getByTestId('conn-state')).toHaveAttribute('data-state', /closed|failed/, { timeout: 10_000 });
  await expect(page.getByTestId('reconnect')).toBeVisible();
  await expect(page.getByTestId('ask-button')).toBeDisabled();
  await expect(page.locator('[data-testid=inspector-session][data-key=ws]')).toHaveAttribute('data-state', /closed|failed/, { timeout: 5_000 });
  await shot(page, 'panel-inspector', 'inspector-closed');

  server = await startServer(port);
  await page.getByTestId('reconnect').click();
  await expect(page.getByTestId('conn-state')).toHaveAttribute('data-state', 'open', { timeout: 10_000 });
  await expect(page.getByTestId('reconnect')).toBeHidden();
  await page.getByTestId('ask-input').fill('back again');
  await page.getByTestId('ask-button').click();
  await expect(page.getByTestId('ask-answer')).toContainText('“niaga kcab”', { timeout: 10_000 });
  await expect(page.getByTestId('ask-meta')).toContainText('answer #1 ');
  expect(errors).toEqual([]);
});
