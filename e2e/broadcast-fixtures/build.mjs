// Bundles e2e/broadcast-fixtures/page.ts (the tab side of e2e/broadcast.spec.ts) into
// test-results/broadcast-build/, against the built @libchan/core and
// @libchan/transport-broadcast (see scripts/browser-bundle.mjs).
//   node e2e/broadcast-fixtures/build.mjs [--force]
import { fileURLToPath } from 'node:url';
import { browserBundle, buildFromCommandLine } from '../../scripts/browser-bundle.mjs';

export const { bundleDir, ensureBundle } = browserBundle({
  name: 'broadcast-build',
  entry: fileURLToPath(new URL('page.ts', import.meta.url)),
  fileName: 'page.js',
  packages: ['core', 'transport-broadcast'],
});
await buildFromCommandLine(import.meta.url, ensureBundle);
