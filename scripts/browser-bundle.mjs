// One way to bundle page code for the browser tests and benchmarks: vite's JS API in
// library mode, against the packages' BUILT ESM (their browser entries), into a folder
// under test-results/ (git-ignored). It rebuilds only when the bundle is missing or older
// than an input, and builds privately then renames into place, so two Playwright workers
// never serve each other half a bundle.
//
//   const { bundleDir, ensureBundle } = browserBundle({ name, entry, packages, … });
//   await ensureBundle();            // in test.beforeAll, or before a benchmark
import { existsSync, mkdirSync, readFileSync, readdirSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const root = fileURLToPath(new URL('..', import.meta.url));

/** Newest mtime (ms) of the files under `path` (a file or a directory); 0 if missing. */
export function newest(path) {
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

const readJson = (path) => JSON.parse(readFileSync(path, 'utf8'));

/** The file a browser bundler loads for `import '<package>'`: exports['.'] under browser conditions. */
export function browserEntry(dir) {
  const conditions = ['browser', 'import', 'module', 'default'];
  const pick = (target) => {
    if (typeof target === 'string') return target;
    if (Array.isArray(target)) return target.map(pick).find(Boolean);
    if (target && typeof target === 'object') {
      for (const [key, value] of Object.entries(target)) if (conditions.includes(key)) return pick(value);
    }
    return undefined;
  };
  const pkg = readJson(join(dir, 'package.json'));
  const exp = pkg.exports;
  const dot = typeof exp === 'string' || Array.isArray(exp) || !exp || !('.' in exp) ? exp : exp['.'];
  const file = pick(dot) ?? pkg.module ?? pkg.main;
  if (!file) throw new Error(`${dir}/package.json names no browser entry`);
  return join(dir, file);
}

/**
 * @param {object} o
 * @param {string} o.name         folder under test-results/ and the label in messages
 * @param {string | Record<string, string>} o.entry  one entry file, or { outputName: file }
 * @param {string} [o.fileName]   output file for a single entry (default 'client.js')
 * @param {string[]} o.packages   workspace package folders under packages/ (e.g. 'core')
 * @param {{ find: RegExp; replacement: string }[]} [o.aliases]  more aliases (e.g. a dependency's browser build)
 * @param {string[]} [o.inputs]   more files or folders whose change triggers a rebuild
 * @param {boolean} [o.minify]    production-like output (benchmarks); default false with source maps
 */
export function browserBundle({ name, entry, fileName = 'client.js', packages, aliases = [], inputs = [], minify = false }) {
  const bundleDir = join(root, 'test-results', name);
  const stamp = join(bundleDir, '.complete');
  const dirs = packages.map((p) => join(root, 'packages', p));
  const entries = typeof entry === 'string' ? [entry] : Object.values(entry);
  const rebuildHint = `npx tsc -b ${packages.map((p) => `packages/${p}`).join(' ')}`;

  const inputsMtime = () =>
    Math.max(
      newest(fileURLToPath(import.meta.url)),
      ...entries.map(newest),
      ...inputs.map(newest),
      ...dirs.flatMap((dir) => [newest(join(dir, 'dist')), newest(join(dir, 'package.json'))]),
    );

  async function ensureBundle({ force = false } = {}) {
    for (const dir of dirs) {
      if (!existsSync(join(dir, 'dist', 'index.js'))) throw new Error(`${dir}/dist is missing: run \`${rebuildHint}\` first`);
      if (newest(join(dir, 'src')) > newest(join(dir, 'dist'))) {
        process.stderr.write(`${name}: ${dir}/src is newer than its dist/, which the bundle uses (run \`${rebuildHint}\`)\n`);
      }
    }
    if (!force && existsSync(stamp) && statSync(stamp).mtimeMs >= inputsMtime()) return { dir: bundleDir, built: false };
    const { build } = await import('vite');
    const tmp = `${bundleDir}.tmp-${process.pid}-${Date.now()}`;
    const exact = (pkgName) => new RegExp(`^${pkgName.replace(/[/]/g, '\\/')}$`);
    try {
      await build({
        configFile: false,
        envDir: false,
        root: dirname(entries[0]),
        logLevel: 'warn',
        clearScreen: false,
        resolve: {
          // The root has no node_modules/@libchan: point each bare name at the package's browser
          // entry (an alias to the directory would make vite use `main`, the Node entry).
          alias: [...dirs.map((dir) => ({ find: exact(readJson(join(dir, 'package.json')).name), replacement: browserEntry(dir) })), ...aliases],
        },
        build: {
          outDir: tmp,
          emptyOutDir: true,
          target: 'es2022',
          minify,
          sourcemap: !minify,
          reportCompressedSize: false,
          copyPublicDir: false,
          lib:
            typeof entry === 'string'
              ? { entry, formats: ['es'], fileName: () => fileName }
              : { entry, formats: ['es'], fileName: (_format, out) => `${out}.js` },
        },
      });
      writeFileSync(join(tmp, '.complete'), new Date().toISOString() + '\n');
      mkdirSync(dirname(bundleDir), { recursive: true });
      rmSync(bundleDir, { recursive: true, force: true });
      try {
        renameSync(tmp, bundleDir);
      } catch (error) {
        if (!existsSync(stamp)) throw error; // another worker put its (equivalent) bundle in place first
      }
    } finally {
      rmSync(tmp, { recursive: true, force: true });
    }
    return { dir: bundleDir, built: true };
  }

  return { bundleDir, ensureBundle };
}

/** `node <build file> [--force]`: builds by hand when the build file is run directly. */
export async function buildFromCommandLine(importMetaUrl, ensureBundle) {
  if (!process.argv[1] || fileURLToPath(importMetaUrl) !== process.argv[1]) return;
  const started = Date.now();
  const { dir, built } = await ensureBundle({ force: process.argv.includes('--force') });
  console.log(`${built ? 'built' : 'up to date:'} ${dir}${built ? ` in ${Date.now() - started} ms` : ''}`);
}
