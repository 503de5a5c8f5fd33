/**
 * The flat request path (codec/flat.ts) writes exactly what the general path
 * writes: the same JSON text (JSON.stringify of the value with its reference
 * replaced by the token), the same meta, so a peer cannot tell them apart; and
 * it takes every value it can (plain keys, JSON-safe primitives, at most one
 * channel or stream) and none it must not.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { analyze, Shape, type RefLeaf } from '../../src/codec/depth.js';
import { flatJson } from '../../src/codec/flat.js';
import { pipe } from '../../src/index.js';
import { makeCodec, recordingEncodeContext } from './helpers.js';

const anyKey = fc.oneof(fc.string({ maxLength: 6 }), fc.constantFrom('0', '12', 'a.b', 'a\\b', 'é', '"', '__proto__', 'constructor', 'prototype', 'ret'));
const primitive = fc.oneof(
  fc.string({ maxLength: 80 }),
  fc.string({ unit: 'grapheme', maxLength: 10 }),
  fc.double(),
  fc.integer(),
  fc.constantFrom(0, -0, NaN, Infinity, -Infinity, 1e21, 5e-324),
  fc.boolean(),
  fc.constant(null),
  fc.constant(undefined),
);
const [, sender] = pipe<number>();
const [receiver] = pipe<number>();
const field = fc.oneof({ weight: 6, arbitrary: primitive }, fc.constant(sender), fc.constant(receiver), fc.constant(new Uint8Array(2)), fc.constant([1]), fc.constant({ x: 1 }));
const record = fc.dictionary(anyKey, field, { maxKeys: 20 });

const TOKEN = 41;

describe('flat requests', () => {
  it('write the JSON text the general path writes, and are taken exactly when the general path sees plain JSON or one top-level reference', () => {
    fc.assert(
      fc.property(record, (value) => {
        const flat = flatJson(value);
        const leaves: RefLeaf[] = [];
        let shape: Shape | 'throws';
        try {
          shape = analyze(value, 64, leaves);
        } catch {
          shape = 'throws';
        }
        if (flat === undefined) {
          // Not taken: only values the flat form cannot write as the general path does.
          const keys = Object.keys(value);
          const plainKeys = keys.every((k) => /^[\x20-\x7e]*$/.test(k) && !/["\\]/.test(k) && k !== '__proto__' && k !== 'constructor' && k !== 'prototype');
          const values = Object.values(value);
          const jsonPrimitive = (v: unknown) => typeof v === 'string' || typeof v === 'boolean' || v === null || (typeof v === 'number' && Number.isFinite(v) && !Object.is(v, -0));
          const refs = values.filter((v) => v === sender || v === receiver).length;
          const simple = values.every((v) => jsonPrimitive(v) || v === sender || v === receiver) && refs <= 1;
          expect(plainKeys && keys.length <= 16 && simple, `flat refused ${JSON.stringify(Object.keys(value))}`).toBe(false);
          return;
        }
        expect(shape === Shape.Json || shape === Shape.Refs).toBe(true);
        if (flat.ref === undefined) {
          expect(shape).toBe(Shape.Json);
          expect(flat.text).toBe(JSON.stringify(value));
          return;
        }
        expect(leaves).toHaveLength(1);
        expect(leaves[0]?.path).toEqual([flat.ref.key]);
        expect(flat.ref.value).toBe(leaves[0]?.value);
        expect(flat.text + TOKEN + flat.tail).toBe(JSON.stringify({ ...value, [flat.ref.key]: TOKEN }));
      }),
      { numRuns: 2000 },
    );
  });

  it('a flat request decodes to the same value as before (channel included)', () => {
    const codec = makeCodec();
    const [, ret] = pipe<number>();
    const value = { i: 12, name: 'x"y', ok: true, none: null, ret };
    const { ctx, calls } = recordingEncodeContext();
    const encoded = codec.encodeToBytes(value, ctx);
    expect(calls).toEqual([{ kind: 'sender', object: ret, token: 1 }]);
    const decoded = codec.decode(encoded, { resolve: (kind, token) => ({ kind, token }) }) as Record<string, unknown>;
    expect(decoded).toEqual({ i: 12, name: 'x"y', ok: true, none: null, ret: { kind: 'sender', token: 1 } });
  });
});
