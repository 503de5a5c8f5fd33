// @ts-self-types="./frames.d.ts"

/**
 * The frame set of the session protocol: types, encoders and one decoder.
 * Wire only: nothing here knows about streams or channels. Every frame is
 *   u8 type · varint streamId · type-specific fields
 * with varints as unsigned LEB128 (docs/PROTOCOL.md has the byte layouts and
 * golden vectors). Frames arrive whole from the link; lengths inside a frame
 * are checked against what is left before anything is allocated.
 */
import { allocBytes, ByteReader, varintSize, writeVarint } from '../codec/bytes.js';
import { ProtocolError } from '../errors.js';

export const PROTOCOL_MAGIC = 0x4c43; // "LC"
export const PROTOCOL_MAJOR = 1;
export const PROTOCOL_MINOR = 1;

/** Capability bits announced in HELLO. */
export const Capability = {
  /** Reserved: resuming a session over a new link. */
  Resume: 1 << 0,
  /** Reserved: inspector statistics frames. */
  InspectorStats: 1 << 1,
  /** Understands WINDOW (stream credit without session credit): its byte streams' windows may grow. */
  StreamWindow: 1 << 2,
} as const;

export const FrameType = {
  Hello: 0,
  Open: 1,
  Message: 2,
  Bytes: 3,
  Credit: 4,
  Close: 5,
  Reset: 6,
  Stop: 7,
  Ping: 8,
  Pong: 9,
  GoAway: 10,
  Opens: 11,
  Window: 12,
} as const;

export const StreamKind = {
  /** A channel of messages. */
  Channel: 0,
  /** A byte stream (ReadableStream / WritableStream). */
  Bytes: 1,
} as const;
export type StreamKind = (typeof StreamKind)[keyof typeof StreamKind];

/** MESSAGE flags. */
export const MessageFlag = {
  /** More fragments of this message follow. */
  More: 1,
  /** First fragment of a multi-frame message: a total length follows the flags. */
  Start: 2,
} as const;

/** Limits a session announces in HELLO, in this order (unknown trailing ones are ignored). */
export const limitOrder = [
  'maxMessageBytes',
  'maxChannels',
  'maxNestingDepth',
  'initialWindowBytes',
  'sessionWindowBytes',
  'keepAliveMs',
  'maxPendingAccepts',
  'maxUnclaimedStreams',
] as const;
export type AnnouncedLimits = { [K in (typeof limitOrder)[number]]: number };

export interface HelloFrame {
  type: typeof FrameType.Hello;
  major: number;
  minor: number;
  nonce: Uint8Array;
  capabilities: number;
  limits: AnnouncedLimits;
  /** The codec-encoded `hello` value. */
  hello: Uint8Array;
}
export interface OpenFrame {
  type: typeof FrameType.Open;
  id: number;
  kind: StreamKind;
  /** True when the side that opened the stream is the one that sends on it. */
  openerSends: boolean;
  /** The stream whose message names this one; 0 for a top-level channel. */
  parent: number;
}
export interface MessageFrame {
  type: typeof FrameType.Message;
  id: number;
  flags: number;
  /** Total payload length, on a Start fragment; otherwise -1. */
  total: number;
  payload: Uint8Array;
}
export interface BytesFrame {
  type: typeof FrameType.Bytes;
  id: number;
  payload: Uint8Array;
}
export interface CreditFrame {
  type: typeof FrameType.Credit;
  /** 0: session credit only; otherwise this stream and the session. */
  id: number;
  increment: number;
}
export interface WindowFrame {
  type: typeof FrameType.Window;
  id: number;
  /** Added to this stream's credit only (the session's is unchanged): the receiver grew the stream's window. */
  increment: number;
}
export interface CloseFrame {
  type: typeof FrameType.Close;
  id: number;
}
export interface ResetFrame {
  type: typeof FrameType.Reset | typeof FrameType.Stop;
  id: number;
  /** Codec-encoded reason; empty for none. */
  reason: Uint8Array;
}
export interface PingFrame {
  type: typeof FrameType.Ping | typeof FrameType.Pong;
  data: Uint8Array;
}
export interface GoAwayFrame {
  type: typeof FrameType.GoAway;
  /** The last peer top-level stream the sender will process. */
  lastId: number;
  /** True when the session is failing (abort, protocol error), not closing gracefully. */
  error: boolean;
  reason: Uint8Array;
}
export interface OpensFrame {
  type: typeof FrameType.Opens;
  /** Top-level opens the peer may make again (channels were accepted). */
  count: number;
}

