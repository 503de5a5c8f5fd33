/**
 * Messages that are plain JSON plus channels, streams and binary (a request
 * carrying its Ret) skip superjson both ways. Their bytes must be exactly what
 * superjson writes, so every peer decodes them the same way, and the decoder's
 * shortcut must refuse what the general path refuses.
 */
import fc from 'fast-check';
import { SuperJSON } from 'superjson';
import { describe, expect, it } from 'vitest';
import { AbstractReceiver, AbstractSender } from '../../src/channel/ends.js';
import { ByteReader } from '../../src/codec/bytes.js';
import { SIMPLE_META_MAX_CHARS } from '../../src/config.js';
import { pipe } from '../../src/index.js';
import { buildPayload, expectProtocolError, lenientDecodeContext, makeCodec, recordingEncodeContext, richPayload, thrown } from './helpers.js';

const text = new TextDecoder();

/** The parts of a payload, read as codec.ts lays them out. */
function parts(payload: Uint8Array): { rich: boolean; attachments: Uint8Array[]; json: string; meta: string | undefined } {
  const r = new ByteReader(payload);
  const rich = (r.u8() & 1) === 1;
  const count = r.varint();
  const lengths = Array.from({ length: count }, () => r.varint());
  const jsonLength = rich ? r.varint() : -1;
  const attachments = lengths.map((n) => r.bytes(n));
  const json = text.decode(rich ? r.bytes(jsonLength) : r.rest());
  return { rich, attachments, json, meta: rich ? text.decode(r.rest()) : undefined };
}

/** superjson as the codec configures it, with the tokens an encode already handed out. */
function referenceSuperjson(tokens: Map<object, number>): SuperJSON {
  const sj = new SuperJSON();
  const ref = (name: string, is: (v: unknown) => boolean) =>
    sj.registerCustom<object, number>({ isApplicable: (v): v is object => is(v), serialize: (v) => tokens.get(v) as number, deserialize: () => ({}) }, name);
  ref('S', (v) => v instanceof AbstractSender);
  ref('R', (v) => v instanceof AbstractReceiver);
  ref('RS', (v) => v instanceof ReadableStream);
  ref('WS', (v) => v instanceof WritableStream);
  let index = 0;
  sj.registerCustom<ArrayBuffer | ArrayBufferView, string>(
    {
      isApplicable: (v): v is ArrayBuffer | ArrayBufferView => v instanceof ArrayBuffer || ArrayBuffer.isView(v),
      serialize: (v) => {
        const i = index++;
        if (v instanceof ArrayBuffer) return `${i}:`;
        return v instanceof Uint8Array ? String(i) : `${i}:${v.constructor.name}`;
      },
      deserialize: () => new Uint8Array(),
    },
    'B',
  );
  return sj;
}

const reference = fc.constantFrom('sender', 'receiver', 'readable', 'writable', 'bytes', 'int16', 'buffer', 'view').map((kind) => {
  switch (kind) {
    case 'sender':
      return pipe<number>()[1];
    case 'receiver':
      return pipe<number>()[0];
    case 'readable':
      return new ReadableStream();
    case 'writable':
      return new WritableStream();
    case 'bytes':
      return new Uint8Array([1, 2, 3]);
    case 'int16':
      return new Int16Array([-1, 2]);
    case 'buffer':
      return new Uint8Array([9]).buffer;
    default:
      return new DataView(new Uint8Array([4, 5]).buffer);
  }
});

// Keys that need escaping in superjson paths, empty keys and index-like keys included.
const key = fc.oneof(fc.constantFrom('a', 'b.c', 'a\\', '\\.', '.', '', '0', '10', 'ret', 'x.y.z'), fc.string({ maxLength: 4 }));
const jsonLeaf = fc.oneof(fc.string({ maxLength: 8 }), fc.integer(), fc.boolean(), fc.constant(null), fc.double({ noNaN: true, noDefaultInfinity: true }).filter((n) => !Object.is(n, -0)));

const { value: jsonWithReferences } = fc.letrec<{ value: unknown; array: unknown[]; object: Record<string, unknown> }>((tie) => ({
  value: fc.oneof({ depthSize: 'small', maxDepth: 4 }, jsonLeaf, reference, tie('array'), tie('object')),
  array: fc.array(tie('value'), { maxLength: 4 }),
  object: fc
    .uniqueArray(fc.tuple(key, tie('value')), { maxLength: 4, selector: ([k]) => k })
    .map((entries) => Object.fromEntries(entries.filter(([k]) => !['__proto__', 'constructor', 'prototype'].includes(k)))),
}));

function isReference(v: unknown): boolean {
  return v instanceof AbstractSender || v instanceof AbstractReceiver || v instanceof ReadableStream || v instanceof WritableStream || v instanceof ArrayBuffer || ArrayBuffer.isView(v);
}

