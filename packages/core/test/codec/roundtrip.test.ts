import { SuperJSON } from 'superjson';
import { describe, expect, it } from 'vitest';
import { Codec } from '../../src/codec/codec.js';
import { MAX_ERROR_CAUSE_DEPTH, MAX_REASON_CHARS } from '../../src/config.js';
import {
  ChannelClosedError,
  LimitExceededError,
  ProtocolError,
  SessionClosedError,
} from '../../src/errors.js';
import { makeCodec, roundTrip, textBytes } from './helpers.js';

describe('round trip of superjson types', () => {
  it('plain objects and arrays (fast path: flags 0, no attachments, JSON text)', () => {
    const value = { a: 1, b: 'two', c: [true, false, null, 3.5], d: { e: { f: [] }, g: {} } };
    const bytes = makeCodec().encodeToBytes(value);
    expect(Array.from(bytes)).toEqual([0, 0, ...textBytes(JSON.stringify(value))]);
    const decoded = roundTrip(value);
    expect(decoded).toStrictEqual(value);
    expect(decoded).not.toBe(value);
    expect(Object.getPrototypeOf(decoded)).toBe(Object.prototype);
  });

  it('strings: unicode, astral, lone surrogates, control chars, longer than the scratch buffer', () => {
    const values = ['', 'héllo wörld', '😀 𝄞 ﷽', '\ud800', 'a\udc00b', '\u0000\u001f"\\/\n', 'é😀'.repeat(50_000)];
    for (const s of values) {
      expect(roundTrip(s)).toBe(s);
      expect(roundTrip({ s, d: new Date(0) })).toStrictEqual({ s, d: new Date(0) });
    }
  });

  it('Date (value and type), including extremes', () => {
    for (const d of [new Date(0), new Date(1_700_000_000_123), new Date(-8.64e15), new Date(8.64e15)]) {
      const out = roundTrip(d);
      expect(out).toBeInstanceOf(Date);
      expect(out.getTime()).toBe(d.getTime());
    }
    const nested = roundTrip({ when: [new Date(5)] });
    expect(nested.when[0]).toBeInstanceOf(Date);
    expect(nested.when[0]?.getTime()).toBe(5);
  });

  // BUG: superjson's isDate() rejects invalid dates, so the Date falls through untransformed
  // and JSON.stringify turns it into null.
  it('an Invalid Date arrives as an Invalid Date (not null)', () => {
    const out = roundTrip(new Date(Number.NaN)) as unknown;
    expect(out).toBeInstanceOf(Date);
    expect(Number.isNaN((out as Date).getTime())).toBe(true);
  });

  it('Map and Set, with object keys and nested structure', () => {
    const key = { id: 1 };
    const map = new Map<unknown, unknown>([
      ['a', 1],
      [2, new Set([1, 'x', new Date(3)])],
      [key, new Map([[1n, [undefined]]])],
    ]);
    const out = roundTrip(map);
    expect(out).toBeInstanceOf(Map);
    expect(out).toStrictEqual(map);
    expect([...out.keys()][2]).toStrictEqual(key);
    const set = new Set<unknown>([1, 'a', { b: 2 }, [3], new Map([[1, 2]])]);
    const outSet = roundTrip(set);
    expect(outSet).toBeInstanceOf(Set);
    expect(outSet).toStrictEqual(set);
    expect(roundTrip(new Map())).toStrictEqual(new Map());
    expect(roundTrip(new Set())).toStrictEqual(new Set());
  });

  it('BigInt (small, negative, huge)', () => {
    for (const b of [0n, -1n, 2n ** 64n, -(2n ** 200n) + 7n]) {
      expect(roundTrip(b)).toBe(b);
    }
    expect(roundTrip({ n: [10n] })).toStrictEqual({ n: [10n] });
  });

  it('RegExp keeps source and flags', () => {
    for (const r of [/a+b/gi, /a\/b[/]c/u, /^$/, new RegExp('x', 'dgimsuy')]) {
      const out = roundTrip(r);
      expect(out).toBeInstanceOf(RegExp);
      expect(out.source).toBe(r.source);
      expect(out.flags).toBe(r.flags);
    }
  });

  it('URL', () => {
    const u = new URL('https://user:pw@example.com:8443/p/a?q=1&r=%20#frag');
    const out = roundTrip({ u });
    expect(out.u).toBeInstanceOf(URL);
    expect(out.u.href).toBe(u.href);
  });

  it('undefined at top level and inside objects and arrays (keys kept)', () => {
    expect(roundTrip(undefined)).toBeUndefined();
    const out = roundTrip({ a: undefined, b: [undefined, 1, undefined] });
    expect(Object.keys(out)).toEqual(['a', 'b']);
    expect('a' in out).toBe(true);
    expect(out.a).toBeUndefined();
    expect(out.b).toHaveLength(3);
    expect(out.b[0]).toBeUndefined();
    expect(0 in out.b).toBe(true);
    expect(out).toStrictEqual({ a: undefined, b: [undefined, 1, undefined] });
  });

  it('NaN, Infinity, -Infinity and -0 at top level and nested', () => {
    for (const n of [Number.NaN, Infinity, -Infinity, -0]) {
      expect(Object.is(roundTrip(n), n)).toBe(true);
      const out = roundTrip({ n, list: [n], m: new Map([['k', n]]) });
      expect(Object.is(out.n, n)).toBe(true);
      expect(Object.is(out.list[0], n)).toBe(true);
      expect(Object.is(out.m.get('k'), n)).toBe(true);
    }
    expect(Object.is(roundTrip(0), 0)).toBe(true);
  });

  it.each([
    ['0', 0],
    ['false', false],
    ["''", ''],
    ['null', null],
    ['undefined', undefined],
  ])('falsy top-level value %s', (_, v) => {
    expect(Object.is(roundTrip(v), v)).toBe(true);
  });

  it('numbers at the edge of precision', () => {
    const values = [Number.MAX_SAFE_INTEGER, Number.MIN_SAFE_INTEGER, Number.MAX_VALUE, Number.MIN_VALUE, 0.1 + 0.2, -1e-300];
    expect(roundTrip(values)).toStrictEqual(values);
  });

  it('shared references keep their identity', () => {
    const obj = { x: 1 };
    const arr = [obj, obj];
    const out = roundTrip(arr);
    expect(out[0]).toStrictEqual({ x: 1 });
    expect(out[0]).toBe(out[1]);

    const date = new Date(1);
    const list = [7];
    const map = new Map([['a', list]]);
    const out2 = roundTrip({ d1: date, d2: date, list, map, set: new Set([list]) });
    expect(out2.d1).toBe(out2.d2);
    expect(out2.map.get('a')).toBe(out2.list);
    expect([...out2.set][0]).toBe(out2.list);

    const err = new Error('shared');
    const out3 = roundTrip([err, { e: err }]);
    expect(out3[0]).toBeInstanceOf(Error);
    expect(out3[0]).toBe((out3[1] as { e: Error }).e);
  });

  // BUG (superjson, reachable through the codec): superjson's isPrimitive() is false for NaN, so
  // every NaN gets an identity and NaNs in two places are recorded as a "shared reference".
  // Restoring it into a Map key does map.set(NaN, …) then, because NaN !== NaN, deletes the key
  // again (accessDeep.js setDeep): the Map entry is lost. Into a Set it deletes and re-adds,
  // moving NaN to the end (insertion order changes).
  it('NaN in two places, one of them a Map key: the entry survives', () => {
    const out = roundTrip({ a: Number.NaN, m: new Map([[Number.NaN, 1], [2, 3]]) });
    expect(Number.isNaN(out.a)).toBe(true);
    expect(out.m.size).toBe(2);
    expect(out.m.get(Number.NaN)).toBe(1);
  });

  it('NaN in two places, one of them in a Set: Set order is kept', () => {
    const out = roundTrip([Number.NaN, new Set([Number.NaN, 1])]);
    expect([...out[1] as Set<number>]).toEqual([Number.NaN, 1]);
  });

  it('cyclic references through objects, arrays, Maps and Sets', () => {
    const a: Record<string, unknown> = { name: 'a' };
    a.self = a;
    const outA = roundTrip(a);
    expect(outA.self).toBe(outA);
    expect(outA.name).toBe('a');

    const arr: unknown[] = [1];
    arr.push(arr);
    const outArr = roundTrip(arr);
    expect(outArr[1]).toBe(outArr);

    const m = new Map<string, unknown>();
    m.set('me', m);
    const outM = roundTrip(m);
    expect(outM.get('me')).toBe(outM);

    const s = new Set<unknown>();
    s.add(s);
    const outS = roundTrip(s);
    expect([...outS][0]).toBe(outS);

    const parent: { children: unknown[] } = { children: [] };
    parent.children.push({ parent }, { parent });
    const outP = roundTrip(parent);
    expect((outP.children[0] as { parent: unknown }).parent).toBe(outP);
    expect((outP.children[1] as { parent: unknown }).parent).toBe(outP);
  });

  it('the codec instance keeps its transformers to itself (the global superjson is untouched)', () => {
    const { meta } = SuperJSON.serialize(new Uint8Array([1, 2]));
    expect(JSON.stringify(meta)).not.toContain('custom');
    // Two codecs work independently.
    const a = new Codec({ maxNestingDepth: 8 });
    const b = new Codec({ maxNestingDepth: 64 });
    const bin = new Uint8Array([9, 8, 7]);
    expect(b.decode(a.encodeToBytes({ bin }))).toStrictEqual({ bin });
  });
});

