// Bundles bench/broadcast/page.mjs (the page side of bench/suites/broadcast.mjs) into
// test-results/bench-broadcast/, minified like a production bundle (the numbers are about
// the library, not a dev build); see scripts/browser-bundle.mjs.
//   node bench/broadcast/build.mjs [--force]
import { fileURLToPath } from 'node:url';
import { browserBundle, buildFromCommandLine } from '../../scripts/browser-bundle.mjs';

export const { bundleDir, ensureBundle } = browserBundle({
  name: 'bench-broadcast',
  entry: fileURLToPath(new URL('page.mjs', import.meta.url)),
  fileName: 'page.js',
  packages: ['core', 'transport-broadcast'],
  minify: true,
});
await buildFromCommandLine(import.meta.url, ensureBundle);