export type Frame =
  | HelloFrame
  | OpenFrame
  | MessageFrame
  | BytesFrame
  | CreditFrame
  | WindowFrame
  | CloseFrame
  | ResetFrame
  | PingFrame
  | GoAwayFrame
  | OpensFrame;

function badFrame(message: string): ProtocolError {
  return new ProtocolError(message, { code: 'BAD_FRAME' });
}

/** The one reader frames are decoded with (decoding never re-enters). */
const frameReader = new ByteReader();

/** Decodes one whole frame. Throws `ProtocolError` for anything malformed. */
export function decodeFrame(buf: Uint8Array): Frame {
  try {
    return readFrame(frameReader.read(buf));
  } finally {
    frameReader.release();
  }
}

function readFrame(r: ByteReader): Frame {
  const type = r.u8();
  const id = r.varint();
  switch (type) {
    case FrameType.Message: {
      const flags = r.u8();
      if (flags > 3 || flags === MessageFlag.Start) throw badFrame(`bad MESSAGE flags ${flags}`);
      const total = flags & MessageFlag.Start ? r.varint() : -1;
      return { type, id: nonzero(id), flags, total, payload: r.rest() };
    }
    case FrameType.Bytes:
      return { type, id: nonzero(id), payload: r.rest() };
    case FrameType.Credit:
      return { type, id, increment: end(r, r.varint()) };
    case FrameType.Window:
      return { type, id: nonzero(id), increment: end(r, r.varint()) };
    case FrameType.Open: {
      const kind = r.u8();
      if (kind !== StreamKind.Channel && kind !== StreamKind.Bytes) throw badFrame(`unknown stream kind ${kind}`);
      const dir = r.u8();
      if (dir > 1) throw badFrame(`bad OPEN direction ${dir}`);
      const parent = r.varint();
      return end(r, { type, id: nonzero(id), kind, openerSends: dir === 1, parent });
    }
    case FrameType.Close:
      return end(r, { type, id: nonzero(id) });
    case FrameType.Reset:
    case FrameType.Stop:
      return { type, id: nonzero(id), reason: r.rest() };
    case FrameType.Ping:
    case FrameType.Pong: {
      if (r.remaining !== 8) throw badFrame('PING/PONG carries 8 bytes');
      return { type, data: r.bytes(8) };
    }
    case FrameType.GoAway: {
      const lastId = r.varint();
      const error = r.u8();
      if (error > 1) throw badFrame('bad GOAWAY flag');
      return { type, lastId, error: error === 1, reason: r.rest() };
    }
    case FrameType.Opens:
      return { type, count: end(r, r.varint()) };
    case FrameType.Hello: {
      if (id !== 0) throw badFrame('HELLO on a stream');
      const magic = (r.u8() << 8) | r.u8();
      if (magic !== PROTOCOL_MAGIC) throw badFrame('not a libchan HELLO');
      const major = r.u8();
      const minor = r.u8();
      const nonce = r.bytes(8);
      const capabilities = r.varint();
      const count = r.varint();
      if (count > 64) throw badFrame('too many limits in HELLO');
      const values: number[] = [];
      for (let i = 0; i < count; i++) values.push(r.varint());
      if (count < limitOrder.length) throw badFrame('HELLO lacks limits');
      const limits = Object.fromEntries(limitOrder.map((k, i) => [k, values[i] as number])) as AnnouncedLimits;
      return { type, major, minor, nonce, capabilities, limits, hello: r.rest() };
    }
    default:
      throw badFrame(`unknown frame type ${type}`);
  }
}

function nonzero(id: number): number {
  if (id === 0) throw badFrame('stream frame on stream 0');
  return id;
}

function end<T>(r: ByteReader, value: T): T {
  if (r.remaining !== 0) throw badFrame('trailing bytes in frame');
  return value;
}

