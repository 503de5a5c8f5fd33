#!/usr/bin/env node
// The benchmark runner (`pnpm bench`). Builds @libchan/core, then runs every suite in
// bench/suites/*.mjs — each in its own Node process (cold JIT, `--expose-gc`) — and
// prints one Markdown table per suite, then the machine it ran on.
//
//   node bench/run.mjs [filter…] [options]
//
//   filter…           run only suites whose name contains one of these substrings
//   --json FILE       also write every result (samples included) as JSON
//   --rounds N        timed rounds per case (default 5); the table shows their median
//   --warmup N        untimed warm-up rounds per case (default 1)
//   --quick           a smoke run: 1/10 of the operations, 3 rounds (numbers are rough)
//   --timeout S       per-suite watchdog in seconds (default 300)
//   --no-build        skip `tsc -b packages/core packages/transport-ws` (use the dist/ already there)
//   --in-process      run suites in this process (for debugging with --inspect)
//   --list            print the suites and exit
//
// A suite is a module exporting `name` and `async run(report)`; see bench/lib/report.mjs
// for the report API (measure/record, baselines and ratios, targets, notes) and
// bench/lib/child.mjs for spawning a server in a child process.
import { fork, spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { machineInfo } from './lib/machine.mjs';
import { Report, withRatios } from './lib/report.mjs';
import { renderTable } from './lib/table.mjs';

const root = fileURLToPath(new URL('..', import.meta.url));
const suitesDir = join(root, 'bench', 'suites');

function parseArgs(argv) {
  const opts = { filters: [], json: undefined, rounds: 5, warmup: 1, quick: false, timeoutS: 300, build: true, inProcess: false, list: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const value = () => {
      const v = argv[++i];
      if (v === undefined) fail(`${a} needs a value`);
      return v;
    };
    const count = (min) => {
      const n = Number(value());
      if (!Number.isInteger(n) || n < min) fail(`${a} needs an integer ≥ ${min}`);
      return n;
    };
    if (a === '--json') opts.json = resolve(value());
    else if (a.startsWith('--json=')) opts.json = resolve(a.slice(7));
    else if (a === '--rounds') opts.rounds = count(1);
    else if (a === '--warmup') opts.warmup = count(0);
    else if (a === '--timeout') opts.timeoutS = count(1);
    else if (a === '--quick') opts.quick = true;
    else if (a === '--no-build') opts.build = false;
    else if (a === '--in-process') opts.inProcess = true;
    else if (a === '--list') opts.list = true;
    else if (a === '--help' || a === '-h') {
      const text = readHeader();
      console.log(text);
      process.exit(0);
    } else if (a.startsWith('--')) fail(`unknown option ${a} (see --help)`);
    else opts.filters.push(a);
  }
  if (opts.quick && !argv.includes('--rounds')) opts.rounds = 3;
  return opts;
}

function readHeader() {
  const lines = [];
  for (const line of readFileSync(fileURLToPath(import.meta.url), 'utf8').split('\n').slice(1)) {
    if (!line.startsWith('//')) break;
    lines.push(line.replace(/^\/\/ ?/, ''));
  }
  return lines.join('\n');
}

function fail(message) {
  console.error(`bench: ${message}`);
  process.exit(2);
}

function build() {
  const tsc = join(root, 'node_modules', '.bin', process.platform === 'win32' ? 'tsc.cmd' : 'tsc');
  if (!existsSync(tsc)) fail(`${tsc} not found — run \`npx -y pnpm@12.4.2 install\` first`);
  // transport-ws for the ws suite (it imports packages/transport-ws/dist).
  const projects = ['packages/core', 'packages/transport-ws'];
  process.stderr.write(`bench: building ${projects.join(' ')} (tsc -b)…\n`);
  const r = spawnSync(tsc, ['-b', ...projects], { cwd: root, stdio: 'inherit' });
  if (r.status !== 0) fail(`tsc -b ${projects.join(' ')} failed (exit ${r.status ?? r.signal}); fix the build or pass --no-build`);
}

/** The commit measured, and whether packages/ had uncommitted changes (the numbers then describe the working tree). */
function gitRevision() {
  const git = (...args) => spawnSync('git', args, { cwd: root, encoding: 'utf8' });
  const head = git('rev-parse', '--short', 'HEAD');
  if (head.status !== 0) return 'unknown (not a git checkout)';
  const dirty = git('status', '--porcelain', '--', 'packages').stdout.trim() !== '';
  return `${head.stdout.trim()}${dirty ? ' + uncommitted changes in packages/' : ''}`;
}

async function discover() {
  const files = readdirSync(suitesDir)
    .filter((f) => f.endsWith('.mjs'))
    .sort()
    .map((f) => join(suitesDir, f));
  const suites = [];
  for (const file of files) {
    let name = basename(file, '.mjs');
    try {
      const mod = await import(pathToFileURL(file).href);
      if (typeof mod.name === 'string') name = mod.name;
      if (typeof mod.run !== 'function') fail(`${file} exports no run(report)`);
    } catch (error) {
      // Report it as that suite's failure rather than stopping every suite.
      suites.push({ file, name, loadError: String(error?.stack ?? error) });
      continue;
    }
    suites.push({ file, name });
  }
  return suites;
}

let current; // the running suite process, for signal forwarding
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.on(signal, () => {
    current?.kill('SIGKILL');
    console.error(`\nbench: interrupted by ${signal}`);
    process.exit(130);
  });
}

