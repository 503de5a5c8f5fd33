// Bundles the page side of e2e/webtransport.spec.ts (client-native.ts → native.js,
// client-ponyfill.ts → ponyfill.js, sharing client.ts) into
// test-results/e2e-webtransport-build/ (see scripts/browser-bundle.mjs). The ponyfill
// (@fails-components/webtransport) resolves from transport-webtransport's node_modules.
//   node e2e/webtransport-fixtures/build.mjs [--force]
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { browserBundle, buildFromCommandLine, root } from '../../scripts/browser-bundle.mjs';

const here = (file) => fileURLToPath(new URL(file, import.meta.url));
const fails = join(root, 'packages', 'transport-webtransport', 'node_modules', '@fails-components', 'webtransport');

export { root };
export const { bundleDir, ensureBundle } = browserBundle({
  name: 'e2e-webtransport-build',
  entry: { native: here('client-native.ts'), ponyfill: here('client-ponyfill.ts') },
  packages: ['core', 'transport-webtransport'],
  aliases: [{ find: /^@fails-components\/webtransport$/, replacement: join(fails, 'lib', 'index.browser.js') }],
  inputs: [here('client.ts'), here('serve.mjs')],
});
await buildFromCommandLine(import.meta.url, ensureBundle);
