// The demo page end to end in real Chromium: start apps/demo/server.mjs on a free
// port, open the page, check what a visitor sees first.
import { test, expect } from '@playwright/test';
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const serverPath = fileURLToPath(new URL('../server.mjs', import.meta.url));

let server: ChildProcess | undefined;
let baseURL = '';

/** Spawn the demo server with PORT=0 and resolve with the URL it prints. */
function startServer(): Promise<{ child: ChildProcess; url: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [serverPath], {
      env: { ...process.env, PORT: '0', HOST: '127.0.0.1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`demo server did not print its URL within 10 s\nstdout: ${out}\nstderr: ${err}`));
    }, 10_000);
    child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
      out += chunk;
      const m = /libchan demo: (http:\/\/\S+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve({ child, url: m[1]! });
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
      reject(new Error(`demo server exited early (code ${code}, signal ${signal})\nstdout: ${out}\nstderr: ${err}`));
    });
  });
}

test.beforeAll(async () => {
  const started = await startServer();
  server = started.child;
  baseURL = started.url;
});

test.afterAll(async () => {
  const child = server;
  server = undefined;
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 3_000);
  await exited;
  clearTimeout(timer);
});

test('demo page loads with its title and heading', async ({ page }) => {
  const response = await page.goto(baseURL);
  expect(response?.status()).toBe(200);
  await expect(page).toHaveTitle('libchan for the web — demo');
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('libchan for the web — demo');
});

test('unknown paths are 404', async ({ request }) => {
  const response = await request.get(new URL('/no-such-page', baseURL).href);
  expect(response.status()).toBe(404);
});