/** The value with every channel or stream replaced by what the decode context hands back for its token. */
function expectedAfterDecode(value: unknown, tokens: Map<object, number>): unknown {
  if (typeof value !== 'object' || value === null) return value;
  if (value instanceof ArrayBuffer || ArrayBuffer.isView(value)) return value;
  if (isReference(value)) {
    const kind = value instanceof AbstractSender ? 'sender' : value instanceof AbstractReceiver ? 'receiver' : value instanceof ReadableStream ? 'readable' : 'writable';
    return { resolved: kind, token: tokens.get(value) };
  }
  if (Array.isArray(value)) return value.map((v) => expectedAfterDecode(v, tokens));
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, expectedAfterDecode(v, tokens)]));
}

describe('JSON plus references: superjson format without superjson', () => {
  it('writes byte for byte what superjson writes, and decodes back to the same structure (1000 runs)', () => {
    const codec = makeCodec();
    fc.assert(
      fc.property(jsonWithReferences, (value) => {
        const enc = recordingEncodeContext();
        const payload = codec.encodeToBytes(value, enc.ctx);
        const tokens = new Map(enc.calls.map((c) => [c.object, c.token]));
        const got = parts(payload);
        const hasReference = JSON.stringify(value, (_k, v: unknown) => (isReference(v) ? '\u0000ref' : v)).includes('\\u0000ref');
        expect(got.rich).toBe(hasReference);
        if (hasReference) {
          const expected = referenceSuperjson(tokens).serialize(value);
          expect(got.json).toBe(JSON.stringify(expected.json));
          expect(got.meta).toBe(JSON.stringify(expected.meta));
        }
        const dec = lenientDecodeContext();
        const decoded = codec.decode(payload, dec.ctx);
        expect(decoded).toEqual(expectedAfterDecode(value, tokens));
        expect(dec.calls.length).toBe(enc.calls.length);
      }),
      { numRuns: 1000 },
    );
  });

  it('never writes to the value it encodes', () => {
    const codec = makeCodec();
    const [, ret] = pipe<number>();
    const bytes = new Uint8Array([1, 2]);
    const inner = { ret, list: [bytes, 1] };
    const value = { i: 1, inner };
    codec.encodeToBytes(value, recordingEncodeContext().ctx);
    expect(value.inner).toBe(inner);
    expect(inner.ret).toBe(ret);
    expect(inner.list[0]).toBe(bytes);
    expect(Object.keys(value)).toEqual(['i', 'inner']);
  });

  it('a channel or stream as the whole message, and a Ret request', () => {
    const codec = makeCodec();
    const [, ret] = pipe<number>();
    expect(parts(codec.encodeToBytes(ret, recordingEncodeContext([5]).ctx))).toMatchObject({ json: '5', meta: '{"values":[["custom","S"]],"v":1}' });
    expect(parts(codec.encodeToBytes({ i: 1, ret }, recordingEncodeContext([3]).ctx))).toMatchObject({ json: '{"i":1,"ret":3}', meta: '{"values":{"ret":[["custom","S"]]},"v":1}' });
  });

  it('a reference under a key superjson refuses is refused the same way (TypeError)', () => {
    const codec = makeCodec();
    const [, ret] = pipe<number>();
    for (const bad of ['__proto__', 'constructor', 'prototype']) {
      const value = Object.fromEntries([[bad, { ret }]]);
      expect(thrown(() => codec.encodeToBytes(value, recordingEncodeContext().ctx))).toBeInstanceOf(TypeError);
    }
  });
});

