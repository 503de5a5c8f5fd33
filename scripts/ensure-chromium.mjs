#!/usr/bin/env node
// Makes sure the Chromium that Playwright launches exists, when there are browser specs.
//
//   node scripts/ensure-chromium.mjs
//
// - No `*.spec.ts` under `e2e/` or `apps/*/e2e/`: nothing to do, exit 0.
// - `CHROMIUM_PATH` (or `/usr/bin/chromium`) is executable: exit 0.
// - Missing and we are root on Debian: `apt-get update && apt-get install -y chromium`.
// - Otherwise: print how to install it and exit 1.
//
// Playwright cannot download its own browsers on our machines (no `playwright install`):
// playwright.config.ts points `executablePath` at Debian's Chromium instead.
import { accessSync, constants, existsSync, readdirSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const DEFAULT_PATH = '/usr/bin/chromium';

/** Every `*.spec.ts` (or .mts/.cts) under `e2e/` and `apps/*\/e2e/`, relative to the root. */
export function findSpecs(base = root) {
  const dirs = ['e2e'];
  const apps = join(base, 'apps');
  if (existsSync(apps)) {
    for (const entry of readdirSync(apps, { withFileTypes: true })) {
      if (entry.isDirectory()) dirs.push(join('apps', entry.name, 'e2e'));
    }
  }
  const specs = [];
  const walk = (rel) => {
    let entries;
    try {
      entries = readdirSync(join(base, rel), { withFileTypes: true });
    } catch {
      return;
    }
    for (const entry of entries) {
      if (entry.name === 'node_modules' || entry.name === 'dist') continue;
      const child = join(rel, entry.name);
      if (entry.isDirectory()) walk(child);
      else if (/\.spec\.[cm]?ts$/.test(entry.name)) specs.push(child);
    }
  };
  for (const dir of dirs) walk(dir);
  return specs.sort();
}

function isExecutable(path) {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

const howTo = `
  Debian/Ubuntu:  sudo apt-get update && sudo apt-get install -y chromium
  Elsewhere:      install Chromium or Chrome and point CHROMIUM_PATH at its binary, e.g.
                  CHROMIUM_PATH="/Applications/Chromium.app/Contents/MacOS/Chromium" npx -y pnpm@12.4.2 test
  (Do not run \`playwright install\`: browser downloads are not reachable from our machines.)`;

function main() {
  const specs = findSpecs();
  if (specs.length === 0) {
    console.log('ensure-chromium: no Playwright specs under e2e/ or apps/*/e2e/; nothing to do.');
    return 0;
  }
  const fromEnv = process.env.CHROMIUM_PATH;
  const path = fromEnv || DEFAULT_PATH;
  if (isExecutable(path)) {
    console.log(`ensure-chromium: using ${path}`);
    return 0;
  }
  if (fromEnv) {
    console.error(`ensure-chromium: CHROMIUM_PATH=${fromEnv} is not an executable file.`);
    console.error(`Fix CHROMIUM_PATH, or unset it to use ${DEFAULT_PATH}:${howTo}`);
    return 1;
  }
  const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
  const hasApt = isExecutable('/usr/bin/apt-get');
  if (!isRoot || !hasApt) {
    console.error(`ensure-chromium: ${path} is missing, and ${specs.length} Playwright spec(s) need it.`);
    console.error(`Install Chromium, then run the tests again:${howTo}`);
    return 1;
  }
  console.log(`ensure-chromium: ${path} is missing; installing Debian's chromium (apt-get) ...`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  for (const args of [['update'], ['install', '-y', 'chromium']]) {
    const r = spawnSync('apt-get', args, { stdio: 'inherit', env });
    if (r.status !== 0) {
      console.error(`ensure-chromium: \`apt-get ${args.join(' ')}\` failed (${r.error?.message ?? `exit ${r.status ?? r.signal}`}).`);
      console.error(`Install Chromium by hand:${howTo}`);
      return 1;
    }
  }
  if (!isExecutable(path)) {
    console.error(`ensure-chromium: apt-get finished but ${path} is still missing.${howTo}`);
    return 1;
  }
  console.log(`ensure-chromium: installed ${path}`);
  return 0;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  process.exitCode = main();
}
