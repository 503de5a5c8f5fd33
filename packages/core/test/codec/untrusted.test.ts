import { afterEach, describe, expect, it } from 'vitest';
import { ByteReader } from '../../src/codec/bytes.js';
import { ProtocolError } from '../../src/errors.js';
import {
  buildPayload,
  DEFAULT_DEPTH,
  expectProtocolError,
  lenientDecodeContext,
  makeCodec,
  reachable,
  richPayload,
  textBytes,
  thrown,
} from './helpers.js';

const polluted = ['polluted', 'isAdmin', 'x'];

function expectNoPollution(): void {
  for (const key of polluted) {
    expect(({} as Record<string, unknown>)[key], `Object.prototype.${key}`).toBeUndefined();
    expect(Object.hasOwn(Object.prototype, key)).toBe(false);
    expect(([] as unknown as Record<string, unknown>)[key]).toBeUndefined();
    expect((new Map() as unknown as Record<string, unknown>)[key]).toBeUndefined();
  }
  expect(Object.prototype.toString.call({})).toBe('[object Object]');
}

afterEach(() => {
  expectNoPollution();
  for (const key of polluted) delete (Object.prototype as Record<string, unknown>)[key];
});

describe('__proto__ keys stay plain data', () => {
  it('plain payload: own "__proto__" property, normal prototype, no pollution', () => {
    const out = makeCodec().decode(buildPayload({ json: '{"__proto__":{"polluted":true},"a":{"__proto__":{"isAdmin":1}}}' })) as Record<
      string,
      unknown
    >;
    expect(Object.getPrototypeOf(out)).toBe(Object.prototype);
    expect(Object.hasOwn(out, '__proto__')).toBe(true);
    expect(Object.getOwnPropertyDescriptor(out, '__proto__')?.value).toEqual({ polluted: true });
    expect(out.polluted).toBeUndefined();
    const a = out.a as Record<string, unknown>;
    expect(Object.getPrototypeOf(a)).toBe(Object.prototype);
    expect(Object.hasOwn(a, '__proto__')).toBe(true);
    expect(a.isAdmin).toBeUndefined();
  });

  it('rich payload: own "__proto__" property survives annotation processing', () => {
    const payload = buildPayload({
      json: '{"__proto__":{"polluted":true},"d":"1970-01-01T00:00:00.005Z","l":[{"__proto__":{"isAdmin":1}},"5"]}',
      meta: JSON.stringify({ values: { d: ['Date'], 'l.1': ['bigint'] } }),
    });
    const out = makeCodec().decode(payload) as Record<string, unknown>;
    expect(Object.getPrototypeOf(out)).toBe(Object.prototype);
    expect(Object.hasOwn(out, '__proto__')).toBe(true);
    expect(out.polluted).toBeUndefined();
    expect(out.d).toStrictEqual(new Date(5));
    const l = out.l as [Record<string, unknown>, bigint];
    expect(l[1]).toBe(5n);
    expect(Object.getPrototypeOf(l[0])).toBe(Object.prototype);
    expect(l[0].isAdmin).toBeUndefined();
  });

  it('a value with an own "__proto__" key (from JSON.parse) round-trips on the plain path', () => {
    const codec = makeCodec();
    const value = JSON.parse('{"__proto__":{"polluted":1},"b":[1]}') as Record<string, unknown>;
    const out = codec.decode(codec.encodeToBytes(value)) as Record<string, unknown>;
    expect(Object.hasOwn(out, '__proto__')).toBe(true);
    expect(Object.getPrototypeOf(out)).toBe(Object.prototype);
    expect(out.polluted).toBeUndefined();
  });

  it('a rich value with an own "__proto__" / "constructor" key either round-trips or is refused with TypeError (never corrupted)', () => {
    const codec = makeCodec();
    for (const key of ['__proto__', 'constructor', 'prototype']) {
      const value = JSON.parse(`{"${key}":{"polluted":1}}`) as Record<string, unknown>;
      value.when = new Date(1);
      let out: Record<string, unknown>;
      try {
        out = codec.decode(codec.encodeToBytes(value)) as Record<string, unknown>;
      } catch (error) {
        expect(error).toBeInstanceOf(TypeError);
        continue;
      }
      expect(Object.hasOwn(out, key)).toBe(true);
      expect(Object.getPrototypeOf(out)).toBe(Object.prototype);
      expect(out.when).toStrictEqual(new Date(1));
    }
  });
});