describe('references-only messages from a peer', () => {
  const decode = (json: unknown, meta: unknown, attachments: Uint8Array[] = []) => makeCodec().decode(richPayload(json, meta, attachments), lenientDecodeContext().ctx);
  const S = [['custom', 'S']];

  it('revives each reference in place', () => {
    expect(decode({ i: 1, ret: 3, list: [0, 4] }, { values: { ret: S, 'list.1': [['custom', 'R']] }, v: 1 })).toEqual({
      i: 1,
      ret: { resolved: 'sender', token: 3 },
      list: [0, { resolved: 'receiver', token: 4 }],
    });
    expect(decode(7, { values: S })).toEqual({ resolved: 'sender', token: 7 });
    expect(decode({ 'a.b': { '': 2 } }, { values: { 'a\\.b.': S } })).toEqual({ 'a.b': { '': { resolved: 'sender', token: 2 } } });
    const out = decode({ b: '0:Int16Array' }, { values: { b: [['custom', 'B']] } }, [new Uint8Array([1, 0, 2, 0])]) as { b: Int16Array };
    expect(out.b).toBeInstanceOf(Int16Array);
    expect([...out.b]).toEqual([1, 2]);
  });

  it('refuses paths that leave the message’s own data, and bad tokens (ProtocolError)', () => {
    const cases: [unknown, unknown, Uint8Array[]?][] = [
      [{}, { values: { toString: S } }],
      [{ a: {} }, { values: { 'a.hasOwnProperty': S } }],
      [JSON.parse('{"__proto__":1}'), JSON.parse('{"values":{"__proto__":[["custom","S"]]}}')],
      [JSON.parse('{"__proto__":{"x":1}}'), { values: { '__proto__.x': S } }],
      [{ constructor: 1 }, { values: { constructor: S } }],
      [[1], { values: { '1': S } }],
      [[1], { values: { '01': S } }],
      [[1], { values: { length: S } }],
      ['x', { values: { '0': S } }],
      [{ a: 1 }, { values: { a: S, 'a.b': S } }],
      [{ a: 'x' }, { values: { a: S } }],
      [{ a: -1 }, { values: { a: S } }],
      [{ a: 1.5 }, { values: { a: S } }],
      [{ a: '1' }, { values: { a: [['custom', 'B']] } }],
      [{ a: 1 }, { values: { a: [['custom', 'B']] } }],
      [{ a: '0:Nope' }, { values: { a: [['custom', 'B']] } }, [new Uint8Array(2)]],
      [{ a: 1 }, { values: { a: [['custom', 'S']] }, v: 2 }],
      [{ a: 1 }, { values: { a: [['custom', 'S']] }, extra: 1 }],
      [{ a: 1 }, { values: { a: [['custom', 'X']] } }],
    ];
    for (const [json, meta, attachments] of cases) {
      expect(JSON.stringify([json, meta]), 'the case is what it says').not.toBe('');
      expectProtocolError(() => makeCodec().decode(richPayload(json, meta, attachments ?? []), lenientDecodeContext().ctx));
    }
  });

  it('a meta seen before is still checked against each message’s data', () => {
    const codec = makeCodec();
    const meta = { values: { ret: S }, v: 1 };
    expect(codec.decode(richPayload({ ret: 1 }, meta), lenientDecodeContext().ctx)).toEqual({ ret: { resolved: 'sender', token: 1 } });
    expectProtocolError(() => codec.decode(richPayload({}, meta), lenientDecodeContext().ctx));
    expectProtocolError(() => codec.decode(richPayload({ ret: 'x' }, meta), lenientDecodeContext().ctx));
    expectProtocolError(() => codec.decode(richPayload([1], meta), lenientDecodeContext().ctx));
    // Many distinct shapes (more than the codec remembers) all decode.
    for (let i = 0; i < 200; i++) {
      expect(codec.decode(richPayload({ [`k${i}`]: i + 1 }, { values: { [`k${i}`]: S }, v: 1 }), lenientDecodeContext().ctx)).toEqual({
        [`k${i}`]: { resolved: 'sender', token: i + 1 },
      });
    }
  });

  it('a meta matched in place is only ever the very same bytes', () => {
    const codec = makeCodec();
    const ctx = lenientDecodeContext().ctx;
    expect(codec.decode(richPayload({ ret: 1 }, { values: { ret: S }, v: 1 }), ctx)).toEqual({ ret: { resolved: 'sender', token: 1 } });
    // Same length, other path: a different meta, decoded as such.
    expect(codec.decode(richPayload({ rex: 2 }, { values: { rex: S }, v: 1 }), ctx)).toEqual({ rex: { resolved: 'sender', token: 2 } });
    expect(codec.decode(richPayload({ ret: 3 }, { values: { ret: S }, v: 1 }), ctx)).toEqual({ ret: { resolved: 'sender', token: 3 } });
    // Same length, unknown type name: refused, not mistaken for the meta before it.
    expectProtocolError(() => codec.decode(richPayload({ ret: 4 }, { values: { ret: [['custom', 'Q']] }, v: 1 }), ctx));
    // Same length, a receiver instead of a sender.
    expect(codec.decode(richPayload({ ret: 5 }, { values: { ret: [['custom', 'R']] }, v: 1 }), ctx)).toEqual({ ret: { resolved: 'receiver', token: 5 } });
  });

  it('remembers only short metas (a peer cannot park whole messages in the codec)', () => {
    const codec = makeCodec();
    const remembered = (): number => (codec as unknown as { simpleMetas: Map<string, unknown> }).simpleMetas.size;
    codec.decode(richPayload({ ret: 1 }, { values: { ret: S }, v: 1 }), lenientDecodeContext().ctx);
    expect(remembered()).toBe(1);
    const json: Record<string, string> = {};
    const values: Record<string, unknown> = {};
    for (let i = 0; i < 100; i++) {
      json[`key${i}`] = '0';
      values[`key${i}`] = [['custom', 'B']];
    }
    const out = codec.decode(richPayload(json, { values, v: 1 }, [new Uint8Array([5])]), lenientDecodeContext().ctx) as Record<string, Uint8Array>;
    expect(Array.from(out.key99 as Uint8Array)).toEqual([5]);
    expect(remembered()).toBe(1);
    // Nor is a long one kept as the meta matched in place.
    const recent = (codec as unknown as { lastMetaBytes: Uint8Array | undefined }).lastMetaBytes;
    expect(recent?.byteLength).toBeLessThanOrEqual(SIMPLE_META_MAX_CHARS);
  });

  it('without a decode context a reference is a ProtocolError', () => {
    expectProtocolError(() => makeCodec().decode(buildPayload({ json: '{"ret":1}', meta: '{"values":{"ret":[["custom","S"]]},"v":1}' })));
  });
});