// ---- encoders ----

/** Size of a MESSAGE/BYTES frame header for stream `id`. */
export function dataHeaderSize(type: number, id: number, total = -1): number {
  return 1 + varintSize(id) + (type === FrameType.Message ? 1 + (total >= 0 ? varintSize(total) : 0) : 0);
}

/**
 * Writes a MESSAGE/BYTES header into `buf` ending exactly at `at` (the payload
 * starts there), so a payload encoded with headroom needs no copy.
 * Returns where the frame starts.
 */
export function writeDataHeaderBefore(buf: Uint8Array, at: number, type: number, id: number, flags = 0, total = -1): number {
  const start = at - dataHeaderSize(type, id, total);
  buf[start] = type;
  let o = writeVarint(buf, start + 1, id);
  if (type === FrameType.Message) {
    buf[o++] = flags;
    if (total >= 0) writeVarint(buf, o, total);
  }
  return start;
}

/** The header of a MESSAGE/BYTES frame alone (its payload is sent after it, see FrameLink.sendSplit). */
export function encodeDataHeader(type: number, id: number, flags = 0, total = -1): Uint8Array {
  const h = dataHeaderSize(type, id, total);
  const out = allocBytes(h);
  writeDataHeaderBefore(out, h, type, id, flags, total);
  return out;
}

/** A MESSAGE/BYTES frame copying `payload` after a fresh header. */
export function encodeDataFrame(type: number, id: number, payload: Uint8Array, flags = 0, total = -1): Uint8Array {
  const h = dataHeaderSize(type, id, total);
  const out = allocBytes(h + payload.byteLength);
  writeDataHeaderBefore(out, h, type, id, flags, total);
  out.set(payload, h);
  return out;
}

function small(type: number, id: number, fields: number[], tail?: Uint8Array): Uint8Array {
  let size = 1 + varintSize(id);
  for (const f of fields) size += varintSize(f);
  size += tail?.byteLength ?? 0;
  const out = allocBytes(size);
  out[0] = type;
  let o = writeVarint(out, 1, id);
  for (const f of fields) o = writeVarint(out, o, f);
  if (tail) out.set(tail, o);
  return out;
}

export function encodeOpen(id: number, kind: StreamKind, openerSends: boolean, parent: number): Uint8Array {
  return small(FrameType.Open, id, [kind, openerSends ? 1 : 0, parent]);
}
export function encodeCredit(id: number, increment: number): Uint8Array {
  return small(FrameType.Credit, id, [increment]);
}
export function encodeWindow(id: number, increment: number): Uint8Array {
  return small(FrameType.Window, id, [increment]);
}
export function encodeClose(id: number): Uint8Array {
  return small(FrameType.Close, id, []);
}
export function encodeReset(type: typeof FrameType.Reset | typeof FrameType.Stop, id: number, reason: Uint8Array): Uint8Array {
  return small(type, id, [], reason);
}
export function encodePing(type: typeof FrameType.Ping | typeof FrameType.Pong, data: Uint8Array): Uint8Array {
  return small(type, 0, [], data);
}
export function encodeGoAway(lastId: number, error: boolean, reason: Uint8Array): Uint8Array {
  return small(FrameType.GoAway, 0, [lastId, error ? 1 : 0], reason);
}
export function encodeOpens(count: number): Uint8Array {
  return small(FrameType.Opens, 0, [count]);
}
export function encodeHello(nonce: Uint8Array, capabilities: number, limits: AnnouncedLimits, hello: Uint8Array): Uint8Array {
  const head = new Uint8Array([FrameType.Hello, 0, PROTOCOL_MAGIC >> 8, PROTOCOL_MAGIC & 0xff, PROTOCOL_MAJOR, PROTOCOL_MINOR]);
  const fields = [capabilities, limitOrder.length, ...limitOrder.map((k) => limits[k])];
  let size = head.length + 8;
  for (const f of fields) size += varintSize(f);
  const out = new Uint8Array(size + hello.byteLength);
  out.set(head, 0);
  out.set(nonce, head.length);
  let o = head.length + 8;
  for (const f of fields) o = writeVarint(out, o, f);
  out.set(hello, o);
  return out;
}