describe('encode output', () => {
  it('leaves the requested headroom in front and reports the payload size', () => {
    const codec = makeCodec();
    const value = { a: [1, 2, 3], d: new Date(0), bin: new Uint8Array([1, 2, 3]) };
    const plain = codec.encodeToBytes(value);
    const out = codec.encode(value, undefined, 13);
    expect(out.offset).toBe(13);
    expect(out.byteLength).toBe(plain.byteLength);
    expect(out.bytes.byteLength).toBe(13 + out.byteLength);
    expect(Array.from(out.bytes.subarray(0, 13))).toEqual(new Array(13).fill(0));
    expect(Array.from(out.bytes.subarray(13))).toEqual(Array.from(plain));
    expect(codec.decode(out.bytes.subarray(out.offset, out.offset + out.byteLength))).toStrictEqual(value);
  });

  it('a later encode does not overwrite an earlier result (scratch buffer is copied out)', () => {
    const codec = makeCodec();
    const big = { text: 'x'.repeat(20_000), d: new Date(1), keys: Object.fromEntries(Array.from({ length: 500 }, (_, i) => [`k${i}`, new Date(i)])) };
    const first = codec.encodeToBytes(big);
    const copy = first.slice();
    codec.encodeToBytes({ other: 'y'.repeat(30_000), d: new Date(2) });
    codec.encodeToBytes('z');
    expect(first).toEqual(copy);
    expect(codec.decode(first)).toStrictEqual(big);
  });

  it('large JSON and large meta together (scratch growth while writing the meta)', () => {
    const value: Record<string, unknown> = { pad: 'p'.repeat(3000) };
    for (let i = 0; i < 2000; i++) value[`date_${i}_${'m'.repeat(20)}`] = new Date(i);
    expect(roundTrip(value)).toStrictEqual(value);
  });
});

