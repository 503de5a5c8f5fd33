// Bundles the page side of the WebTransport browser tests (client-native.ts → native.js,
// client-ponyfill.ts → ponyfill.js, sharing client.ts) with vite's JS API into
// test-results/e2e-webtransport-build/ (git-ignored), only when missing or older than an input.
//
//   node e2e/webtransport-fixtures/build.mjs [--force]
//
// The bundle uses the packages' *built* ESM (browser conditions of their package.json
// `exports`), so run `npx tsc -b packages/core packages/transport-webtransport` after
// changing package sources. @fails-components/webtransport (the ponyfill) resolves from
// transport-webtransport's node_modules (it is that package's dependency).
import { existsSync, mkdirSync, readdirSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
export const root = join(here, '..', '..');
export const bundleDir = join(root, 'test-results', 'e2e-webtransport-build');
const stamp = join(bundleDir, '.complete');
const core = join(root, 'packages', 'core');
const wt = join(root, 'packages', 'transport-webtransport');
const fails = join(wt, 'node_modules', '@fails-components', 'webtransport');

function newest(path) {
  let st;
  try {
    st = statSync(path);
  } catch {
    return 0;
  }
  if (!st.isDirectory()) return st.mtimeMs;
  let max = 0;
  for (const entry of readdirSync(path)) max = Math.max(max, newest(join(path, entry)));
  return max;
}

function inputsMtime() {
  return Math.max(
    newest(join(here, 'client.ts')),
    newest(join(here, 'client-native.ts')),
    newest(join(here, 'client-ponyfill.ts')),
    newest(join(here, 'serve.mjs')),
    newest(fileURLToPath(import.meta.url)),
    newest(join(core, 'dist')),
    newest(join(wt, 'dist')),
  );
}

export async function ensureBundle({ force = false } = {}) {
  for (const dir of [core, wt]) {
    if (!existsSync(join(dir, 'dist', 'index.js'))) {
      throw new Error(`${dir}/dist is missing: run \`npx tsc -b packages/core packages/transport-webtransport\` first`);
    }
  }
  if (!force && existsSync(stamp) && statSync(stamp).mtimeMs >= inputsMtime()) return { dir: bundleDir, built: false };
  const { build } = await import('vite');
  const tmp = `${bundleDir}.tmp-${process.pid}-${Date.now()}`;
  try {
    await build({
      configFile: false,
      envDir: false,
      root: here,
      logLevel: 'warn',
      clearScreen: false,
      resolve: {
        // Browser entries (the `default` condition of each package's exports).
        alias: [
          { find: /^@libchan\/core$/, replacement: join(core, 'dist', 'index.js') },
          { find: /^@libchan\/transport-webtransport$/, replacement: join(wt, 'dist', 'index.js') },
          { find: /^@fails-components\/webtransport$/, replacement: join(fails, 'lib', 'index.browser.js') },
        ],
      },
      build: {
        outDir: tmp,
        emptyOutDir: true,
        target: 'es2022',
        minify: false,
        sourcemap: true,
        reportCompressedSize: false,
        copyPublicDir: false,
        lib: {
          entry: { native: join(here, 'client-native.ts'), ponyfill: join(here, 'client-ponyfill.ts') },
          formats: ['es'],
          fileName: (_format, name) => `${name}.js`,
        },
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
