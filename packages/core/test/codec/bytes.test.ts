import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ByteReader, MAX_VARINT_BYTES, readText, varintSize, writeVarint } from '../../src/codec/bytes.js';
import { ProtocolError } from '../../src/errors.js';

function encodeVarint(n: number): Uint8Array {
  const buf = new Uint8Array(16);
  const end = writeVarint(buf, 0, n);
  return buf.subarray(0, end);
}

describe('varints', () => {
  it('known encodings', () => {
    expect(Array.from(encodeVarint(0))).toEqual([0]);
    expect(Array.from(encodeVarint(1))).toEqual([1]);
    expect(Array.from(encodeVarint(127))).toEqual([0x7f]);
    expect(Array.from(encodeVarint(128))).toEqual([0x80, 0x01]);
    expect(Array.from(encodeVarint(300))).toEqual([0xac, 0x02]);
    expect(Array.from(encodeVarint(2 ** 32))).toEqual([0x80, 0x80, 0x80, 0x80, 0x10]);
    expect(Array.from(encodeVarint(Number.MAX_SAFE_INTEGER))).toEqual([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x0f]);
    // Largest 8-byte varints that are exact doubles.
    expect(Array.from(encodeVarint(2 ** 55))).toEqual([0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x40]);
    expect(encodeVarint(2 ** 56 - 2 ** 4)).toHaveLength(MAX_VARINT_BYTES);
  });

  it('round trip for 0 … Number.MAX_SAFE_INTEGER (writeVarint / varintSize / ByteReader.varint)', () => {
    const sizes = fc.oneof(
      fc.integer({ min: 0, max: 0x7f }),
      fc.integer({ min: 0x80, max: 0x3fff }),
      fc.integer({ min: 0, max: 2 ** 31 - 1 }),
      fc.integer({ min: 2 ** 31, max: 2 ** 32 + 5 }),
      fc.maxSafeNat(),
      fc.constantFrom(0, 127, 128, 2 ** 32 - 1, 2 ** 32, 2 ** 49 - 1, 2 ** 49, Number.MAX_SAFE_INTEGER),
    );
    fc.assert(
      fc.property(sizes, fc.integer({ min: 0, max: 5 }), (n, at) => {
        const buf = new Uint8Array(at + 12).fill(0xaa);
        const end = writeVarint(buf, at, n);
        expect(end - at).toBe(varintSize(n));
        expect(end - at).toBeLessThanOrEqual(MAX_VARINT_BYTES);
        expect(buf[at - 1] ?? 0xaa).toBe(0xaa); // nothing written before the offset
        expect(buf[end]).toBe(0xaa); // nor after
        const r = new ByteReader(buf, at, end);
        expect(r.varint()).toBe(n);
        expect(r.pos).toBe(end);
        expect(r.remaining).toBe(0);
      }),
      { numRuns: 3000 },
    );
  });

  it('consecutive varints read back in order', () => {
    fc.assert(
      fc.property(fc.array(fc.maxSafeNat(), { maxLength: 20 }), (list) => {
        const buf = new Uint8Array(list.length * 8);
        let o = 0;
        for (const n of list) o = writeVarint(buf, o, n);
        const r = new ByteReader(buf, 0, o);
        for (const n of list) expect(r.varint()).toBe(n);
        expect(r.remaining).toBe(0);
      }),
      { numRuns: 300 },
    );
  });

  it('the reader accepts up to 8 bytes (values below 2^56) and rejects a 9th', () => {
    expect(new ByteReader(encodeVarint(2 ** 55)).varint()).toBe(2 ** 55);
    expect(new ByteReader(encodeVarint(2 ** 56 - 2 ** 4)).varint()).toBe(2 ** 56 - 2 ** 4);
    expect(new ByteReader(new Uint8Array([0x81, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x00])).varint()).toBe(1); // non-minimal but 8 bytes
    const nine = encodeVarint(2 ** 56);
    expect(nine).toHaveLength(9);
    expect(() => new ByteReader(nine).varint()).toThrow(ProtocolError);
    const e = (() => {
      try {
        new ByteReader(new Uint8Array([0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x00])).varint();
      } catch (error) {
        return error as ProtocolError;
      }
      return undefined;
    })();
    expect(e).toBeInstanceOf(ProtocolError);
    expect(e?.code).toBe('BAD_FRAME');
  });

  it('a truncated varint is a ProtocolError', () => {
    fc.assert(
      fc.property(fc.integer({ min: 128, max: Number.MAX_SAFE_INTEGER }), (n) => {
        const bytes = encodeVarint(n);
        const cut = bytes.subarray(0, bytes.length - 1);
        expect(() => new ByteReader(cut).varint()).toThrow(ProtocolError);
      }),
      { numRuns: 200 },
    );
    expect(() => new ByteReader(new Uint8Array(0)).varint()).toThrow(ProtocolError);
  });

  it('the reader honours its end bound', () => {
    const buf = new Uint8Array([0x80, 0x01, 0x05]);
    expect(() => new ByteReader(buf, 0, 1).varint()).toThrow(ProtocolError);
    const r = new ByteReader(buf, 0, 2);
    expect(r.varint()).toBe(128);
    expect(() => r.u8()).toThrow(ProtocolError);
    expect(() => new ByteReader(buf, 1, 2).bytes(2)).toThrow(ProtocolError);
  });
});