describe('crafted superjson meta that walks prototype paths → ProtocolError, no pollution', () => {
  // Meta texts written by hand: an object literal's `__proto__` would set the prototype
  // instead of creating a key, so JSON.stringify could not produce these.
  const metas: [string, string][] = [
    ['value annotation on __proto__', '{"values":{"__proto__.polluted":["bigint"]}}'],
    ['value annotation on __proto__ itself', '{"values":{"__proto__":["Date"]}}'],
    ['value annotation on a nested __proto__', '{"values":{"a.__proto__.polluted":["number"]}}'],
    ['value annotation via constructor.prototype', '{"values":{"constructor.prototype.polluted":["bigint"]}}'],
    ['value annotation via a.constructor.prototype', '{"values":{"a.constructor.prototype.isAdmin":["undefined"]}}'],
    ['value annotation on prototype', '{"values":{"prototype":["undefined"]}}'],
    ['nested annotation tree with __proto__', '{"values":{"a":["map",{"__proto__.polluted":["bigint"]}]}}'],
    ['nested annotation tree with a __proto__ key', '{"values":{"a":[["custom","E"],{"__proto__":["bigint"]}]}}'],
    ['referential target __proto__', '{"referentialEqualities":{"a":["__proto__.polluted"]}}'],
    ['referential target constructor.prototype', '{"referentialEqualities":{"a":["constructor.prototype.polluted"]}}'],
    ['referential target a.__proto__', '{"referentialEqualities":{"a":["a.__proto__"]}}'],
    ['referential source __proto__', '{"referentialEqualities":{"__proto__":["b"]}}'],
    ['referential source constructor', '{"referentialEqualities":{"constructor":["b"]}}'],
    ['referential source a.constructor.prototype', '{"referentialEqualities":{"a.constructor.prototype":["b"]}}'],
    ['root referential target __proto__', '{"referentialEqualities":[["__proto__.polluted"]]}'],
    ['root referential target constructor.prototype', '{"referentialEqualities":[["constructor.prototype.x"]]}'],
  ];
  for (const [label, metaText] of metas) {
    it(label, () => {
      const payload = buildPayload({ json: '{"a":{"polluted":"yes","isAdmin":true,"x":1},"b":"1"}', meta: metaText });
      const e = expectProtocolError(() => makeCodec().decode(payload));
      expect(e.code).toBe('BAD_MESSAGE');
    });
  }

  // BUG: referential-equality paths may name any inherited member that is not __proto__ /
  // constructor / prototype. getDeep() reads `plain["toString"]`, i.e. Object.prototype.toString,
  // and setDeep() stores that function in the decoded value. A peer can thus make decode()
  // return functions (hasOwnProperty, valueOf, __defineGetter__, …) although no function can
  // ever be sent. Expected: ProtocolError (or at least no function in the result).
  it('crafted referential equalities cannot smuggle built-in functions into the decoded value', () => {
    for (const source of ['toString', 'hasOwnProperty', 'valueOf', '__defineGetter__', 'a.toString']) {
      const payload = buildPayload({ json: '{"a":{},"b":0}', meta: JSON.stringify({ referentialEqualities: { [source]: ['b'] } }) });
      let out: unknown;
      try {
        out = makeCodec().decode(payload);
      } catch (error) {
        expect(error).toBeInstanceOf(ProtocolError);
        continue;
      }
      const functions = reachable(out).filter((v) => typeof v === 'function');
      expect(functions, `referentialEqualities source "${source}"`).toEqual([]);
    }
  });
});