/** Runs one suite in a child process; resolves { rows, notes, error }. */
function runForked(suite, suiteOptions, timeoutS) {
  return new Promise((resolveRun) => {
    const rows = [];
    const notes = [];
    let error;
    let finished = false;
    const child = fork(join(root, 'bench', 'lib', 'suite-child.mjs'), [suite.file, JSON.stringify(suiteOptions)], {
      cwd: root,
      execArgv: ['--expose-gc'],
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    current = child;
    const timer = setTimeout(() => {
      error = `timed out after ${timeoutS} s`;
      child.kill('SIGKILL');
    }, timeoutS * 1000);
    child.on('message', (msg) => {
      if (msg.type === 'row') rows.push(msg.row);
      else if (msg.type === 'note') notes.push(msg.text);
      else if (msg.type === 'error') error = msg.message;
      else if (msg.type === 'done') finished = true;
    });
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      current = undefined;
      if (!finished && error === undefined) error = `suite process exited (code ${code}, signal ${signal}) before finishing`;
      resolveRun({ rows, notes, error });
    });
  });
}

async function runInProcess(suite, suiteOptions) {
  const mod = await import(pathToFileURL(suite.file).href);
  const report = new Report(mod.name ?? suite.name, suiteOptions);
  try {
    await mod.run(report);
    return { rows: report.rows, notes: report.notes, error: undefined };
  } catch (error) {
    return { rows: report.rows, notes: report.notes, error: String(error?.stack ?? error) };
  }
}

const opts = parseArgs(process.argv.slice(2));
if (opts.build && !opts.list) build();
const all = await discover();
if (opts.list) {
  for (const s of all) console.log(`${s.name}\t${s.file.replace(root, '')}`);
  process.exit(0);
}
const selected = opts.filters.length === 0 ? all : all.filter((s) => opts.filters.some((f) => s.name.includes(f)));
if (selected.length === 0) fail(`no suite matches ${opts.filters.join(', ')} (have: ${all.map((s) => s.name).join(', ')})`);

const suiteOptions = { rounds: opts.rounds, warmup: opts.warmup, scale: opts.quick ? 0.1 : 1 };
const startedAt = new Date();
const machineAtStart = machineInfo();
const revision = gitRevision();
const results = [];
let failures = 0;
for (const suite of selected) {
  process.stderr.write(`\nbench: suite ${suite.name}${opts.quick ? ' (quick)' : ''} — load average ${machineInfo().loadavg.join(' ')}\n`);
  const t0 = performance.now();
  const outcome = suite.loadError
    ? { rows: [], notes: [], error: suite.loadError }
    : opts.inProcess
      ? await runInProcess(suite, suiteOptions)
      : await runForked(suite, suiteOptions, opts.timeoutS);
  const durationS = (performance.now() - t0) / 1000;
  const rows = withRatios(outcome.rows);
  results.push({ name: suite.name, file: suite.file.replace(root, ''), durationS, rows, notes: outcome.notes, error: outcome.error });
  console.log(`\n## ${suite.name}\n`);
  if (rows.length > 0) console.log(renderTable(rows));
  for (const note of outcome.notes) console.log(`\n${note}`);
  console.log(`\n_${rows.length} rows in ${durationS.toFixed(1)} s; median of ${opts.rounds} rounds after ${opts.warmup} warm-up; spread = half the min–max range of the rounds._`);
  if (outcome.error) {
    failures++;
    console.log(`\n**FAILED:** ${outcome.error}`);
  }
}

const machine = { ...machineAtStart, loadavgAtEnd: machineInfo().loadavg };
const targets = results.flatMap((r) => r.rows).filter((r) => r.target !== undefined);
console.log('\n## Machine\n');
console.log(`- date: ${startedAt.toISOString()}`);
console.log(`- code: ${revision}`);
console.log(`- node ${machine.node} (V8 ${machine.v8}), ${machine.platform}`);
console.log(`- CPU: ${machine.cpu}, ${machine.cores} cores, ${machine.memoryGiB} GiB RAM`);
console.log(`- load average (1/5/15 min): ${machine.loadavg.join(' / ')} at start, ${machine.loadavgAtEnd.join(' / ')} at end`);
if (targets.length > 0) {
  const met = targets.filter((r) => r.targetMet).length;
  console.log(`- targets: ${met} met, ${targets.length - met} missed`);
}

if (opts.json) {
  const out = { date: startedAt.toISOString(), revision, machine, options: { ...opts, json: undefined }, suites: results };
  writeFileSync(opts.json, `${JSON.stringify(out, null, 2)}\n`);
  process.stderr.write(`bench: wrote ${opts.json}\n`);
}
process.exit(failures > 0 ? 1 : 0);
