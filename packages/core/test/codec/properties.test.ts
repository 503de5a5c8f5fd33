/**
 * Property tests: random values round-trip; random and mutated payloads only ever
 * decode to a value or fail with ProtocolError.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ProtocolError } from '../../src/errors.js';
import { pipe } from '../../src/index.js';
import { buildPayload, lenientDecodeContext, makeCodec, recordingEncodeContext } from './helpers.js';

// superjson refuses these keys in rich values (prototype-pollution guard); they are covered
// separately in untrusted.test.ts.
const forbiddenKeys = new Set(['__proto__', 'constructor', 'prototype']);
const key = fc.string({ maxLength: 6 }).filter((k) => !forbiddenKeys.has(k));

const binary = fc.oneof(
  fc.uint8Array({ maxLength: 24 }),
  fc.int8Array({ maxLength: 8 }),
  fc.uint8ClampedArray({ maxLength: 8 }),
  fc.int16Array({ maxLength: 8 }),
  fc.uint16Array({ maxLength: 8 }),
  fc.int32Array({ maxLength: 8 }),
  fc.uint32Array({ maxLength: 8 }),
  fc.float32Array({ maxLength: 6 }),
  fc.float64Array({ maxLength: 6 }),
  fc.bigInt64Array({ maxLength: 4 }),
  fc.bigUint64Array({ maxLength: 4 }),
  fc.uint8Array({ maxLength: 16 }).map((u) => u.slice().buffer),
  fc.uint8Array({ maxLength: 16 }).map((u) => new DataView(u.slice().buffer)),
);

const errorValue = fc
  .record({
    ctor: fc.constantFrom(Error, TypeError, RangeError, SyntaxError),
    message: fc.string({ maxLength: 20 }),
  })
  .map(({ ctor, message }) => new ctor(message));

const leaf = fc.oneof(
  fc.string({ maxLength: 12 }),
  fc.string({ unit: 'binary', maxLength: 6 }),
  fc.integer(),
  fc.double(), // NaN, ±Infinity, -0 included
  fc.constantFrom(0, -0, Number.NaN, Infinity, -Infinity, Number.MAX_SAFE_INTEGER, Number.MIN_VALUE),
  fc.boolean(),
  fc.constant(null),
  fc.constant(undefined),
  fc.bigInt(),
  fc.date({ noInvalidDate: true }),
  binary,
  fc.constantFrom('https://example.com/a?b=1#c', 'http://[::1]:8080/', 'file:///tmp/x').map((u) => new URL(u)),
  fc.constantFrom(/a+/g, /^x$/imsu, /[\]\/]/y).map((r) => new RegExp(r.source, r.flags)),
  errorValue,
);

const { value: anyValue } = fc.letrec<{ value: unknown; array: unknown[]; object: Record<string, unknown>; map: Map<unknown, unknown>; set: Set<unknown> }>(
  (tie) => ({
    value: fc.oneof({ depthSize: 'small', maxDepth: 5 }, leaf, tie('array'), tie('object'), tie('map'), tie('set')),
    array: fc.array(tie('value'), { maxLength: 5 }),
    object: fc.dictionary(key, tie('value'), { maxKeys: 5, noNullPrototype: true }),
    // NaN as a direct Map key is excluded: a NaN that also appears elsewhere makes the entry
    // disappear (a known bug, pinned down in roundtrip.test.ts), which would make this flaky.
    map: fc
      .array(fc.tuple(tie('value').filter((k) => !Number.isNaN(k)), tie('value')), { maxLength: 4 })
      .map((entries) => new Map(entries)),
    // Same for NaN as a direct Set element: it moves to the end of the Set (also pinned down there).
    set: fc.array(tie('value').filter((x) => !Number.isNaN(x)), { maxLength: 4 }).map((items) => new Set(items)),
  }),
);

/** A type-tagged description of a (tree-shaped) value, so that URL, RegExp, -0 … are compared exactly. */
function describeValue(v: unknown): unknown {
  if (typeof v === 'number') return Object.is(v, -0) ? ['-0'] : Number.isNaN(v) ? ['NaN'] : v;
  if (typeof v === 'bigint') return ['bigint', v.toString()];
  if (v === undefined) return ['undefined'];
  if (typeof v !== 'object' || v === null) return v;
  if (v instanceof Date) return ['Date', v.getTime()];
  if (v instanceof URL) return ['URL', v.href];
  if (v instanceof RegExp) return ['RegExp', v.source, v.flags];
  if (v instanceof Error) return ['Error', Object.getPrototypeOf(v), v.name, v.message];
  if (v instanceof ArrayBuffer) return ['ArrayBuffer', Array.from(new Uint8Array(v))];
  if (ArrayBuffer.isView(v)) return [v.constructor.name, Array.from(new Uint8Array(v.buffer, v.byteOffset, v.byteLength)), v.byteOffset];
  if (v instanceof Map) return ['Map', [...v].map(([k, x]) => [describeValue(k), describeValue(x)])];
  if (v instanceof Set) return ['Set', [...v].map(describeValue)];
  if (Array.isArray(v)) return ['Array', v.length, v.map(describeValue)];
  return ['Object', Object.getPrototypeOf(v) === Object.prototype, Object.entries(v).map(([k, x]) => [k, describeValue(x)])];
}