describe('annotations the codec never produces → ProtocolError', () => {
  const cases: [string, unknown, unknown][] = [
    ['unknown custom transformer', 'x', ['custom', 'Nope']],
    ['custom named after an Object.prototype member', 'x', ['custom', 'toString']],
    ['custom named __proto__', 'x', ['custom', '__proto__']],
    ['class annotation', { a: 1 }, ['class', 'Foo']],
    ['class annotation Object', { a: 1 }, ['class', 'Object']],
    ['symbol annotation', 'sym', ['symbol', 'sym']],
    ['unknown simple annotation', 1, 'nope'],
    ['simple annotation named after a prototype member', 1, 'toString'],
    ['simple annotation __proto__', 1, '__proto__'],
    ['typed-array with an unknown type', [1, 2], ['typed-array', 'Nope']],
    ['typed-array named after a prototype member', [1, 2], ['typed-array', 'toString']],
    ['non-string annotation', 1, 42],
    ['bad bigint', 'abc', 'bigint'],
    ['bad URL', 'not a url', 'URL'],
    ['bad RegExp', '/(/', 'regexp'],
    ['bad RegExp flags', '/a/zz', 'regexp'],
    ['Map from a number', 5, 'map'],
    ['Map from non-entries', ['ab', 1], 'map'],
    ['Set from a number', 5, 'set'],
  ];
  for (const [label, json, annotation] of cases) {
    it(label, () => {
      expectProtocolError(() => makeCodec().decode(richPayload({ v: json }, { values: { v: [annotation] } })));
    });
  }

  // BUG: the codec sends errors through its own custom transformer 'E' (rebuildError: name,
  // message, string code, no stack) but the decoder also accepts superjson's built-in 'Error'
  // annotation, which builds `new Error(message, {cause})` and then copies `name` and `stack`
  // verbatim. A peer can deliver an Error with its own stack frames and a non-string name,
  // bypassing the sanitising path. Expected: ProtocolError, or the same sanitising as 'E'.
  it("superjson's built-in 'Error' annotation does not bypass the error sanitising", () => {
    const payload = richPayload({ name: 42, message: 'm', stack: 'Error: m\n    at evil (evil.js:1:1)' }, { values: ['Error'] });
    let out: unknown;
    try {
      out = makeCodec().decode(payload);
    } catch (error) {
      expect(error).toBeInstanceOf(ProtocolError);
      return;
    }
    expect(out).toBeInstanceOf(Error);
    expect({
      nameType: typeof (out as Error).name,
      stackHasFrames: /\n\s+at /.test((out as Error).stack ?? ''),
    }).toEqual({ nameType: 'string', stackHasFrames: false });
  });
});

describe('bad binary references → ProtocolError', () => {
  const one = [new Uint8Array([1, 2, 3])];
  const cases: [string, unknown, Uint8Array[]][] = [
    ['index out of range', '1', one],
    ['index with no attachments', '0', []],
    ['negative index', '-1', one],
    ['fractional index', '0.5', one],
    ['non-numeric index', 'abc', one],
    ['index named after an array member', 'length', one],
    ['ArrayBuffer reference out of range', '3:', one],
    ['typed view out of range', '9:Int8Array', one],
    ['wrong element size (3 bytes as Float64Array)', '0:Float64Array', one],
    ['wrong element size (3 bytes as Uint16Array)', '0:Uint16Array', one],
    ['wrong element size (3 bytes as BigInt64Array)', '0:BigInt64Array', one],
    ['unknown view type', '0:Buffer', one],
    ['view type named after a prototype member', '0:constructor', one],
    ['view type __proto__', '0:__proto__', one],
    ['view type toString', '0:toString', one],
    ['non-string token (number)', 0, one],
    ['non-string token (object)', { i: 0 }, one],
    ['non-string token (null)', null, one],
  ];
  for (const [label, token, attachments] of cases) {
    it(label, () => {
      expectProtocolError(() => makeCodec().decode(richPayload({ b: token }, { values: { b: [['custom', 'B']] } }, attachments)));
    });
  }

  it('well-formed crafted references decode to copies of the attachments', () => {
    const a = new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8]);
    const out = makeCodec().decode(
      richPayload(
        { u8: '0', ab: '0:', f64: '0:Float64Array', dv: '0:DataView', i16: '1:Int16Array' },
        { values: { u8: [['custom', 'B']], ab: [['custom', 'B']], f64: [['custom', 'B']], dv: [['custom', 'B']], i16: [['custom', 'B']] } },
        [a, new Uint8Array([1, 0, 2, 0])],
      ),
    ) as Record<string, ArrayBufferView | ArrayBuffer>;
    expect(out.u8).toStrictEqual(a);
    expect(out.ab).toBeInstanceOf(ArrayBuffer);
    expect(out.f64).toBeInstanceOf(Float64Array);
    expect(out.dv).toBeInstanceOf(DataView);
    expect(Array.from(out.i16 as Int16Array)).toEqual([1, 2]);
  });
});

