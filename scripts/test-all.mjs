#!/usr/bin/env node
// Runs every test suite of the repository and prints one closing line:
//
//   N passed, N failed
//
// (the sum over suites), after each suite's own output. Exits non-zero if any test
// failed, or if a suite crashed, timed out or ran zero tests (each such suite counts
// as 1 failed, so a broken suite can never look green).
//
// Suites:
//   vitest      unit tests, packages/*/test/**/*.test.ts      → test-results/vitest.json
//   playwright  browser specs in e2e/ and apps/*/e2e/ (only if any exist; real Chromium,
//               see scripts/ensure-chromium.mjs)               → test-results/playwright.json
//
// Environment:
//   TEST_SUITE_TIMEOUT_S  per-suite watchdog in seconds (default 600); a suite still running
//                         then is killed (with its whole process group) and counts as failed.
//
// `npx -y pnpm@12.4.2 test` builds the packages (tsc -b) and then runs this script.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { findSpecs } from './ensure-chromium.mjs';

const root = fileURLToPath(new URL('..', import.meta.url));
process.chdir(root);
const resultsDir = join(root, 'test-results');
const bin = (name) => join(root, 'node_modules', '.bin', name);
const timeoutS = Number(process.env.TEST_SUITE_TIMEOUT_S) > 0 ? Number(process.env.TEST_SUITE_TIMEOUT_S) : 600;

/** @type {{ name: string; passed: number; failed: number; notes: string[] }[]} */
const results = [];

let current = null; // the running child, for signal forwarding
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
  process.on(signal, () => {
    if (current?.pid) killGroup(current.pid, signal);
    console.error(`\ntest-all: interrupted by ${signal}`);
    process.exit(128 + ({ SIGINT: 2, SIGTERM: 15, SIGHUP: 1 }[signal] ?? 1));
  });
}

function killGroup(pid, signal) {
  try {
    process.kill(-pid, signal); // the child leads its own process group (detached)
  } catch {
    try {
      process.kill(pid, signal);
    } catch {
      /* already gone */
    }
  }
}

/**
 * Run a command with its output streamed to ours, in its own process group so a
 * timeout can kill everything it started (servers, browsers, workers).
 * Resolves { code, signal, timedOut, error }.
 */
function run(command, args, env = {}) {
  return new Promise((resolve) => {
    console.log(`\n$ ${[command.replace(root, ''), ...args].join(' ')}`);
    let child;
    try {
      child = spawn(command, args, {
        cwd: root,
        env: { ...process.env, ...env },
        stdio: ['ignore', 'inherit', 'inherit'],
        detached: true,
      });
    } catch (error) {
      resolve({ code: null, signal: null, timedOut: false, error });
      return;
    }
    current = child;
    let timedOut = false;
    let killTimer;
    const timer = setTimeout(() => {
      timedOut = true;
      console.error(`\ntest-all: ${command} still running after ${timeoutS} s; killing it`);
      killGroup(child.pid, 'SIGTERM');
      killTimer = setTimeout(() => killGroup(child.pid, 'SIGKILL'), 5_000);
    }, timeoutS * 1000);
    let spawnError;
    child.once('error', (error) => {
      spawnError = error;
    });
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      clearTimeout(killTimer);
      current = null;
      // Leave nothing behind: servers or browsers a suite forgot to stop.
      if (child.pid) killGroup(child.pid, 'SIGKILL');
      resolve({ code, signal, timedOut, error: spawnError });
    });
  });
}

/** Parse a JSON report; undefined if missing or unreadable (a crashed suite). */
function readReport(path) {
  try {
    const data = JSON.parse(readFileSync(path, 'utf8'));
    return data !== null && typeof data === 'object' ? data : undefined;
  } catch {
    return undefined;
  }
}

const num = (x) => (Number.isFinite(x) && x >= 0 ? Math.trunc(x) : 0);

function describeExit({ code, signal, timedOut, error }) {
  if (error) return `could not start: ${error.message}`;
  if (timedOut) return `timed out after ${timeoutS} s`;
  if (signal) return `killed by ${signal}`;
  return `exit code ${code}`;
}