describe('property: encode → decode is the identity on superjson values', () => {
  it('random nested values (dates, maps, sets, bigints, binary, undefined, errors …), 400 runs', () => {
    const codec = makeCodec();
    fc.assert(
      fc.property(anyValue, (value) => {
        const out = codec.decode(codec.encodeToBytes(value));
        expect(out).toStrictEqual(value);
        expect(describeValue(out)).toStrictEqual(describeValue(value));
      }),
      { numRuns: 400 },
    );
  });

  it('plain JSON values take the fast path (flags byte 0) and round-trip, 300 runs', () => {
    const codec = makeCodec();
    fc.assert(
      fc.property(fc.jsonValue({ maxDepth: 6 }), (value) => {
        const bytes = codec.encodeToBytes(value);
        const out = codec.decode(bytes);
        // fc.jsonValue can produce -0, which only the rich path keeps.
        if (!JSON.stringify(describeValue(value)).includes('"-0"')) expect(bytes[0]).toBe(0);
        expect(describeValue(out)).toStrictEqual(describeValue(value));
      }),
      { numRuns: 300 },
    );
  });

  it('encoding does not modify the value, and encoding twice gives the same bytes, 300 runs', () => {
    const codec = makeCodec();
    fc.assert(
      fc.property(anyValue, (value) => {
        const before = describeValue(value);
        const a = codec.encodeToBytes(value);
        const b = codec.encodeToBytes(value);
        expect(describeValue(value)).toStrictEqual(before);
        expect(b).toStrictEqual(a);
      }),
      { numRuns: 300 },
    );
  });
});

function decodesOrProtocolError(codec: ReturnType<typeof makeCodec>, payload: Uint8Array, withContext: boolean): void {
  try {
    codec.decode(payload, withContext ? lenientDecodeContext().ctx : undefined);
  } catch (error) {
    if (!(error instanceof ProtocolError)) {
      throw new Error(`decode threw ${(error as Error)?.name}: ${(error as Error)?.message} for [${Array.from(payload).join(',')}]`, {
        cause: error,
      });
    }
  }
}

/** A few valid payloads with channels, errors and binary, as mutation seeds. */
function seedPayloads(): Uint8Array[] {
  const codec = makeCodec();
  const [receiver, sender] = pipe<number>();
  const enc = recordingEncodeContext();
  const shared = { s: 1 };
  return [
    codec.encodeToBytes({ ret: sender, rx: receiver, again: sender, bin: new Uint8Array([1, 2, 3]), d: new Date(0) }, enc.ctx),
    codec.encodeToBytes(new Error('e', { cause: new TypeError('t', { cause: { shared, list: [shared] } }) })),
    codec.encodeToBytes(new Map<unknown, unknown>([[1n, new Set([undefined, Number.NaN, -0])], ['f', new Float64Array([1, 2])]])),
    codec.encodeToBytes({ a: [1, 2, { b: 'c' }], t: true }),
    codec.encodeToBytes([new ArrayBuffer(4), new DataView(new ArrayBuffer(2)), /re/g, new URL('https://x.y/')]),
  ];
}

const mutation = fc.oneof(
  fc.record({ op: fc.constant('flip' as const), pos: fc.nat(), bit: fc.integer({ min: 0, max: 7 }) }),
  fc.record({ op: fc.constant('set' as const), pos: fc.nat(), byte: fc.constantFrom(0, 1, 0x22, 0x5b, 0x5d, 0x7b, 0x7d, 0x2c, 0x3a, 0x30, 0x39, 0x7f, 0x80, 0xff) }),
  fc.record({ op: fc.constant('randomByte' as const), pos: fc.nat(), byte: fc.integer({ min: 0, max: 255 }) }),
  fc.record({ op: fc.constant('insert' as const), pos: fc.nat(), bytes: fc.uint8Array({ minLength: 1, maxLength: 4 }) }),
  fc.record({ op: fc.constant('delete' as const), pos: fc.nat(), len: fc.integer({ min: 1, max: 4 }) }),
);
type Mutation = typeof mutation extends fc.Arbitrary<infer M> ? M : never;

function mutate(payload: Uint8Array, ops: Mutation[]): Uint8Array {
  let bytes = Array.from(payload);
  for (const m of ops) {
    const pos = bytes.length === 0 ? 0 : m.pos % (bytes.length + (m.op === 'insert' ? 1 : 0));
    switch (m.op) {
      case 'flip':
        if (bytes.length > 0) bytes[pos] = (bytes[pos] as number) ^ (1 << m.bit);
        break;
      case 'set':
      case 'randomByte':
        if (bytes.length > 0) bytes[pos] = m.byte;
        break;
      case 'insert':
        bytes = [...bytes.slice(0, pos), ...m.bytes, ...bytes.slice(pos)];
        break;
      case 'delete':
        bytes.splice(pos, m.len);
        break;
    }
  }
  return Uint8Array.from(bytes);
}

