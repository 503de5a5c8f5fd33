// @ts-self-types="./meta.d.ts"

/**
 * Checks superjson metadata from a peer before superjson acts on it.
 * superjson trusts its `meta`: paths are followed through inherited members
 * (a reference path "toString" would hand out `Object.prototype.toString`)
 * and any annotation it knows is applied (its own Error rule keeps a peer's
 * stack). Here every path must run through the message's own JSON data, and
 * only the annotations this codec produces are allowed.
 */
import { ProtocolError } from '../errors.js';

const simpleAnnotations = new Set(['undefined', 'bigint', 'Date', 'regexp', 'set', 'map', 'number', 'URL']);

function bad(message: string): ProtocolError {
  return new ProtocolError(`malformed message metadata: ${message}`, { code: 'BAD_MESSAGE' });
}

function isPlainRecord(v: unknown): v is Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return false;
  const proto = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
}

/** superjson's path syntax: segments joined by '.', with '\.' and '\\' escapes. */
export function parsePath(path: string): string[] {
  const out: string[] = [];
  let segment = '';
  for (let i = 0; i < path.length; i++) {
    const c = path[i] as string;
    if (c === '\\') {
      const next = path[i + 1];
      if (next !== '\\' && next !== '.') throw bad('bad escape in a path');
      segment += next;
      i++;
    } else if (c === '.') {
      out.push(segment);
      segment = '';
    } else {
      segment += c;
    }
  }
  out.push(segment);
  return out;
}

/** One step of a path through own data of the JSON tree; throws if it is not there. */
function step(node: unknown, key: string): unknown {
  if (Array.isArray(node)) {
    if (!/^(0|[1-9]\d*)$/.test(key) || Number(key) >= node.length) throw bad(`path leaves the data at "${key}"`);
    return node[Number(key)];
  }
  if (isPlainRecord(node)) {
    if (!Object.hasOwn(node, key) || key === '__proto__') throw bad(`path leaves the data at "${key}"`);
    return node[key];
  }
  throw bad(`path leaves the data at "${key}"`);
}

/** Follows `path` through own data of the JSON tree; throws if any step is not there. */
export function resolveOwn(json: unknown, path: readonly string[]): unknown {
  let node = json;
  for (const key of path) node = step(node, key);
  return node;
}

/** Keys superjson refuses in a value or a path (prototype pollution). */
const guardedKeys: ReadonlySet<string> = new Set(['__proto__', 'constructor', 'prototype']);

/** superjson's form of one key in a path: '\\' and '.' escaped. */
export function escapePathKey(key: string): string {
  return key.replace(/\\/g, '\\\\').replace(/\./g, '\\.');
}

/** One custom annotation at a path: what a references-only message carries. */
export interface RefAnnotation {
  /** Keys from the root, already parsed. */
  path: string[];
  /** The custom annotation's name. */
  name: string;
}

/**
 * The annotations of a message whose meta holds nothing but custom
 * annotations named in `names` on leaves (what the codec writes for JSON plus
 * channels, streams and binary); undefined for any other meta, which then
 * takes the general path. Paths are not checked against the data here.
 */
export function refAnnotations(meta: unknown, names: ReadonlySet<string>): RefAnnotation[] | undefined {
  if (!isPlainRecord(meta)) return undefined;
  let fields = 0;
  if (meta.v !== undefined) {
    if (meta.v !== 1) return undefined;
    fields++;
  }
  const values = meta.values;
  if (values === undefined || Object.keys(meta).length !== fields + 1) return undefined;
  const leafName = (node: unknown): string | undefined => {
    if (!Array.isArray(node) || node.length !== 1) return undefined;
    const type = node[0] as unknown;
    if (!Array.isArray(type) || type.length !== 2 || type[0] !== 'custom' || typeof type[1] !== 'string') return undefined;
    return names.has(type[1]) ? type[1] : undefined;
  };
  if (Array.isArray(values)) {
    const name = leafName(values);
    return name === undefined ? undefined : [{ path: [], name }];
  }
  if (!isPlainRecord(values)) return undefined;
  const out: RefAnnotation[] = [];
  for (const key of Object.keys(values)) {
    const name = leafName(values[key]);
    if (name === undefined) return undefined;
    const path = parsePath(key);
    // Paths superjson refuses take its way, and fail there the same.
    if (path.some((segment) => guardedKeys.has(segment))) return undefined;
    out.push({ path, name });
  }
  return out;
}