/** Turn a suite's counts and exit status into a result; a broken suite counts 1 failed. */
function settle(name, exit, passed, failed, notes, report) {
  const ok = exit.code === 0 && !exit.timedOut && !exit.error;
  if (report === undefined) {
    notes.push(`no readable JSON report (${describeExit(exit)})`);
    return { name, passed: 0, failed: 1, notes };
  }
  if (exit.timedOut || exit.error) {
    notes.push(describeExit(exit));
    failed += 1;
  } else if (!ok && failed === 0) {
    notes.push(`exited with ${describeExit(exit)} but reported no failed test`);
    failed = 1;
  } else if (passed + failed === 0) {
    notes.push('ran zero tests');
    failed = 1;
  }
  return { name, passed, failed, notes };
}

async function vitest() {
  const out = join(resultsDir, 'vitest.json');
  rmSync(out, { force: true });
  const exit = await run(bin('vitest'), [
    'run',
    '--reporter=default',
    '--reporter=json',
    `--outputFile=${join('test-results', 'vitest.json')}`,
  ]);
  const report = readReport(out);
  const notes = [];
  let passed = 0;
  let failed = 0;
  if (report) {
    passed = num(report.numPassedTests);
    failed = num(report.numFailedTests);
    // A file that fails to import, or whose beforeAll throws, fails without any failed test.
    const files = Array.isArray(report.testResults) ? report.testResults : [];
    for (const file of files) {
      const assertions = Array.isArray(file?.assertionResults) ? file.assertionResults : [];
      if (file?.status === 'failed' && !assertions.some((a) => a?.status === 'failed')) {
        failed += 1;
        notes.push(`suite failed: ${String(file.name ?? '?').replace(root, '')}`);
      }
    }
    if (report.success === false && failed === 0) {
      notes.push(passed === 0 ? 'ran zero tests (no test files?)' : 'vitest reported failure (unhandled error?)');
      failed = 1;
    }
  }
  return settle('vitest', exit, passed, failed, notes, report);
}

async function playwright(specs) {
  const out = join(resultsDir, 'playwright.json');
  rmSync(out, { force: true });
  const ensure = spawnSync(process.execPath, [join(root, 'scripts', 'ensure-chromium.mjs')], {
    cwd: root,
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  if (ensure.status !== 0) {
    return { name: 'playwright', passed: 0, failed: 1, notes: ['Chromium is missing (see scripts/ensure-chromium.mjs above)'] };
  }
  const exit = await run(bin('playwright'), ['test', '--reporter=list,json'], {
    PLAYWRIGHT_JSON_OUTPUT_FILE: out,
    PLAYWRIGHT_JSON_OUTPUT_NAME: out,
  });
  const report = readReport(out);
  const notes = [];
  let passed = 0;
  let failed = 0;
  if (report) {
    const stats = report.stats ?? {};
    const flaky = num(stats.flaky);
    passed = num(stats.expected) + flaky;
    failed = num(stats.unexpected);
    if (flaky > 0) {
      notes.push(`WARNING: ${flaky} flaky test(s) passed only on retry`);
      console.warn(`\ntest-all: WARNING: ${flaky} flaky Playwright test(s) counted as passed; fix them.`);
    }
    // Errors outside any test: a spec that fails to load, a bad config, a global setup throw.
    const errors = Array.isArray(report.errors) ? report.errors : [];
    if (errors.length > 0) {
      failed += errors.length;
      notes.push(`${errors.length} error(s) outside tests`);
    }
  }
  if (specs.length > 0 && report && passed + failed === 0) notes.push(`${specs.length} spec file(s) found`);
  return settle('playwright', exit, passed, failed, notes, report);
}

mkdirSync(resultsDir, { recursive: true });

results.push(await vitest());

const specs = findSpecs(root);
if (specs.length > 0) {
  results.push(await playwright(specs));
} else {
  console.log('\n(no Playwright specs under e2e/ or apps/*/e2e/: browser suite skipped)');
}

const passed = results.reduce((n, r) => n + r.passed, 0);
const failed = results.reduce((n, r) => n + r.failed, 0);

console.log('\n── test-all summary ──');
for (const r of results) {
  const mark = r.failed > 0 ? '✗' : '✓';
  console.log(`  ${mark} ${r.name.padEnd(10)} ${r.passed} ok / ${r.failed} not ok${r.notes.length ? `  (${r.notes.join('; ')})` : ''}`);
}
if (!existsSync(bin('vitest')) || (specs.length > 0 && !existsSync(bin('playwright')))) {
  console.log('  (tools missing from node_modules/.bin: run `npx -y pnpm@12.4.2 install` first)');
}
// The closing line: nothing may be printed after it.
console.log(`${passed} passed, ${failed} failed`);
process.exitCode = failed > 0 ? 1 : 0;
