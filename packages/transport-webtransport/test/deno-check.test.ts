/**
 * Deno type-checks the built packages when they are imported by path (a workspace,
 * a vendored copy): there it reads a `.js` file's types only from the
 * `@ts-self-types` comment at its top, and without it every type-only export
 * (`Sender`, `SessionOptions` …) is missing. Every source file carries the comment
 * (tsc copies it into the `.js`); `deno check` on every entry point proves it works.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { denoBinary } from '../../../scripts/deno-binary.mjs';

const root = join(import.meta.dirname, '..', '..', '..');
const packages = ['core', 'transport-ws', 'transport-webtransport', 'transport-broadcast'];

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return sources(path);
    return name.endsWith('.ts') && !name.endsWith('.d.ts') ? [path] : [];
  });
}

describe('Deno sees the types of the built packages', () => {
  it('every source file names its declaration file in a @ts-self-types comment on its first line', () => {
    const missing = packages
      .flatMap((p) => sources(join(root, 'packages', p, 'src')))
      .filter((path) => readFileSync(path, 'utf8').split('\n', 1)[0] !== `// @ts-self-types="./${basename(path, '.ts')}.d.ts"`)
      .map((path) => relative(root, path));
    expect(missing).toEqual([]);
  });

  it('deno check passes on every entry point imported by path, and on the Deno programs', { timeout: 120_000 }, () => {
    const dir = mkdtempSync(join(tmpdir(), 'libchan-deno-check-'));
    try {
      const entry = (path: string) => JSON.stringify(join(root, 'packages', path));
      const file = join(dir, 'check.ts');
      writeFileSync(
        file,
        [
          `import { pipe, sessionPair, type Receiver, type Sender, type SessionOptions } from ${entry('core/dist/index.js')};`,
          `import { connectSocket } from ${entry('core/dist/node/index.js')};`,
          `import { connectWebSocket } from ${entry('transport-ws/dist/index.js')};`,
          `import { listenWebSocket } from ${entry('transport-ws/dist/node.js')};`,
          `import { connectWebTransport } from ${entry('transport-webtransport/dist/index.js')};`,
          `import { connectBroadcast } from ${entry('transport-broadcast/dist/index.js')};`,
          'const options: SessionOptions = { maxMessageBytes: 1024 };',
          'const [receiver, sender]: [Receiver<number>, Sender<number>] = pipe<number>();',
          'export const used = [options, receiver, sender, sessionPair, connectSocket, connectWebSocket, listenWebSocket, connectWebTransport, connectBroadcast];',
          '',
        ].join('\n'),
      );
      // With the repository's own Deno programs: the e2e server and the demo's sidecar.
      const programs = [join(root, 'e2e', 'webtransport-fixtures', 'deno-server.ts'), join(root, 'apps', 'demo', 'webtransport-sidecar.ts')];
      const result = spawnSync(denoBinary(), ['check', '--quiet', '--unstable-net', file, ...programs], {
        cwd: root,
        encoding: 'utf8',
        env: { ...process.env, NO_COLOR: '1', DENO_NO_UPDATE_CHECK: '1' },
        timeout: 110_000,
      });
      expect(result.stderr + result.stdout).toBe('');
      expect(result.status).toBe(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
