/**
 * Object layouts outlive their last object (src/layout.ts): a request/reply
 * client whose requests' channels and streams have all ended keeps its
 * optimized channel and stream code through major GCs. Checked in a child
 * process with V8's natives syntax (test/fixtures/layout-check.mjs, the built
 * library), the server in a worker so it shares no heap with the client.
 */
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const fixture = fileURLToPath(new URL('../fixtures/layout-check.mjs', import.meta.url));

function runFixture(): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(process.execPath, ['--expose-gc', '--allow-natives-syntax', fixture], { timeout: 20_000 }, (error, stdout, stderr) => {
      if (error) reject(new Error(`${error.message}\n${stderr}`));
      else resolve(stdout);
    });
  });
}

describe('object layouts across major GCs', () => {
  it('the hot methods of Receiver and of a sub-stream stay optimized after GCs that find none of their objects alive', async () => {
    const { before, after } = JSON.parse(await runFixture()) as { before: Record<string, boolean>; after: Record<string, boolean> };
    expect(Object.keys(before).length).toBeGreaterThan(0);
    // The check means something only if V8 optimized them first.
    for (const [name, optimized] of Object.entries(before)) expect(optimized, `${name} optimized before the GCs`).toBe(true);
    expect(after).toEqual(before);
  }, 30_000);
});