describe('property: decode of untrusted bytes yields a value or a ProtocolError, nothing else', () => {
  it('random byte arrays up to 2 KiB, 2000 runs', () => {
    const codec = makeCodec();
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 2048 }), fc.boolean(), (bytes, ctx) => decodesOrProtocolError(codec, bytes, ctx)),
      { numRuns: 2000 },
    );
  });

  it('random bytes behind a plausible header (flags 0/1, small counts), 2000 runs', () => {
    const codec = makeCodec();
    fc.assert(
      fc.property(
        fc.constantFrom(0, 1),
        fc.array(fc.integer({ min: 0, max: 8 }), { maxLength: 3 }),
        fc.integer({ min: 0, max: 64 }),
        fc.uint8Array({ maxLength: 512 }),
        fc.boolean(),
        (flags, lengths, jsonLength, rest, ctx) => {
          const head = buildPayload({ flags, json: new Uint8Array(0), lengths, jsonLength, ...(flags ? { meta: new Uint8Array(0) } : {}) });
          const payload = new Uint8Array(head.length + rest.length);
          payload.set(head);
          payload.set(rest, head.length);
          decodesOrProtocolError(codec, payload, ctx);
        },
      ),
      { numRuns: 2000 },
    );
  });

  it('mutated valid payloads (flip / set / insert / delete bytes), 2000 runs', () => {
    const codec = makeCodec();
    const seeds = seedPayloads();
    const valid = fc.oneof(
      fc.constantFrom(...seeds),
      anyValue.map((v) => codec.encodeToBytes(v)),
    );
    fc.assert(
      fc.property(valid, fc.array(mutation, { minLength: 1, maxLength: 6 }), fc.boolean(), (payload, ops, ctx) =>
        decodesOrProtocolError(codec, mutate(payload, ops), ctx),
      ),
      { numRuns: 2000 },
    );
  });

  it('valid JSON with random superjson-like meta (annotations, paths, references, attachments), 2000 runs', () => {
    const codec = makeCodec();
    const segment = fc.oneof(
      fc.constantFrom('a', 'b', '0', '1', '2', 'x', 'n', 'm', 'c', '', 'length', 'toString', '__proto__', 'constructor', 'prototype'),
      fc.nat(5).map(String),
    );
    const path = fc.array(segment, { minLength: 0, maxLength: 4 }).map((s) => s.join('.'));
    const simple = fc.constantFrom('undefined', 'bigint', 'Date', 'Error', 'regexp', 'set', 'map', 'number', 'URL', 'nope');
    const custom = fc.constantFrom('B', 'E', 'S', 'R', 'RS', 'WS', 'X', 'toString').map((n) => ['custom', n]);
    const other = fc.tuple(fc.constantFrom('class', 'symbol', 'typed-array', 'weird'), fc.constantFrom('Uint8Array', 'Float64Array', 'Foo', 'constructor'));
    const annotation: fc.Arbitrary<unknown> = fc.oneof(simple, custom, other);
    const { tree } = fc.letrec<{ tree: unknown }>((tie) => ({
      tree: fc.oneof(
        { depthSize: 'small', maxDepth: 3 },
        fc.tuple(annotation),
        fc.tuple(annotation, fc.dictionary(path, tie('tree'), { maxKeys: 3 })),
        fc.dictionary(path, tie('tree'), { maxKeys: 3 }),
      ),
    }));
    const refs = fc.oneof(
      fc.dictionary(path, fc.array(path, { maxLength: 3 }), { maxKeys: 3 }),
      fc.tuple(fc.array(path, { maxLength: 2 })),
      fc.tuple(fc.array(path, { maxLength: 2 }), fc.dictionary(path, fc.array(path, { maxLength: 2 }), { maxKeys: 2 })),
    );
    const meta = fc.record({ values: tree, referentialEqualities: refs, v: fc.constantFrom(1, 0) }, { requiredKeys: [] });
    const json = fc.oneof(
      fc.jsonValue({ maxDepth: 4 }),
      fc.record({ a: fc.jsonValue({ maxDepth: 2 }), b: fc.jsonValue({ maxDepth: 2 }) }),
      fc.record({ name: fc.string(), message: fc.string(), code: fc.oneof(fc.string(), fc.integer()), cause: fc.jsonValue({ maxDepth: 2 }) }, { requiredKeys: ['name', 'message'] }),
    );
    fc.assert(
      fc.property(json, meta, fc.array(fc.uint8Array({ maxLength: 16 }), { maxLength: 3 }), fc.boolean(), (j, m, attachments, ctx) => {
        decodesOrProtocolError(codec, buildPayload({ json: JSON.stringify(j), meta: JSON.stringify(m), attachments }), ctx);
      }),
      { numRuns: 2000 },
    );
  });
});
