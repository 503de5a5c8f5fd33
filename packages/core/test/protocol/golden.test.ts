/**
 * Golden byte vectors: the wire format cannot drift silently. A change here
 * is a protocol change: bump the version and update docs/PROTOCOL.md.
 */
import { describe, expect, it } from 'vitest';
import { Codec } from '../../src/codec/codec.js';
import * as F from '../../src/session/frames.js';

const golden = {
  hello: '00 00 4c 43 01 01 01 02 03 04 05 06 07 08 04 08 80 80 80 08 80 20 40 80 80 10 80 80 80 08 98 75 80 02 80 08 00 00 6e 75 6c 6c',
  open_top: '01 01 00 01 00',
  open_child_sender: '01 04 00 00 01',
  open_bytes: '01 ac 02 01 01 01',
  message_single: '02 01 00 00 00 7b 22 61 22 3a 31 7d',
  message_first: '02 01 03 c0 b8 02 aa bb',
  message_middle: '02 01 01 cc',
  message_last: '02 01 00 dd',
  bytes: '03 03 01 02 03',
  credit: '04 01 80 80 04',
  credit_session: '04 00 ac 02',
  window: '0c 03 80 80 04',
  close: '05 01',
  reset: '06 01 01 00 21 7b 22 6e 61 6d 65 22 3a 22 45 72 72 6f 72 22 2c 22 6d 65 73 73 61 67 65 22 3a 22 62 6f 6f 6d 22 7d 7b 22 76 61 6c 75 65 73 22 3a 5b 5b 22 63 75 73 74 6f 6d 22 2c 22 45 22 5d 5d 2c 22 76 22 3a 31 7d',
  stop: '07 02',
  ping: '08 00 01 02 03 04 05 06 07 08',
  pong: '09 00 01 02 03 04 05 06 07 08',
  goaway: '0a 00 05 00',
  opens: '0b 00 01',
  payload_plain: '00 00 7b 22 61 22 3a 31 7d',
  payload_rich: '01 01 02 28 09 08 7b 22 64 22 3a 22 31 39 37 30 2d 30 31 2d 30 31 54 30 30 3a 30 30 3a 30 30 2e 30 30 30 5a 22 2c 22 62 22 3a 22 30 22 7d 7b 22 76 61 6c 75 65 73 22 3a 7b 22 64 22 3a 5b 22 44 61 74 65 22 5d 2c 22 62 22 3a 5b 5b 22 63 75 73 74 6f 6d 22 2c 22 42 22 5d 5d 7d 2c 22 76 22 3a 31 7d',
} as const;

const hex = (u: Uint8Array): string => Array.from(u, (b) => b.toString(16).padStart(2, '0')).join(' ');
const codec = new Codec({ maxNestingDepth: 64 });
const limits = {
  maxMessageBytes: 16777216,
  maxChannels: 4096,
  maxNestingDepth: 64,
  initialWindowBytes: 262144,
  sessionWindowBytes: 16777216,
  keepAliveMs: 15000,
  maxPendingAccepts: 256,
  maxUnclaimedStreams: 1024,
};
const nonce = new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8]);

const encoded: Record<keyof typeof golden, () => Uint8Array> = {
  hello: () => F.encodeHello(nonce, F.Capability.StreamWindow, limits, codec.encodeToBytes(null)),
  open_top: () => F.encodeOpen(1, F.StreamKind.Channel, true, 0),
  open_child_sender: () => F.encodeOpen(4, F.StreamKind.Channel, false, 1),
  open_bytes: () => F.encodeOpen(300, F.StreamKind.Bytes, true, 1),
  message_single: () => F.encodeDataFrame(F.FrameType.Message, 1, codec.encodeToBytes({ a: 1 })),
  message_first: () => F.encodeDataFrame(F.FrameType.Message, 1, new Uint8Array([0xaa, 0xbb]), F.MessageFlag.More | F.MessageFlag.Start, 40000),
  message_middle: () => F.encodeDataFrame(F.FrameType.Message, 1, new Uint8Array([0xcc]), F.MessageFlag.More),
  message_last: () => F.encodeDataFrame(F.FrameType.Message, 1, new Uint8Array([0xdd]), 0),
  bytes: () => F.encodeDataFrame(F.FrameType.Bytes, 3, new Uint8Array([1, 2, 3])),
  credit: () => F.encodeCredit(1, 65536),
  credit_session: () => F.encodeCredit(0, 300),
  window: () => F.encodeWindow(3, 65536),
  close: () => F.encodeClose(1),
  reset: () => F.encodeReset(F.FrameType.Reset, 1, codec.encodeToBytes(new Error('boom'))),
  stop: () => F.encodeReset(F.FrameType.Stop, 2, new Uint8Array(0)),
  ping: () => F.encodePing(F.FrameType.Ping, nonce),
  pong: () => F.encodePing(F.FrameType.Pong, nonce),
  goaway: () => F.encodeGoAway(5, false, new Uint8Array(0)),
  opens: () => F.encodeOpens(1),
  payload_plain: () => codec.encodeToBytes({ a: 1 }),
  payload_rich: () => codec.encodeToBytes({ d: new Date(0), b: new Uint8Array([9, 8]) }),
};

describe('golden byte vectors', () => {
  for (const name of Object.keys(golden) as (keyof typeof golden)[]) {
    it(`${name} encodes to its golden bytes`, () => {
      expect(hex(encoded[name]())).toBe(golden[name]);
    });
  }

  it('every golden frame decodes back to its fields', () => {
    const bytes = (name: keyof typeof golden): Uint8Array => Uint8Array.from(golden[name].split(' '), (h) => parseInt(h, 16));
    const hello = F.decodeFrame(bytes('hello'));
    expect(hello).toMatchObject({ type: F.FrameType.Hello, major: 1, minor: 1, capabilities: F.Capability.StreamWindow, limits });
    expect(F.decodeFrame(bytes('open_bytes'))).toEqual({ type: F.FrameType.Open, id: 300, kind: F.StreamKind.Bytes, openerSends: true, parent: 1 });
    expect(F.decodeFrame(bytes('open_child_sender'))).toEqual({ type: F.FrameType.Open, id: 4, kind: F.StreamKind.Channel, openerSends: false, parent: 1 });
    expect(F.decodeFrame(bytes('message_first'))).toMatchObject({ type: F.FrameType.Message, id: 1, flags: 3, total: 40000 });
    expect(F.decodeFrame(bytes('message_middle'))).toMatchObject({ flags: 1, total: -1 });
    expect(F.decodeFrame(bytes('credit'))).toEqual({ type: F.FrameType.Credit, id: 1, increment: 65536 });
    expect(F.decodeFrame(bytes('window'))).toEqual({ type: F.FrameType.Window, id: 3, increment: 65536 });
    expect(() => F.decodeFrame(Uint8Array.from([0x0c, 0x00, 0x01]))).toThrow(/stream 0/);
    expect(F.decodeFrame(bytes('goaway'))).toMatchObject({ type: F.FrameType.GoAway, lastId: 5, error: false });
    expect(F.decodeFrame(bytes('opens'))).toEqual({ type: F.FrameType.Opens, count: 1 });
    const reset = F.decodeFrame(bytes('reset'));
    expect(reset.type).toBe(F.FrameType.Reset);
    const reason = codec.decode((reset as F.ResetFrame).reason) as Error;
    expect(reason).toBeInstanceOf(Error);
    expect(reason.message).toBe('boom');
    expect(codec.decode(bytes('payload_rich'))).toEqual({ d: new Date(0), b: new Uint8Array([9, 8]) });
  });
});
