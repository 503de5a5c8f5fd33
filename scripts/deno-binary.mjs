// Where the deno binary is: DENO_BIN, else the one @libchan/transport-webtransport's
// devDependency (npm `deno`) installs. Used by the demo's WebTransport sidecar, the
// WebTransport e2e fixtures and the `deno check` test.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../', import.meta.url));

/** The path of a deno binary, or undefined when none is installed. */
export function findDeno() {
  const candidates = [
    process.env.DENO_BIN,
    // The binary itself (the package's postinstall puts it there), so a kill reaches Deno…
    join(root, 'packages', 'transport-webtransport', 'node_modules', 'deno', 'deno'),
    // …else the npm shim (node bin.cjs, which starts the binary).
    join(root, 'packages', 'transport-webtransport', 'node_modules', '.bin', 'deno'),
    join(root, 'node_modules', '.bin', 'deno'),
  ].filter(Boolean);
  return candidates.find((path) => existsSync(path));
}

/** The path of a deno binary; throws with what to run when none is installed. */
export function denoBinary() {
  const found = findDeno();
  if (!found) throw new Error('no deno binary: set DENO_BIN or run `npx -y pnpm@12.4.2 install`');
  return found;
}