describe('malformed error objects → ProtocolError', () => {
  const cases: [string, unknown][] = [
    ['missing name', { message: 'x' }],
    ['missing message', { name: 'Error' }],
    ['numeric name', { name: 1, message: 'x' }],
    ['object message', { name: 'Error', message: { a: 1 } }],
    ['numeric code', { name: 'Error', message: 'x', code: 5 }],
    ['unknown field (a stack)', { name: 'Error', message: 'x', stack: 'Error: x\n    at evil (evil.js:1:1)' }],
    ['null', null],
    ['string', 'Error: x'],
    ['array', ['Error', 'x']],
    ['number', 3],
  ];
  for (const [label, json] of cases) {
    it(label, () => {
      expectProtocolError(() => makeCodec().decode(richPayload({ e: json }, { values: { e: [['custom', 'E']] } })));
    });
  }

  it('a malformed error inside a cause chain', () => {
    expectProtocolError(() =>
      makeCodec().decode(richPayload({ n: 'Error', m: 'top', x: { n: 'Error' } }, { values: [['custom', 'E'], { x: [['custom', 'E']] }] })),
    );
  });

  it('well-formed crafted errors are rebuilt without a stack, known names as their class', () => {
    const out = makeCodec().decode(
      richPayload(
        { name: 'ProtocolError', message: 'nope', code: 'BAD_FRAME', cause: { name: 'Weird', message: 'inner', code: 'E1' } },
        { values: [['custom', 'E'], { cause: [['custom', 'E']] }] },
      ),
    ) as ProtocolError;
    expect(out).toBeInstanceOf(ProtocolError);
    expect(out.code).toBe('BAD_FRAME');
    expect(out.stack).toBe('ProtocolError: nope');
    const inner = out.cause as Error & { code?: string };
    expect(inner.name).toBe('Weird');
    expect(inner.code).toBe('E1');
    expect(inner.stack ?? '').not.toMatch(/\n\s+at /);
  });
});

describe('malformed framing → ProtocolError', () => {
  const cases: [string, Uint8Array][] = [
    ['empty payload', new Uint8Array(0)],
    ['flags only', new Uint8Array([0])],
    ['rich flags only', new Uint8Array([1])],
    ['unknown flag bits', buildPayload({ flags: 2, json: '1' })],
    ['unknown flag bits with rich', buildPayload({ flags: 0x81, json: '1', meta: '{}' })],
    ['attachment count beyond the payload', new Uint8Array([0, 100, 1, 1])],
    ['attachment lengths beyond the payload', buildPayload({ json: '1', lengths: [1000] })],
    ['attachment lengths beyond the payload (rich)', buildPayload({ json: '1', meta: '{}', lengths: [1000] })],
    ['attachments in a plain message', buildPayload({ json: '1', attachments: [new Uint8Array([1])] })],
    ['json length beyond the payload', buildPayload({ json: '1', meta: '{}', jsonLength: 50 })],
    ['json length cuts the JSON', buildPayload({ json: '[1,2]', meta: '{}', jsonLength: 2 })],
    ['truncated varint', new Uint8Array([0, 0x80])],
    ['varint longer than 8 bytes', new Uint8Array([0, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01])],
    ['invalid JSON', buildPayload({ json: '{"a":' })],
    ['empty JSON text', buildPayload({ json: '' })],
    ['trailing garbage after JSON', buildPayload({ json: '1 2' })],
    ['invalid UTF-8', buildPayload({ json: new Uint8Array([0x22, 0xff, 0xfe, 0x22]) })],
    ['overlong UTF-8', buildPayload({ json: new Uint8Array([0x22, 0xc0, 0xaf, 0x22]) })],
    ['invalid UTF-8 in meta', buildPayload({ json: '1', meta: new Uint8Array([0x7b, 0xff, 0x7d]) })],
    ['invalid JSON meta', buildPayload({ json: '1', meta: '{' })],
    ['empty meta', buildPayload({ json: '1', meta: '' })],
    ['meta is an array', buildPayload({ json: '1', meta: '[]' })],
    ['meta is null', buildPayload({ json: '1', meta: 'null' })],
    ['meta is a number', buildPayload({ json: '1', meta: '5' })],
    ['meta is a string', buildPayload({ json: '1', meta: '"x"' })],
    ['referentialEqualities root is not an array of paths', buildPayload({ json: '{}', meta: '{"referentialEqualities":[5]}' })],
    ['referential path through a missing object', buildPayload({ json: '{}', meta: '{"referentialEqualities":{"a.b.c":["d"]}}' })],
  ];
  for (const [label, payload] of cases) {
    it(label, () => {
      expectProtocolError(() => makeCodec().decode(payload));
    });
  }

  it('a ProtocolError carries a BAD_MESSAGE / BAD_FRAME code', () => {
    for (const [, payload] of cases) {
      const e = thrown(() => makeCodec().decode(payload)) as ProtocolError;
      expect(['BAD_MESSAGE', 'BAD_FRAME']).toContain(e.code);
    }
  });

  it('the smallest valid payloads decode', () => {
    expect(makeCodec().decode(buildPayload({ json: 'null' }))).toBeNull();
    expect(makeCodec().decode(buildPayload({ json: '1', meta: '{}' }))).toBe(1);
    expect(makeCodec().decode(buildPayload({ json: 'null', meta: '{"values":["undefined"]}' }))).toBeUndefined();
    // Unreferenced attachments are harmless.
    expect(makeCodec().decode(buildPayload({ json: '2', meta: '{}', attachments: [new Uint8Array([1])] }))).toBe(2);
  });

  it('the ByteReader itself reports truncation as ProtocolError', () => {
    const r = new ByteReader(new Uint8Array([1, 2]));
    expect(r.u8()).toBe(1);
    expect(() => r.bytes(2)).toThrow(ProtocolError);
    expect(r.bytes(1)).toEqual(new Uint8Array([2]));
    expect(() => r.u8()).toThrow(ProtocolError);
  });
});

