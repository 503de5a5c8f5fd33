// Browser tests in real Chromium (Debian's /usr/bin/chromium; CHROMIUM_PATH overrides).
// Playwright cannot download its own browsers on our machines: never run
// `playwright install`; `scripts/ensure-chromium.mjs` installs Debian's package instead.
//
// Specs live in `e2e/` (cross-package scenarios) and `apps/*/e2e/` (per-app).
// `node scripts/test-all.mjs` (= `pnpm test`) runs them after the unit tests.
import { defineConfig } from '@playwright/test';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('.', import.meta.url)).replace(/\/$/, '');
const escaped = root.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

export default defineConfig({
  testDir: '.',
  // Only `<root>/e2e/**` and `<root>/apps/<app>/e2e/**`, not every `*.spec.ts` in the tree.
  testMatch: new RegExp(`^${escaped}/(?:e2e|apps/[^/]+/e2e)/.+\\.spec\\.[cm]?ts$`),
  testIgnore: ['**/node_modules/**', '**/dist/**'],
  outputDir: 'test-results/playwright',
  timeout: 30_000,
  expect: { timeout: 5_000 },
  retries: 0,
  // Two cores: at most two browsers at once; tests inside one file run in order.
  workers: 2,
  fullyParallel: false,
  forbidOnly: !!process.env.CI,
  reporter: 'list',
  use: {
    browserName: 'chromium',
    headless: true,
    trace: 'retain-on-failure',
    launchOptions: {
      executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
      // No --disable-quic: WebTransport needs QUIC.
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
    },
  },
  projects: [{ name: 'chromium' }],
});