describe('mutation after encode', () => {
  it('the value is serialized during encode: later changes do not show in the decoded value', () => {
    const codec = makeCodec();
    const inner = { n: 1 };
    const bin = new Uint8Array([1, 2, 3]);
    const date = new Date(1000);
    const map = new Map([['k', 'v']]);
    const set = new Set([1]);
    const source = { inner, list: [1, 2], bin, date, map, set, buf: bin.buffer.slice(0) };
    const bytes = codec.encodeToBytes(source);
    inner.n = 99;
    source.list.push(3);
    bin[0] = 200;
    new Uint8Array(source.buf)[1] = 77;
    date.setTime(0);
    map.set('k', 'changed');
    set.add(2);
    (source as Record<string, unknown>).added = true;
    expect(codec.decode(bytes)).toStrictEqual({
      inner: { n: 1 },
      list: [1, 2],
      bin: new Uint8Array([1, 2, 3]),
      date: new Date(1000),
      map: new Map([['k', 'v']]),
      set: new Set([1]),
      buf: new Uint8Array([1, 2, 3]).buffer,
    });
  });

  it('plain JSON values too', () => {
    const codec = makeCodec();
    const source = { a: [1, { b: 2 }] };
    const bytes = codec.encodeToBytes(source);
    (source.a[1] as { b: number }).b = 3;
    expect(codec.decode(bytes)).toStrictEqual({ a: [1, { b: 2 }] });
  });
});

