// @ts-self-types="./bytes.d.ts"

/**
 * Varints (unsigned LEB128, at most 8 bytes: 56 bits, safe as JS numbers)
 * and a bounds-checked reader. Every length read from a peer is checked
 * against what is left before anything is allocated.
 */
import { ProtocolError } from '../errors.js';

export const MAX_VARINT_BYTES = 8;

export function varintSize(n: number): number {
  let size = 1;
  while (n >= 0x80) {
    n = Math.floor(n / 128);
    size++;
  }
  return size;
}

/** Writes `n` at `offset`, returns the offset after it. */
export function writeVarint(buf: Uint8Array, offset: number, n: number): number {
  while (n >= 0x80) {
    buf[offset++] = (n & 0x7f) | 0x80;
    n = Math.floor(n / 128);
  }
  buf[offset++] = n;
  return offset;
}

const NO_BYTES = new Uint8Array(0);

/**
 * A cursor over bytes. Decoders keep one and `read` each buffer with it rather than
 * make one per frame: V8 forgets the layout of a class whose objects all died by a
 * major GC, and throws away the optimized code built on it (a reader that lived
 * only while a frame was parsed cost every decoding function that after each GC).
 */
export class ByteReader {
  pos = 0;
  buf: Uint8Array = NO_BYTES;
  end = 0;

  constructor(buf: Uint8Array = NO_BYTES, start = 0, end = buf.length) {
    this.read(buf, start, end);
  }

  /** Starts reading `buf[start…end)`; returns this reader. */
  read(buf: Uint8Array, start = 0, end = buf.length): this {
    this.buf = buf;
    this.pos = start;
    this.end = end;
    return this;
  }

  /** Lets go of the buffer (a kept reader must not hold on to a batch). */
  release(): void {
    this.buf = NO_BYTES;
    this.pos = 0;
    this.end = 0;
  }

  get remaining(): number {
    return this.end - this.pos;
  }

  u8(): number {
    if (this.pos >= this.end) throw truncated();
    return this.buf[this.pos++] as number;
  }

  varint(): number {
    let result = 0;
    let scale = 1;
    for (let i = 0; i < MAX_VARINT_BYTES; i++) {
      if (this.pos >= this.end) throw truncated();
      const byte = this.buf[this.pos++] as number;
      result += (byte & 0x7f) * scale;
      if (byte < 0x80) return result;
      scale *= 128;
    }
    throw new ProtocolError('varint longer than 8 bytes', { code: 'BAD_FRAME' });
  }

  /** A view of the next `n` bytes (no copy). */
  bytes(n: number): Uint8Array {
    if (n > this.end - this.pos) throw truncated();
    const view = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    return view;
  }

  rest(): Uint8Array {
    return this.bytes(this.end - this.pos);
  }
}

function truncated(): ProtocolError {
  return new ProtocolError('truncated input', { code: 'BAD_FRAME' });
}

export const utf8Encoder = new TextEncoder();

/**
 * Writes `text` at `offset` if it is all ASCII (one byte per character);
 * false as soon as it is not (what was written is then garbage). For short
 * texts this loop beats a call into TextEncoder.
 */
export function writeAscii(text: string, out: Uint8Array, offset: number): boolean {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c > 0x7f) return false;
    out[offset + i] = c;
  }
  return true;
}
export const utf8Decoder = new TextDecoder('utf-8', { fatal: true });

/** Texts up to this many bytes are read by `readText`'s own loop when they are ASCII. */
const SHORT_TEXT_BYTES = 64;

/**
 * The UTF-8 text in `bytes` (malformed UTF-8 throws a TypeError). Short ASCII texts,
 * such as a small message's JSON, skip the call into TextDecoder, which costs more
 * than the loop when it runs once in a while rather than in a hot loop.
 */
export function readText(bytes: Uint8Array): string {
  const n = bytes.length;
  if (n <= SHORT_TEXT_BYTES) {
    let text = '';
    for (let i = 0; i < n; i++) {
      const c = bytes[i] as number;
      if (c > 0x7f) return utf8Decoder.decode(bytes);
      text += String.fromCharCode(c);
    }
    return text;
  }
  return utf8Decoder.decode(bytes);
}

/** Small buffers come from a shared slab: allocating a typed array costs far more than a view. */
const SLAB_SIZE = 64 * 1024;
const SLAB_MAX_ALLOC = 2048;
let slab = new Uint8Array(SLAB_SIZE);
let slabOffset = 0;

/**
 * A zeroed-or-reused buffer of `n` bytes the caller fills completely. Small
 * ones are views into a shared slab (so they do not own their ArrayBuffer:
 * transfer code must copy them, see link/port.ts).
 */
export function allocBytes(n: number): Uint8Array {
  if (n > SLAB_MAX_ALLOC) return new Uint8Array(n);
  if (slabOffset + n > SLAB_SIZE) {
    slab = new Uint8Array(SLAB_SIZE);
    slabOffset = 0;
  }
  const view = slab.subarray(slabOffset, slabOffset + n);
  slabOffset = (slabOffset + n + 7) & ~7;
  return view;
}

/** True when the view spans its whole ArrayBuffer (safe to transfer). */
export function ownsBuffer(view: Uint8Array): boolean {
  return view.byteOffset === 0 && view.byteLength === view.buffer.byteLength;
}

/** A varint on its own (a lane header, a length prefix). */
export function encodeVarint(n: number): Uint8Array {
  const out = new Uint8Array(varintSize(n));
  writeVarint(out, 0, n);
  return out;
}

/**
 * An error's message cut to at most `maxBytes` of UTF-8 (close reasons of
 * WebSocket and WebTransport are bounded), never splitting a character.
 */
export function reasonText(error: unknown, maxBytes: number): string {
  let out = String((error as Error)?.message ?? error).slice(0, maxBytes);
  while (utf8Encoder.encode(out).byteLength > maxBytes) out = out.slice(0, -1);
  return out;
}
