/**
 * The layer rules of DESIGN.md, checked on the source: cross-runtime code
 * imports no `node:` module and uses no Buffer; each layer imports only the
 * layers below it (channel ← codec ← session ← link; node/ may use all).
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const src = join(dirname(fileURLToPath(import.meta.url)), '../../src');

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? files(path) : path.endsWith('.ts') ? [path] : [];
  });
}

const rank: Record<string, number> = { channel: 1, codec: 2, session: 3, link: 4, node: 5 };
const layerOf = (file: string): string => relative(src, file).split('/')[0] as string;

describe('layers', () => {
  const all = files(src);

  it('cross-runtime code imports no node: modules and uses no Buffer', () => {
    const offenders = all
      .filter((f) => layerOf(f) !== 'node')
      .filter((f) => {
        const text = readFileSync(f, 'utf8');
        return /from ['"]node:/.test(text) || /\bBuffer\b/.test(text.replace(/\/\/.*$|\/\*[\s\S]*?\*\//gm, ''));
      })
      .map((f) => relative(src, f));
    expect(offenders).toEqual([]);
  });

  it('no import points up a layer', () => {
    const violations: string[] = [];
    for (const file of all) {
      const from = rank[layerOf(file)];
      if (from === undefined) continue; // index.ts, errors.ts, config.ts: shared or the public surface
      const text = readFileSync(file, 'utf8');
      for (const match of text.matchAll(/from ['"](\.[^'"]+)['"]/g)) {
        const target = relative(src, join(dirname(file), match[1] as string));
        const to = rank[target.split('/')[0] as string];
        if (to !== undefined && to > from) violations.push(`${relative(src, file)} → ${target}`);
      }
    }
    expect(violations).toEqual([]);
  });
});