describe('binary travels out of band', () => {
  const typed = [
    new Int8Array([-128, 0, 127]),
    new Uint8Array([0, 1, 255]),
    new Uint8ClampedArray([0, 128, 255]),
    new Int16Array([-32768, 1, 32767]),
    new Uint16Array([0, 65535]),
    new Int32Array([-(2 ** 31), 2 ** 31 - 1]),
    new Uint32Array([0, 2 ** 32 - 1]),
    new Float32Array([1.5, Number.NaN, -0, Infinity]),
    new Float64Array([Math.PI, -0, Number.NaN, -Infinity, Number.MIN_VALUE]),
    new BigInt64Array([-(2n ** 63n), 2n ** 63n - 1n]),
    new BigUint64Array([0n, 2n ** 64n - 1n]),
  ];

  function bytesOf(v: ArrayBufferView | ArrayBuffer): number[] {
    return v instanceof ArrayBuffer ? Array.from(new Uint8Array(v)) : Array.from(new Uint8Array(v.buffer, v.byteOffset, v.byteLength));
  }

  it.each(typed.map((t) => [t.constructor.name, t] as const))('%s round-trips byte-exact with its type', (_, t) => {
    const out = roundTrip({ t }).t as ArrayBufferView;
    expect(out.constructor).toBe(t.constructor);
    expect(bytesOf(out)).toEqual(bytesOf(t));
    expect(out.byteOffset).toBe(0);
    expect(out.buffer.byteLength).toBe(t.byteLength);
  });

  it('ArrayBuffer and DataView round-trip byte-exact', () => {
    const ab = new Uint8Array([5, 6, 7, 8]).buffer;
    const outAb = roundTrip(ab);
    expect(outAb).toBeInstanceOf(ArrayBuffer);
    expect(bytesOf(outAb)).toEqual([5, 6, 7, 8]);

    const backing = new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8]).buffer;
    const dv = new DataView(backing, 2, 4);
    const outDv = roundTrip({ dv }).dv;
    expect(outDv).toBeInstanceOf(DataView);
    expect(outDv.byteLength).toBe(4);
    expect(outDv.byteOffset).toBe(0);
    expect(bytesOf(outDv)).toEqual([3, 4, 5, 6]);
    expect(outDv.buffer.byteLength).toBe(4);
  });

  it('a view into a bigger buffer sends only its own bytes', () => {
    const big = new Uint8Array(1000).map((_, i) => i & 0xff);
    const view = big.subarray(100, 110);
    const codec = makeCodec();
    const bytes = codec.encodeToBytes(view);
    expect(bytes.byteLength).toBeLessThan(100); // the backing buffer is 1000 bytes
    const out = codec.decode(bytes) as Uint8Array;
    expect(Array.from(out)).toEqual(Array.from(view));
    expect(out.buffer.byteLength).toBe(10);
    const f64 = new Float64Array(new ArrayBuffer(64), 16, 2);
    f64.set([1.25, -2.5]);
    const outF = roundTrip(f64);
    expect(outF).toBeInstanceOf(Float64Array);
    expect(Array.from(outF)).toEqual([1.25, -2.5]);
  });

  it('empty binary', () => {
    expect(roundTrip(new Uint8Array(0))).toStrictEqual(new Uint8Array(0));
    expect(roundTrip(new ArrayBuffer(0))).toStrictEqual(new ArrayBuffer(0));
    expect(roundTrip(new Float64Array(0))).toStrictEqual(new Float64Array(0));
  });

  it('binary inside Maps, Sets, arrays and next to other rich values', () => {
    const value = {
      m: new Map<unknown, unknown>([[new Uint8Array([1]), new Int16Array([-2])]]),
      s: new Set([new Uint8Array([3])]),
      l: [new Uint8Array([4]), new Date(4), new Uint8Array([5, 6])],
    };
    expect(roundTrip(value)).toStrictEqual(value);
  });

  it('a 1 MiB Uint8Array grows the payload by about 1 MiB (raw, not base64)', () => {
    const MiB = 1024 * 1024;
    const data = new Uint8Array(MiB);
    for (let i = 0; i < data.length; i += 997) data[i] = i & 0xff;
    const codec = makeCodec();
    const small = codec.encodeToBytes({ data: new Uint8Array(0), note: 'x' }).byteLength;
    const bytes = codec.encodeToBytes({ data, note: 'x' });
    expect(bytes.byteLength).toBeGreaterThanOrEqual(MiB);
    expect(bytes.byteLength).toBeLessThan(1.01 * MiB + 256);
    expect(bytes.byteLength - small).toBeLessThanOrEqual(MiB + 8);
    const out = codec.decode(bytes) as { data: Uint8Array };
    expect(out.data.byteLength).toBe(MiB);
    expect(Buffer.from(out.data).equals(Buffer.from(data))).toBe(true);
  });

  it('a shared binary value is sent once and keeps its identity', () => {
    const codec = makeCodec();
    const bin = new Uint8Array(64 * 1024).fill(3);
    const bytes = codec.encodeToBytes([bin, bin, { again: bin }]);
    expect(bytes.byteLength).toBeLessThan(64 * 1024 + 200);
    const out = codec.decode(bytes) as [Uint8Array, Uint8Array, { again: Uint8Array }];
    expect(out[0]).toBe(out[1]);
    expect(out[2].again).toBe(out[0]);
    expect(out[0].byteLength).toBe(64 * 1024);
  });

  it('decoded binary owns its memory: mutating the payload after decode changes nothing', () => {
    const codec = makeCodec();
    const value = {
      u8: new Uint8Array([1, 2, 3, 4]),
      ab: new Uint8Array([5, 6]).buffer,
      i32: new Int32Array([7, 8]),
      dv: new DataView(new Uint8Array([9, 10]).buffer),
    };
    const payload = codec.encodeToBytes(value);
    const out = codec.decode(payload) as typeof value;
    expect(out.u8.buffer.byteLength).toBe(out.u8.byteLength);
    expect(out.i32.buffer.byteLength).toBe(out.i32.byteLength);
    expect(out.dv.buffer.byteLength).toBe(out.dv.byteLength);
    expect(out.ab.byteLength).toBe(2);
    for (const v of [out.u8, out.i32, out.dv]) expect(v.buffer).not.toBe(payload.buffer);
    expect(out.ab).not.toBe(payload.buffer);
    payload.fill(0xee);
    expect(out).toStrictEqual({
      u8: new Uint8Array([1, 2, 3, 4]),
      ab: new Uint8Array([5, 6]).buffer,
      i32: new Int32Array([7, 8]),
      dv: new DataView(new Uint8Array([9, 10]).buffer),
    });
  });

  it('decoding a payload that is a view into a bigger frame buffer', () => {
    const codec = makeCodec();
    const value = { bin: new Uint8Array([42, 43]), d: new Date(9) };
    const payload = codec.encodeToBytes(value);
    const frame = new Uint8Array(payload.byteLength + 20).fill(0xff);
    frame.set(payload, 10);
    const out = codec.decode(frame.subarray(10, 10 + payload.byteLength)) as typeof value;
    expect(out).toStrictEqual(value);
    expect(out.bin.buffer.byteLength).toBe(2);
  });
});