describe('depth of incoming JSON', () => {
  for (const N of [2, 8, DEFAULT_DEPTH]) {
    it(`maxNestingDepth ${N}: depth N decodes, N+1 → ProtocolError (plain and rich)`, () => {
      const codec = makeCodec(N);
      const ok = '['.repeat(N) + ']'.repeat(N);
      const bad = '['.repeat(N + 1) + ']'.repeat(N + 1);
      expect(codec.decode(buildPayload({ json: ok }))).toStrictEqual(JSON.parse(ok));
      expectProtocolError(() => codec.decode(buildPayload({ json: bad })));
      expect(codec.decode(buildPayload({ json: ok, meta: '{}' }))).toStrictEqual(JSON.parse(ok));
      expectProtocolError(() => codec.decode(buildPayload({ json: bad, meta: '{}' })));
      const okObj = '{"a":'.repeat(N) + '1' + '}'.repeat(N);
      const badObj = '{"a":'.repeat(N + 1) + '1' + '}'.repeat(N + 1);
      expect(codec.decode(buildPayload({ json: okObj }))).toStrictEqual(JSON.parse(okObj));
      expectProtocolError(() => codec.decode(buildPayload({ json: badObj })));
    });
  }

  it('brackets inside strings (and escaped quotes) do not count', () => {
    const codec = makeCodec(2);
    const json = JSON.stringify([['[[[[{{{{', 'a\\"[[[[', '\\\\', '"[{']]);
    expect(codec.decode(buildPayload({ json }))).toStrictEqual(JSON.parse(json));
  });

  it('a 100,000-deep [[[[… payload is a ProtocolError, never a RangeError', () => {
    const deep = textBytes('['.repeat(100_000) + ']'.repeat(100_000));
    const codec = makeCodec();
    expectProtocolError(() => codec.decode(buildPayload({ json: deep })));
    expectProtocolError(() => codec.decode(buildPayload({ json: deep, meta: '{}' })));
    // Unbalanced (no closing brackets) too.
    expectProtocolError(() => codec.decode(buildPayload({ json: '['.repeat(100_000) })));
    expectProtocolError(() => codec.decode(buildPayload({ json: '{"a":'.repeat(100_000) })));
  });

  it('a 100,000-deep meta is a ProtocolError, never a RangeError', () => {
    const codec = makeCodec();
    const deepMeta = '{"values":' + '["map",{"0":'.repeat(50_000) + '["Date"]' + '}]'.repeat(50_000) + '}';
    expectProtocolError(() => codec.decode(buildPayload({ json: '1', meta: deepMeta })));
    expectProtocolError(() => codec.decode(buildPayload({ json: '1', meta: '['.repeat(100_000) })));
  });

  it('a very long (not deep) annotation path is handled', () => {
    const codec = makeCodec();
    const path = Array.from({ length: 20_000 }, () => 'a').join('.');
    let out: unknown;
    try {
      out = codec.decode(buildPayload({ json: '{"a":1}', meta: JSON.stringify({ values: { [path]: ['bigint'] } }) }));
    } catch (error) {
      expect(error).toBeInstanceOf(ProtocolError);
      return;
    }
    expect(out).toBeDefined();
  });

  it('references and resolve with a lenient context never see prototype paths', () => {
    const dec = lenientDecodeContext();
    expectProtocolError(() =>
      makeCodec().decode(buildPayload({ json: '{"s":1}', meta: '{"values":{"__proto__.s":[["custom","S"]]}}' }), dec.ctx),
    );
    expect(dec.calls).toHaveLength(0);
  });
});

describe('the decoder lets go of what it read', () => {
  it('a payload with a malformed header is not kept by the codec after it is refused', () => {
    const codec = makeCodec();
    const payload = Uint8Array.of(0x01, 0x05, 0x7f); // rich, 5 attachments in 1 byte
    expectProtocolError(() => codec.decode(payload));
    const reader = (codec as unknown as { reader: ByteReader }).reader;
    expect(reader.buf).not.toBe(payload);
    expect(reader.buf.byteLength).toBe(0);
  });
});