/**
 * Replaces the value at `path` (own data of the JSON tree all the way, as
 * validateMeta requires) with what `revive` makes of it.
 */
export function reviveAt(json: unknown, path: readonly string[], revive: (token: unknown) => unknown): unknown {
  if (path.length === 0) return revive(json);
  const last = path.length - 1;
  let parent = json;
  for (let i = 0; i < last; i++) parent = step(parent, path[i] as string);
  const key = path[last] as string;
  // The same checks on the last step: present, own, and not __proto__.
  (parent as Record<string, unknown>)[key] = revive(step(parent, key));
  return json;
}

export function validateMeta(json: unknown, meta: unknown, customNames: ReadonlySet<string>): void {
  if (!isPlainRecord(meta)) throw bad('not an object');
  for (const key of Object.keys(meta)) {
    if (key !== 'values' && key !== 'referentialEqualities' && key !== 'v') throw bad(`unknown field ${key}`);
  }
  if (meta.v !== undefined && meta.v !== 1) throw bad('unknown version');

  const checkType = (type: unknown): void => {
    if (typeof type === 'string') {
      if (!simpleAnnotations.has(type)) throw bad(`annotation ${type} is not allowed`);
      return;
    }
    if (Array.isArray(type) && type.length === 2 && type[0] === 'custom' && typeof type[1] === 'string' && customNames.has(type[1])) return;
    throw bad('annotation is not allowed');
  };

  const walkChildren = (children: unknown, origin: string[]): void => {
    if (!isPlainRecord(children)) throw bad('annotation children must be an object');
    for (const key of Object.keys(children)) walkValues(children[key], [...origin, ...parsePath(key)]);
  };
  const walkValues = (tree: unknown, origin: string[]): void => {
    if (Array.isArray(tree)) {
      if (tree.length < 1 || tree.length > 2) throw bad('annotation node has a bad shape');
      checkType(tree[0]);
      resolveOwn(json, origin);
      if (tree.length === 2) walkChildren(tree[1], origin);
    } else {
      walkChildren(tree, origin);
    }
  };
  if (meta.values !== undefined) walkValues(meta.values, []);

  const refs = meta.referentialEqualities;
  if (refs === undefined) return;
  const checkPaths = (paths: unknown): void => {
    if (!Array.isArray(paths)) throw bad('reference paths must be a list');
    for (const p of paths) {
      if (typeof p !== 'string') throw bad('a reference path must be a string');
      resolveOwn(json, parsePath(p));
    }
  };
  const checkGroups = (groups: unknown): void => {
    if (!isPlainRecord(groups)) throw bad('reference groups must be an object');
    for (const rep of Object.keys(groups)) {
      resolveOwn(json, parsePath(rep));
      checkPaths(groups[rep]);
    }
  };
  if (Array.isArray(refs)) {
    if (refs.length < 1 || refs.length > 2) throw bad('root references have a bad shape');
    checkPaths(refs[0]);
    if (refs.length === 2) checkGroups(refs[1]);
  } else {
    checkGroups(refs);
  }
}

/**
 * superjson treats NaN as an object with an identity, so several NaNs become
 * "shared references" — and restoring one as a Map key deletes the entry.
 * NaN has no identity to keep: drop those groups before sending.
 */
export function dropNaNReferences(json: unknown, meta: { referentialEqualities?: unknown }): void {
  const refs = meta.referentialEqualities;
  if (refs === undefined) return;
  const isNaNAt = (path: string): boolean => {
    try {
      return resolveOwn(json, parsePath(path)) === 'NaN';
    } catch {
      return false;
    }
  };
  const filterGroups = (groups: Record<string, unknown>): Record<string, unknown> | undefined => {
    const out: Record<string, unknown> = {};
    let any = false;
    for (const rep of Object.keys(groups)) {
      if (isNaNAt(rep)) continue;
      out[rep] = groups[rep];
      any = true;
    }
    return any ? out : undefined;
  };
  if (Array.isArray(refs)) {
    const groups = refs[1] === undefined ? undefined : filterGroups(refs[1] as Record<string, unknown>);
    meta.referentialEqualities = groups === undefined ? [refs[0]] : [refs[0], groups];
  } else {
    const groups = filterGroups(refs as Record<string, unknown>);
    if (groups === undefined) delete meta.referentialEqualities;
    else meta.referentialEqualities = groups;
  }
}