describe('errors on the wire', () => {
  function causes(e: unknown): unknown[] {
    const out: unknown[] = [];
    let cur = e;
    while (cur instanceof Error && 'cause' in cur) {
      out.push(cur.cause);
      cur = cur.cause;
    }
    return out;
  }

  it('name, message, string code and cause cross', () => {
    const inner = Object.assign(new Error('inner'), { code: 'EINNER' });
    const e = Object.assign(new Error('outer', { cause: inner }), { code: 'EOUTER' });
    const out = roundTrip(e) as Error & { code?: string };
    expect(out).toBeInstanceOf(Error);
    expect(out.name).toBe('Error');
    expect(out.message).toBe('outer');
    expect(out.code).toBe('EOUTER');
    const c = out.cause as Error & { code?: string };
    expect(c).toBeInstanceOf(Error);
    expect(c.message).toBe('inner');
    expect(c.code).toBe('EINNER');
    expect('cause' in c).toBe(false);
  });

  it('a non-string code does not cross; non-Error causes do', () => {
    const e = Object.assign(new Error('x', { cause: { detail: [1, 2], when: new Date(3) } }), { code: 42 });
    const out = roundTrip(e) as Error & { code?: unknown };
    expect(out.code).toBeUndefined();
    expect(out.cause).toStrictEqual({ detail: [1, 2], when: new Date(3) });
    expect((roundTrip(new Error('y', { cause: 'text' })) as Error).cause).toBe('text');
    expect((roundTrip(new Error('z', { cause: null })) as Error).cause).toBeNull();
  });

  it('stack never crosses (top level and in causes)', () => {
    const e = new Error('boom', { cause: new TypeError('deeper') });
    expect(e.stack).toMatch(/\n\s+at /);
    const out = roundTrip({ e }).e;
    expect(out.stack ?? '').not.toMatch(/\bat\s+\S+.*:\d+:\d+/);
    expect(out.stack ?? '').not.toMatch(/\n\s+at /);
    expect((out.cause as Error).stack ?? '').not.toMatch(/\n\s+at /);
    const bytes = new TextDecoder().decode(makeCodec().encodeToBytes(e));
    expect(bytes).not.toContain('roundtrip.test');
    expect(bytes).not.toMatch(/\n\s+at |\\n\s+at /);
  });

  it(`cause depth is limited to MAX_ERROR_CAUSE_DEPTH (${MAX_ERROR_CAUSE_DEPTH})`, () => {
    let e: Error = new Error('level 9');
    for (let i = 8; i >= 0; i--) e = new Error(`level ${i}`, { cause: e });
    const out = roundTrip(e);
    const chain = causes(out);
    expect(chain.length).toBeLessThanOrEqual(MAX_ERROR_CAUSE_DEPTH);
    expect(chain.length).toBe(MAX_ERROR_CAUSE_DEPTH);
    expect((out as Error).message).toBe('level 0');
    chain.forEach((c, i) => {
      expect(c).toBeInstanceOf(Error);
      expect((c as Error).message).toBe(`level ${i + 1}`);
    });
    // A chain exactly as deep as the limit arrives whole.
    let f: Error = new Error(`f${MAX_ERROR_CAUSE_DEPTH}`);
    for (let i = MAX_ERROR_CAUSE_DEPTH - 1; i >= 0; i--) f = new Error(`f${i}`, { cause: f });
    expect(causes(roundTrip(f))).toHaveLength(MAX_ERROR_CAUSE_DEPTH);
    // The limit applies per encode: the same chain encoded again is cut the same way.
    expect(causes(roundTrip(e))).toHaveLength(MAX_ERROR_CAUSE_DEPTH);
  });

  // BUG: analyze() (depth.ts) walks the whole cause chain against maxNestingDepth although only
  // MAX_ERROR_CAUSE_DEPTH causes are ever sent, so an error wrapped many times cannot be sent
  // at all (LimitExceededError) instead of arriving with its chain cut.
  it('a cause chain longer than maxNestingDepth is cut, not refused', () => {
    let e: Error = new Error('root cause');
    for (let i = 0; i < 100; i++) e = new Error(`wrap ${i}`, { cause: e });
    const out = roundTrip(e) as Error;
    expect(out.message).toBe('wrap 99');
    expect(causes(out)).toHaveLength(MAX_ERROR_CAUSE_DEPTH);
  });

  it('long messages are cut at MAX_REASON_CHARS', () => {
    const out = roundTrip(new Error('m'.repeat(MAX_REASON_CHARS + 100))) as Error;
    expect(out.message).toBe('m'.repeat(MAX_REASON_CHARS));
  });

  it('libchan error classes arrive as instances of their class with their code', () => {
    const cases = [
      new ChannelClosedError('gone away', { code: 'TRANSFERRED' }),
      new ChannelClosedError(),
      new SessionClosedError('session ended', { cause: new Error('socket') }),
      new ProtocolError('bad', { code: 'BAD_FRAME' }),
      new LimitExceededError('too big', { limit: 'maxMessageBytes' }),
    ];
    for (const e of cases) {
      const out = roundTrip(e);
      expect(out).toBeInstanceOf(e.constructor as new () => Error);
      expect(out.name).toBe(e.name);
      expect(out.message).toBe(e.message);
      expect(out.code).toBe(e.code);
      expect(out.stack ?? '').not.toMatch(/\n\s+at /);
    }
    const s = roundTrip(cases[2] as SessionClosedError);
    expect(s.cause).toBeInstanceOf(Error);
    expect((s.cause as Error).message).toBe('socket');
  });

  it('standard error classes arrive as themselves', () => {
    for (const Ctor of [TypeError, RangeError, SyntaxError, ReferenceError, EvalError, URIError]) {
      const out = roundTrip(new Ctor('std'));
      expect(out).toBeInstanceOf(Ctor);
      expect(out.name).toBe(Ctor.name);
      expect(out.message).toBe('std');
    }
  });

  it('unknown names keep their name (as a plain Error)', () => {
    class CustomFailure extends Error {
      override name = 'CustomFailure';
      code = 'E_CUSTOM';
    }
    const out = roundTrip(new CustomFailure('custom')) as Error & { code?: string };
    expect(out).toBeInstanceOf(Error);
    expect(out).not.toBeInstanceOf(CustomFailure);
    expect(out.name).toBe('CustomFailure');
    expect(out.message).toBe('custom');
    expect(out.code).toBe('E_CUSTOM');
    // A renamed standard error keeps the name too.
    const renamed = Object.assign(new Error('r'), { name: 'HttpError' });
    expect((roundTrip(renamed) as Error).name).toBe('HttpError');
  });

  it('AbortError / TimeoutError arrive as DOMException', () => {
    const abort = roundTrip(new DOMException('stop', 'AbortError'));
    expect(abort).toBeInstanceOf(DOMException);
    expect(abort.name).toBe('AbortError');
    expect(abort.message).toBe('stop');
    const timeout = roundTrip(new DOMException('late', 'TimeoutError'));
    expect(timeout).toBeInstanceOf(DOMException);
    expect(timeout.name).toBe('TimeoutError');
  });

  // BUG: an object that is both some Error's cause and referenced elsewhere arrives as
  // `undefined` at the other place. The Error travels as {n, m, x}; superjson records the
  // shared object's first path as "<error path>.x", and after decoding getDeep() looks up
  // `.x` on the rebuilt Error (which only has `.cause`), gets undefined and writes that
  // into every other occurrence.
  it('an object shared between an Error cause and another place arrives at both', () => {
    const cause = { k: 1 };
    const out = roundTrip({ e: new Error('x', { cause }), a: { b: cause } });
    expect((out.e as Error).cause).toStrictEqual({ k: 1 });
    expect(out.a.b).toStrictEqual({ k: 1 });
  });

  it('an Error that is another Error\'s cause and also referenced elsewhere arrives at both', () => {
    const inner = new Error('inner');
    const outer = new Error('outer', { cause: inner });
    const out = roundTrip([outer, { w: inner }]) as [Error, { w: Error }];
    expect((out[0].cause as Error).message).toBe('inner');
    expect(out[1].w).toBeInstanceOf(Error);
    expect(out[1].w.message).toBe('inner');
  });

  // BUG: a self-cyclic cause arrives as `cause: null` (superjson cuts the cycle to null and
  // its referential-equality pass cannot write into an Error).
  it('a cyclic cause does not turn into null', () => {
    const e = new Error('loop') as Error & { cause?: unknown };
    e.cause = e;
    const out = roundTrip(e) as Error;
    expect(out.cause).not.toBeNull();
    expect(out.cause === out || (out.cause instanceof Error && out.cause.message === 'loop')).toBe(true);
  });
});
