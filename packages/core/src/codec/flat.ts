// @ts-self-types="./flat.d.ts"

/**
 * The JSON text of a flat request, written in one pass: a plain object whose
 * values are JSON primitives and at most one channel or stream ({ i, ret }).
 * Most requests look like that, and the general way (a walk of the value, a
 * copy with the reference replaced, JSON.stringify) took 3.3 µs to encode one
 * in a live client, this one 1.8 µs (docs/BENCHMARKS.md, 2026-11-26). The
 * text is the one the general way writes: keys in Object.keys order, numbers
 * as JSON writes them (test/codec/flat.test.ts checks it against JSON.stringify).
 */
import type { RefKind } from './codec.js';
import { leafKind } from './depth.js';

/** More keys than this take the general way (a record, not a request). */
const FLAT_MAX_KEYS = 16;
/** Strings up to this long are checked for escapes here; longer ones go through JSON.stringify. */
const SHORT_STRING = 64;

export interface FlatJson {
  /** The JSON text; with a reference, the text before its token. */
  text: string;
  /** With a reference: the text after its token. */
  tail: string;
  /** The one reference, if any. */
  ref: { key: string; kind: RefKind; value: object } | undefined;
}

/** Printable ASCII without '"' or '\\': written between quotes as it is. */
function plain(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x20 || c > 0x7e || c === 0x22 || c === 0x5c) return false;
  }
  return true;
}

/** The flat form of `value`, or undefined when it is not flat (the general way takes it). */
export function flatJson(value: unknown): FlatJson | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const proto = Object.getPrototypeOf(value);
  if (proto !== Object.prototype && proto !== null) return undefined;
  const obj = value as Record<string, unknown>;
  const keys = Object.keys(obj);
  if (keys.length > FLAT_MAX_KEYS) return undefined;
  let text = '{';
  let head = '';
  let ref: FlatJson['ref'];
  for (let k = 0; k < keys.length; k++) {
    const key = keys[k] as string;
    // Keys superjson guards (and references beside them) take its way.
    if (key === '__proto__' || key === 'constructor' || key === 'prototype' || !plain(key)) return undefined;
    if (k > 0) text += ',';
    text += '"' + key + '":';
    const v = obj[key];
    switch (typeof v) {
      case 'string':
        text += v.length <= SHORT_STRING && plain(v) ? '"' + v + '"' : JSON.stringify(v);
        break;
      case 'number':
        // NaN, ±Infinity and -0 are superjson's (JSON would lose them).
        if (!Number.isFinite(v) || Object.is(v, -0)) return undefined;
        text += String(v);
        break;
      case 'boolean':
        text += v ? 'true' : 'false';
        break;
      case 'object': {
        if (v === null) {
          text += 'null';
          break;
        }
        // One channel or stream; binary travels as an attachment, the general way.
        const kind = ref === undefined ? leafKind(v) : undefined;
        if (kind === undefined || kind === 'binary') return undefined;
        ref = { key, kind, value: v };
        head = text;
        text = '';
        break;
      }
      default:
        return undefined;
    }
  }
  text += '}';
  return ref === undefined ? { text, tail: '', ref } : { text: head, tail: text, ref };
}
