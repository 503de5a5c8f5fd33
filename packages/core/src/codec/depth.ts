// @ts-self-types="./depth.d.ts"

/**
 * Nesting limits, checked before the expensive (and recursive) work: on the
 * way out over the value graph, on the way in over the JSON text's bytes, so
 * neither superjson nor JSON.parse ever sees a value deep enough to blow the
 * stack.
 */
import { AbstractReceiver, AbstractSender } from '../channel/ends.js';
import { MAX_ERROR_CAUSE_DEPTH } from '../config.js';
import { LimitExceededError, ProtocolError } from '../errors.js';

/** What a reference leaf becomes on the wire: a channel or stream reference, or an attachment. */
export type LeafKind = 'sender' | 'receiver' | 'readable' | 'writable' | 'binary';

/** A channel, stream or binary value inside a message, and where it sits. */
export interface RefLeaf {
  /** Keys from the root (array indexes are numbers). */
  path: (string | number)[];
  value: object;
  kind: LeafKind;
}

/** The reference kind of an object the codec sends out of the JSON, if it is one. */
export function leafKind(obj: object): LeafKind | undefined {
  if (obj instanceof AbstractSender) return 'sender';
  if (obj instanceof AbstractReceiver) return 'receiver';
  if (obj instanceof ArrayBuffer || ArrayBuffer.isView(obj)) return 'binary';
  if (typeof ReadableStream !== 'undefined' && obj instanceof ReadableStream) return 'readable';
  if (typeof WritableStream !== 'undefined' && obj instanceof WritableStream) return 'writable';
  return undefined;
}

/** Values the codec sends as a whole (no fields of theirs to walk). */
function isLeaf(obj: object): boolean {
  return obj instanceof Date || obj instanceof RegExp || (typeof URL !== 'undefined' && obj instanceof URL) || leafKind(obj) !== undefined;
}

/** How a value will be encoded. */
export const enum Shape {
  /** Plain JSON carries it faithfully. */
  Json,
  /** Plain JSON plus channels, streams and binary at known paths (a Ret request): no superjson needed. */
  Refs,
  /** Anything else: through superjson. */
  Rich,
}

/** Objects a walk tracks in a list before it switches to a Set. */
const SEEN_LIST_MAX = 16;

function tooDeep(maxDepth: number): LimitExceededError {
  return new LimitExceededError(`value nested deeper than maxNestingDepth (${maxDepth})`, { limit: 'maxNestingDepth' });
}

/**
 * Walks the value once: rejects functions and symbols (TypeError), checks the
 * depth (as it will be in JSON: a Map entry adds two levels), and tells whether
 * plain JSON carries it faithfully (tree-shaped, finite numbers, no special
 * types), or would but for reference leaves, which are then listed in `leaves`.
 */
export function analyze(value: unknown, maxDepth: number, leaves: RefLeaf[] = []): Shape {
  // A lone string, boolean, finite number or null (a typical reply) needs no walk.
  if (value === null || typeof value === 'string' || typeof value === 'boolean') return Shape.Json;
  if (typeof value === 'number') return Number.isFinite(value) && !Object.is(value, -0) ? Shape.Json : Shape.Rich;
  // Most messages are small: a list finds repeats faster than a Set costs to make.
  const seenList: object[] = [];
  let seenSet: Set<object> | undefined;
  /** Records `obj`; true if it was met before (shared or cyclic). */
  const seenBefore = (obj: object): boolean => {
    if (seenSet !== undefined) {
      if (seenSet.has(obj)) return true;
      seenSet.add(obj);
      return false;
    }
    if (seenList.includes(obj)) return true;
    if (seenList.push(obj) > SEEN_LIST_MAX) seenSet = new Set(seenList);
    return false;
  };
  let rich = false;
  // superjson refuses these keys anywhere in a value; a references-only value with one goes its way too (and fails the same).
  let guardedKey = false;
  // Keys from the root to the value being walked; copied only when a leaf is found.
  const path: (string | number)[] = [];
  const walk = (v: unknown, depth: number): void => {
    switch (typeof v) {
      case 'string':
      case 'boolean':
        return;
      case 'number':
        if (!Number.isFinite(v) || Object.is(v, -0)) rich = true;
        return;
      case 'undefined':
      case 'bigint':
        rich = true;
        return;
      case 'function':
        throw new TypeError('a function cannot be sent on a channel');
      case 'symbol':
        throw new TypeError('a symbol cannot be sent on a channel');
    }
    if (v === null) return;
    const obj = v as object;
    if (seenBefore(obj)) {
      rich = true; // shared or cyclic: superjson keeps the identity
      return;
    }
    if (depth >= maxDepth) throw tooDeep(maxDepth);
    if (Array.isArray(obj)) {
      for (let i = 0; i < obj.length; i++) {
        path.push(i);
        walk(obj[i], depth + 1);
        path.pop();
      }
      return;
    }
    const proto = Object.getPrototypeOf(obj);
    if (proto === Object.prototype || proto === null) {
      for (const key in obj) {
        if (key === '__proto__' || key === 'constructor' || key === 'prototype') guardedKey = true;
        path.push(key);
        walk((obj as Record<string, unknown>)[key], depth + 1);
        path.pop();
      }
      return;
    }
    if (!rich) {
      const kind = leafKind(obj);
      if (kind !== undefined) {
        leaves.push({ path: path.slice(), value: obj, kind });
        return;
      }
    }
    rich = true;
    if (isLeaf(obj)) return;
    if (obj instanceof Map) {
      if (depth + 1 >= maxDepth) throw tooDeep(maxDepth);
      for (const [k, item] of obj) {
        walk(k, depth + 2);
        walk(item, depth + 2);
      }
    } else if (obj instanceof Set) {
      for (const item of obj) walk(item, depth + 1);
    } else if (obj instanceof Error) {
      // Only the first MAX_ERROR_CAUSE_DEPTH causes cross; deeper ones are cut, not refused.
      let cause: unknown = obj;
      for (let level = 1; level <= MAX_ERROR_CAUSE_DEPTH && cause instanceof Error && 'cause' in cause; level++) {
        cause = cause.cause;
        if (cause instanceof Error) {
          if (depth + level >= maxDepth || seenBefore(cause)) break;
        } else {
          walk(cause, depth + level);
          break;
        }
      }
    } else {
      // Another class instance travels as JSON does: its own enumerable data.
      for (const key of Object.keys(obj)) walk((obj as Record<string, unknown>)[key], depth + 1);
    }
  };
  walk(value, 0);
  if (rich || (guardedKey && leaves.length > 0)) return Shape.Rich;
  return leaves.length > 0 ? Shape.Refs : Shape.Json;
}

/**
 * The bracket nesting of JSON text given as UTF-8 bytes, failing as soon as it
 * passes `maxDepth`. Strings are skipped (escapes included), so brackets in
 * text do not count.
 */
export function checkJsonDepth(bytes: Uint8Array, maxDepth: number): void {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < bytes.length; i++) {
    const b = bytes[i] as number;
    if (inString) {
      if (b === 0x5c) i++; // backslash: skip the escaped byte
      else if (b === 0x22) inString = false;
    } else if (b === 0x22) {
      inString = true;
    } else if (b === 0x5b || b === 0x7b) {
      if (++depth > maxDepth) {
        throw new ProtocolError(`message nested deeper than maxNestingDepth (${maxDepth})`, { code: 'BAD_MESSAGE' });
      }
    } else if (b === 0x5d || b === 0x7d) {
      depth--;
    }
  }
}