describe('readText', () => {
  const fatal = new TextDecoder('utf-8', { fatal: true });
  const same = (bytes: Uint8Array): void => {
    let expected: string | undefined;
    try {
      expected = fatal.decode(bytes);
    } catch {
      expected = undefined;
    }
    if (expected === undefined) expect(() => readText(bytes)).toThrow(TypeError);
    else expect(readText(bytes)).toBe(expected);
  };

  it('reads short and long texts, ASCII or not, as TextDecoder does', () => {
    for (const text of ['', '{"i":1}', 'é', 'aé', '中文', '😀', 'x'.repeat(64), 'x'.repeat(65), 'é'.repeat(40), '\uFEFFbom']) {
      same(new TextEncoder().encode(text));
    }
  });

  it('refuses malformed UTF-8, short or long', () => {
    for (const bytes of [[0xff], [0x61, 0xc3], [0xed, 0xa0, 0x80], [...new Array(70).fill(0x61), 0xff]]) {
      expect(() => readText(new Uint8Array(bytes))).toThrow(TypeError);
    }
  });

  it('agrees with a fatal TextDecoder on any bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 100 }), (bytes) => same(bytes)),
      { numRuns: 2000 },
    );
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme', maxLength: 80 }), (text) => same(new TextEncoder().encode(text))),
      { numRuns: 500 },
    );
  });
});

describe('a kept ByteReader', () => {
  it('reads one buffer after another, a failed read leaves nothing behind, and release lets go of the buffer', () => {
    const r = new ByteReader();
    expect(r.remaining).toBe(0);
    expect(r.read(new Uint8Array([5, 0x80, 0x01, 9])).u8()).toBe(5);
    expect(r.varint()).toBe(128);
    expect(r.rest()).toEqual(new Uint8Array([9]));
    // A truncated buffer throws; the next read starts clean.
    expect(() => r.read(new Uint8Array([0x80])).varint()).toThrow(ProtocolError);
    expect(r.read(new Uint8Array([7, 8]), 1).u8()).toBe(8);
    r.release();
    expect(r.buf.byteLength).toBe(0);
    expect(r.remaining).toBe(0);
  });

  it('frames and messages decode correctly after a malformed one (decoders keep one reader)', async () => {
    const { decodeFrame, encodeClose } = await import('../../src/session/frames.js');
    const { Codec } = await import('../../src/codec/codec.js');
    expect(() => decodeFrame(new Uint8Array([2, 0x80]))).toThrow(ProtocolError);
    expect(decodeFrame(encodeClose(7))).toEqual({ type: 5, id: 7 });
    const codec = new Codec({ maxNestingDepth: 8 });
    expect(() => codec.decode(new Uint8Array([0, 0x80]))).toThrow(ProtocolError);
    expect(codec.decode(codec.encodeToBytes({ a: [1, 'x'] }))).toEqual({ a: [1, 'x'] });
  });
});
