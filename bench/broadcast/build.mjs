// Bundles bench/broadcast/page.mjs (the page side of bench/suites/broadcast.mjs) with vite's
// JS API into test-results/bench-broadcast/ (git-ignored). Rebuilds only when the bundle is
// missing or older than one of its inputs (page.mjs, this file, the built dist/ of
// @libchan/core and @libchan/transport-broadcast).
//
//   node bench/broadcast/build.mjs [--force]
//
// The bundle uses the packages' BUILT ESM: run
// `npx tsc -b packages/core packages/transport-broadcast` after changing package sources.
import { existsSync, mkdirSync, readdirSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..', '..');
export const bundleDir = join(root, 'test-results', 'bench-broadcast');
const entry = join(here, 'page.mjs');
const stamp = join(bundleDir, '.complete');
const packages = {
  '@libchan/core': join(root, 'packages', 'core'),
  '@libchan/transport-broadcast': join(root, 'packages', 'transport-broadcast'),
};

function newest(path) {
  let st;
  try {
    st = statSync(path);
  } catch {
    return 0;
  }
  if (!st.isDirectory()) return st.mtimeMs;
  let max = 0;
  for (const e of readdirSync(path)) max = Math.max(max, newest(join(path, e)));
  return max;
}

function checkBuilt() {
  for (const dir of Object.values(packages)) {
    if (!existsSync(join(dir, 'dist', 'index.js'))) {
      throw new Error(`${dir}/dist is missing: run \`npx tsc -b packages/core packages/transport-broadcast\` first`);
    }
    if (newest(join(dir, 'src')) > newest(join(dir, 'dist'))) {
      process.stderr.write(`bench broadcast: ${dir}/src is newer than its dist/ (run \`npx tsc -b packages/core packages/transport-broadcast\`)\n`);
    }
  }
}

const inputsMtime = () =>
  Math.max(newest(entry), newest(fileURLToPath(import.meta.url)), ...Object.values(packages).map((dir) => newest(join(dir, 'dist'))));

/** Builds the bundle if missing or stale. Resolves with { dir, built }. */
export async function ensureBundle({ force = false } = {}) {
  checkBuilt();
  if (!force && existsSync(stamp) && statSync(stamp).mtimeMs >= inputsMtime()) return { dir: bundleDir, built: false };
  const { build } = await import('vite');
  // Build privately, then rename into place: a concurrent run never sees half a bundle.
  const tmp = `${bundleDir}.tmp-${process.pid}-${Date.now()}`;
  try {
    await build({
      configFile: false,
      envDir: false,
      root: here,
      logLevel: 'warn',
      clearScreen: false,
      resolve: {
        // Both packages export only `./dist/index.js` (ESM, no Node-only code).
        alias: Object.entries(packages).map(([name, dir]) => ({ find: new RegExp(`^${name.replace('/', '\\/')}$`), replacement: join(dir, 'dist', 'index.js') })),
      },
      build: {
        outDir: tmp,
        emptyOutDir: true,
        target: 'es2022',
        // Minified like a production bundle; the numbers are about the library, not the dev build.
        minify: true,
        sourcemap: false,
        reportCompressedSize: false,
        copyPublicDir: false,
        lib: { entry, formats: ['es'], fileName: () => 'page.js' },
      },
    });
    writeFileSync(join(tmp, '.complete'), new Date().toISOString() + '\n');
    mkdirSync(dirname(bundleDir), { recursive: true });
    rmSync(bundleDir, { recursive: true, force: true });
    try {
      renameSync(tmp, bundleDir);
    } catch (error) {
      if (!existsSync(stamp)) throw error;
    }
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
  return { dir: bundleDir, built: true };
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const started = Date.now();
  const { dir, built } = await ensureBundle({ force: process.argv.includes('--force') });
  console.log(`${built ? 'built' : 'up to date:'} ${dir}${built ? ` in ${Date.now() - started} ms` : ''}`);
}
