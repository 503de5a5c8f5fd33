/**
 * Helpers for the codec tests: a codec factory, a payload builder that lays
 * out bytes exactly as the header comment of codec.ts describes (flags byte,
 * varints, attachments, JSON text, meta text), and small inspection helpers.
 */
import { expect } from 'vitest';
import { Codec, type DecodeContext, type EncodeContext, type RefKind } from '../../src/codec/codec.js';
import { writeVarint } from '../../src/codec/bytes.js';
import { defaults } from '../../src/config.js';
import { ProtocolError } from '../../src/errors.js';

export const DEFAULT_DEPTH = defaults.maxNestingDepth;

export function makeCodec(maxNestingDepth: number = DEFAULT_DEPTH): Codec {
  return new Codec({ maxNestingDepth });
}

const shared = makeCodec();

/** Encodes and decodes with one codec (contexts optional). */
export function roundTrip<T>(value: T, enc?: EncodeContext, dec?: DecodeContext, codec: Codec = shared): T {
  return codec.decode(codec.encodeToBytes(value, enc), dec) as T;
}

const utf8 = new TextEncoder();

export function textBytes(text: string): Uint8Array {
  return utf8.encode(text);
}

export interface RawPayload {
  /** Flags byte; defaults to 1 when `meta` is given, else 0. */
  flags?: number;
  /** JSON text (string) or raw bytes. */
  json: string | Uint8Array;
  /** Meta text; present makes the payload "rich" (flag bit 0). */
  meta?: string | Uint8Array;
  attachments?: Uint8Array[];
  /** Overrides the attachment lengths written in the header. */
  lengths?: number[];
  /** Overrides the JSON length written in the header. */
  jsonLength?: number;
}

/** Builds a payload byte by byte, following the layout documented in codec.ts. */
export function buildPayload(p: RawPayload): Uint8Array {
  const json = typeof p.json === 'string' ? textBytes(p.json) : p.json;
  const meta = p.meta === undefined ? undefined : typeof p.meta === 'string' ? textBytes(p.meta) : p.meta;
  const attachments = p.attachments ?? [];
  const lengths = p.lengths ?? attachments.map((a) => a.byteLength);
  const flags = p.flags ?? (meta === undefined ? 0 : 1);
  const header = new Uint8Array(1 + 9 * (2 + lengths.length));
  let o = 0;
  header[o++] = flags;
  o = writeVarint(header, o, lengths.length);
  for (const len of lengths) o = writeVarint(header, o, len);
  if (meta !== undefined) o = writeVarint(header, o, p.jsonLength ?? json.byteLength);
  const parts = [header.subarray(0, o), ...attachments, json, ...(meta === undefined ? [] : [meta])];
  const out = new Uint8Array(parts.reduce((n, x) => n + x.byteLength, 0));
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.byteLength;
  }
  return out;
}

/** A rich (superjson) payload from a JSON value and a meta object. */
export function richPayload(json: unknown, meta: unknown, attachments: Uint8Array[] = []): Uint8Array {
  return buildPayload({ json: JSON.stringify(json), meta: JSON.stringify(meta), attachments });
}

/** The error thrown by `fn`, failing the test when it does not throw. */
export function thrown(fn: () => unknown): unknown {
  try {
    fn();
  } catch (error) {
    return error;
  }
  expect.fail('expected the call to throw');
}

/** Asserts that `fn` throws a ProtocolError (and not some other error). */
export function expectProtocolError(fn: () => unknown): ProtocolError {
  const error = thrown(fn);
  expect(error, `expected ProtocolError, got ${String(error)}`).toBeInstanceOf(ProtocolError);
  return error as ProtocolError;
}

/** Every value reachable from `root` (own enumerable props, Map/Set entries, error causes). */
export function reachable(root: unknown): unknown[] {
  const out: unknown[] = [];
  const seen = new Set<unknown>();
  const stack = [root];
  while (stack.length > 0) {
    const v = stack.pop();
    out.push(v);
    if ((typeof v !== 'object' && typeof v !== 'function') || v === null || seen.has(v)) continue;
    seen.add(v);
    if (v instanceof Map) {
      for (const [k, x] of v) stack.push(k, x);
    } else if (v instanceof Set) {
      for (const x of v) stack.push(x);
    } else if (typeof v === 'object') {
      for (const k of Object.keys(v)) stack.push((v as Record<string, unknown>)[k]);
      if (v instanceof Error && 'cause' in v) stack.push(v.cause);
    }
  }
  return out;
}

/** A recording encode context handing out the given tokens in order (or 1, 2, 3 …). */
export function recordingEncodeContext(tokens?: number[]) {
  const calls: { kind: RefKind; object: object; token: number }[] = [];
  let next = 0;
  const ctx: EncodeContext = {
    ref(kind, object) {
      const token = tokens ? (tokens[next++] as number) : ++next;
      calls.push({ kind, object, token });
      return token;
    },
  };
  return { ctx, calls };
}

/**
 * A recording decode context behaving like the session's: each token can be
 * claimed once, an unknown or already claimed one is a ProtocolError.
 */
export function claimingDecodeContext(known: Map<number, RefKind>) {
  const calls: { kind: RefKind; token: number; result: object }[] = [];
  const claimed = new Set<number>();
  const ctx: DecodeContext = {
    resolve(kind, token) {
      if (known.get(token) !== kind || claimed.has(token)) {
        throw new ProtocolError(`message names an unknown ${kind} (stream ${token})`, { code: 'UNKNOWN_STREAM' });
      }
      claimed.add(token);
      const result = { resolved: kind, token };
      calls.push({ kind, token, result });
      return result;
    },
  };
  return { ctx, calls };
}

/** A decode context that resolves anything (any number of times) to a fresh marker. */
export function lenientDecodeContext() {
  const calls: { kind: RefKind; token: number; result: object }[] = [];
  const ctx: DecodeContext = {
    resolve(kind, token) {
      const result = { resolved: kind, token };
      calls.push({ kind, token, result });
      return result;
    },
  };
  return { ctx, calls };
}

export function nestArrays(depth: number, leaf: unknown = 0): unknown {
  let v = leaf;
  for (let i = 0; i < depth; i++) v = [v];
  return v;
}

export function nestObjects(depth: number, leaf: unknown = 0): unknown {
  let v = leaf;
  for (let i = 0; i < depth; i++) v = { a: v };
  return v;
}

export function nestMaps(count: number, leaf: unknown = 0): unknown {
  let v = leaf;
  for (let i = 0; i < count; i++) v = new Map([['k', v]]);
  return v;
}

export function nestSets(count: number, leaf?: unknown): unknown {
  let v: unknown = leaf === undefined ? new Set() : new Set([leaf]);
  for (let i = 1; i < count; i++) v = new Set([v]);
  return v;
}
