/**
 * Hostile or broken clients against a `listenWebSocket` server, with a raw
 * `ws` client: garbage, text, truncated frames, oversized messages, huge
 * length varints, frames for unknown streams, references to streams never
 * opened, and a handshake that never comes. Each time that one connection is
 * closed with a clear WebSocket close code, while a well-behaved client on
 * the same server keeps working (a Ret round trip after every bad one), and
 * the server's memory and session table stay bounded.
 */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type WebSocket from 'ws';
import { Codec } from '../../core/src/codec/codec.js';
import { defaults } from '../../core/src/config.js';
import { joinFrames, MAX_STREAM_FRAME, splitBatch } from '../../core/src/index.js';
import {
  decodeFrame,
  encodeDataFrame,
  encodeHello,
  encodeOpen,
  encodePing,
  FrameType,
  StreamKind,
  type AnnouncedLimits,
} from '../../core/src/session/frames.js';
import { connect, listen, rawClient, roundTrip, serveRet, within, type Listener, type RawClose, type Request, type Session } from './helpers.js';
import type { Sender } from '../../core/src/index.js';
import { until } from '../../core/test/session/helpers.js';

vi.mock('@libchan/core', () => import('../../core/src/index.js'));

const codec = new Codec({ maxNestingDepth: 64 });
const limits: AnnouncedLimits = {
  maxMessageBytes: defaults.maxMessageBytes,
  maxChannels: defaults.maxChannels,
  maxNestingDepth: defaults.maxNestingDepth,
  initialWindowBytes: defaults.initialWindowBytes,
  sessionWindowBytes: defaults.sessionWindowBytes,
  keepAliveMs: defaults.keepAliveMs,
  maxPendingAccepts: defaults.maxPendingAccepts,
  maxUnclaimedStreams: defaults.maxUnclaimedStreams,
};
/** The largest WebSocket message the server accepts (listen.ts: MAX_STREAM_FRAME + 64 KiB). */
const MAX_PAYLOAD = MAX_STREAM_FRAME + 64 * 1024;

/**
 * A valid client HELLO as one WebSocket message (varint length + frame). Its
 * nonce is all 0xff, so it is larger than the server's and this client owns
 * the odd stream ids.
 */
function helloMessage(): Uint8Array {
  return joinFrames([encodeHello(new Uint8Array(8).fill(0xff), 0, limits, codec.encodeToBytes({ raw: true }))]);
}

/** A MESSAGE payload in the superjson envelope: flags 1, no attachments, json, meta. */
function envelope(json: string, meta: string): Uint8Array {
  const j = new TextEncoder().encode(json);
  const m = new TextEncoder().encode(meta);
  if (j.byteLength >= 128) throw new Error('keep the json short (one-byte varint)');
  return Uint8Array.from([0x01, 0x00, j.byteLength, ...j, ...m]);
}

const CLOSE_WAIT_MS = 10_000;

let listener: Listener;
let good: Session;
let requests: Sender<Request>;
let checks = 0;

/** The well-behaved client still gets correct replies; a brand-new client can still connect. */
async function serverStillServes(): Promise<void> {
  checks++;
  expect((await within(roundTrip(requests, checks), 10_000, 'round trip on the good client')).doubled).toBe(2 * checks);
  const fresh = await within(connect(listener.url), 10_000, 'a fresh client connects');
  try {
    const tx = await fresh.openSender<Request>();
    expect((await within(roundTrip(tx, 1000 + checks), 10_000, 'round trip on a fresh client')).doubled).toBe(2 * (1000 + checks));
    await tx.close();
  } finally {
    fresh.abort();
  }
}

/** Opens a raw client, waits for the server's HELLO (so the session is live), runs `misbehave`, returns how it was closed. */
async function misbehaving(misbehave: (socket: WebSocket) => void, options: { waitHello?: boolean } = {}): Promise<{ close: RawClose; messages: (Buffer | string)[] }> {
  const { socket, closed, messages } = await rawClient(listener.url);
  if (options.waitHello !== false) {
    await until(() => messages.length > 0, 'the server HELLO');
    expect(messages.length, 'the server sends its HELLO at once').toBeGreaterThan(0);
    const first = splitBatch(new Uint8Array(messages[0] as Buffer));
    expect(decodeFrame(first[0] as Uint8Array).type).toBe(FrameType.Hello);
  }
  misbehave(socket);
  const close = await within(closed, CLOSE_WAIT_MS, 'the server closes the bad connection');
  return { close, messages };
}

/** The reason in the server's last GOAWAY (error) frame, decoded. */
function goAwayReason(messages: (Buffer | string)[]): { code?: string; name?: string } | undefined {
  for (const m of messages.slice().reverse()) {
    if (typeof m === 'string') continue;
    for (const frame of splitBatch(new Uint8Array(m)).reverse()) {
      const f = decodeFrame(frame);
      if (f.type === FrameType.GoAway && f.error) return codec.decode(f.reason) as { code?: string; name?: string };
    }
  }
  return undefined;
}

beforeAll(async () => {
  listener = await listen({ port: 0 }, serveRet);
  // A long handshakeTimeoutMs keeps this long-lived client clear of the handshake-timer bug
  // (link.test.ts, 'WebSocket session lifetime'), which is not what this file is about.
  good = await within(connect(listener.url, { handshakeTimeoutMs: 600_000 }), 10_000, 'good client connects');
  requests = await good.openSender<Request>();
  await roundTrip(requests, 0);
}, 20_000);

afterAll(async () => {
  good?.abort();
  for (const s of listener?.sessions ?? []) s.abort(new Error('test over'));
  await listener?.close();
});

describe('bad input on a listenWebSocket server (raw ws client)', () => {
  it('garbage bytes: closed with 1002 (protocol error), a reason is given', async () => {
    const { close } = await misbehaving((s) => s.send(Buffer.from('this is not a libchan frame at all, just text in a binary message')));
    expect(close.code).toBe(1002);
    expect(close.reason.length).toBeGreaterThan(0);
    await serverStillServes();
  }, 30_000);

  it('garbage that splits into frames (unknown frame type first): closed with 1002', async () => {
    const { close, messages } = await misbehaving((s) => s.send(Buffer.from([0x03, 0xff, 0x01, 0x02])));
    expect(close.code).toBe(1002);
    expect(goAwayReason(messages)?.code).toBe('BAD_FRAME');
    await serverStillServes();
  }, 30_000);

  it('a text frame: closed with 1003 (unsupported data)', async () => {
    const { close } = await misbehaving((s) => s.send('{"hello":"world"}'));
    expect(close.code).toBe(1003);
    await serverStillServes();
  }, 30_000);

  it('a text frame after a valid HELLO: closed with 1003', async () => {
    const { close } = await misbehaving((s) => {
      s.send(helloMessage());
      s.send('text');
    });
    expect(close.code).toBe(1003);
    await serverStillServes();
  }, 30_000);

  it('a truncated frame (length prefix larger than the message): closed with 1002', async () => {
    const { close } = await misbehaving((s) => s.send(Uint8Array.from([100, 0x00, 0x00, 0x4c, 0x43, 1, 0, 1, 2, 3])));
    expect(close.code).toBe(1002);
    await serverStillServes();
  }, 30_000);

  it('a valid HELLO followed by a truncated frame in the same message: closed with 1002', async () => {
    const hello = helloMessage();
    const message = new Uint8Array(hello.byteLength + 3);
    message.set(hello, 0);
    message.set([50, 0x02, 0x01], hello.byteLength);
    const { close } = await misbehaving((s) => s.send(message));
    expect(close.code).toBe(1002);
    await serverStillServes();
  }, 30_000);

  it('an oversized WebSocket message (> 1 MiB + 64 KiB): closed with 1009', async () => {
    const { close } = await misbehaving((s) => s.send(new Uint8Array(MAX_PAYLOAD + 1)));
    expect(close.code).toBe(1009);
    await serverStillServes();
  }, 30_000);

  it('a message of exactly the maximum size is not refused for its size (it fails as a protocol error instead)', async () => {
    // All zero bytes: a zero length prefix is refused by the frame splitter (1002), not by ws (1009).
    const { close } = await misbehaving((s) => s.send(new Uint8Array(MAX_PAYLOAD)));
    expect(close.code).toBe(1002);
    await serverStillServes();
  }, 30_000);

  it('a frame with a huge length varint: closed with 1002, nothing allocated for it', async () => {
    const before = process.memoryUsage().arrayBuffers;
    // 2^56 − 1 as a varint: eight 0xff bytes and 0x7f.
    const { close } = await misbehaving((s) => s.send(Uint8Array.from([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f, 0x00])));
    expect(close.code).toBe(1002);
    // A length just over the 1 MiB frame limit, with the bytes "present" only in the prefix.
    const { close: close2 } = await misbehaving((s) => s.send(Uint8Array.from([0x81, 0x80, 0x40, 0x00])));
    expect(close2.code).toBe(1002);
    expect(process.memoryUsage().arrayBuffers - before).toBeLessThan(64 * 1024 * 1024);
    await serverStillServes();
  }, 30_000);

  it('a frame for an unknown stream id after a valid HELLO: closed with 1002; the GOAWAY says UNKNOWN_STREAM', async () => {
    const { close, messages } = await misbehaving((s) => {
      s.send(helloMessage());
      s.send(joinFrames([encodeDataFrame(FrameType.Message, 99, new TextEncoder().encode('\u0000\u0000{"a":1}'))]));
    });
    expect(close.code).toBe(1002);
    expect(goAwayReason(messages)?.code).toBe('UNKNOWN_STREAM');
    await serverStillServes();
  }, 30_000);

  it('a MESSAGE naming a channel reference never opened: closed with 1002 (protocol error)', async () => {
    const { close, messages } = await misbehaving((s) => {
      s.send(helloMessage());
      s.send(
        joinFrames([
          encodeOpen(1, StreamKind.Channel, true, 0),
          encodeDataFrame(FrameType.Message, 1, envelope('{"ret":7}', '{"values":{"ret":[["custom","S"]]},"v":1}')),
        ]),
      );
    });
    expect(close.code).toBe(1002);
    const reason = goAwayReason(messages);
    expect(reason?.name).toBe('ProtocolError');
    expect(reason?.code).toMatch(/^(UNKNOWN_STREAM|BAD_MESSAGE)$/);
    await serverStillServes();
  }, 30_000);

  it('a frame other than HELLO first (a PING): closed with 1002, BAD_HANDSHAKE', async () => {
    const { close, messages } = await misbehaving((s) => s.send(joinFrames([encodePing(FrameType.Ping, new Uint8Array(8))])));
    expect(close.code).toBe(1002);
    expect(goAwayReason(messages)?.code).toBe('BAD_HANDSHAKE');
    await serverStillServes();
  }, 30_000);

  it('a well-formed HELLO is accepted from a raw client (control: the raw encoding is right)', async () => {
    const { socket, closed, messages } = await rawClient(listener.url);
    socket.send(helloMessage());
    socket.send(joinFrames([encodePing(FrameType.Ping, Uint8Array.from([1, 2, 3, 4, 5, 6, 7, 8]))]));
    // The server answers the PING with a PONG echoing the bytes.
    let pong: Uint8Array | undefined;
    const findPong = (): boolean => {
      for (const m of messages) {
        if (typeof m === 'string') continue;
        for (const frame of splitBatch(new Uint8Array(m))) {
          const f = decodeFrame(frame);
          if (f.type === FrameType.Pong) pong = f.data;
        }
      }
      return pong !== undefined;
    };
    await until(findPong, 'the PONG');
    expect(Array.from(pong ?? [])).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    socket.close(1000);
    expect((await within(closed, CLOSE_WAIT_MS, 'raw close')).code).toBe(1000);
    await serverStillServes();
  }, 30_000);

  it('many bad connections in a row: the session table returns to the good client only; memory stays bounded', async () => {
    const baseline = listener.sessions.size;
    const heapBefore = process.memoryUsage().heapUsed;
    const bad: ((s: WebSocket) => void)[] = [
      (s) => s.send(Buffer.from('garbage garbage garbage')),
      (s) => s.send('text'),
      (s) => s.send(Uint8Array.from([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f])),
      (s) => s.send(Uint8Array.from([120, 1, 2, 3])),
      (s) => {
        s.send(helloMessage());
        s.send(joinFrames([encodeDataFrame(FrameType.Message, 77, Uint8Array.from([0, 0x6e, 0x75, 0x6c, 0x6c]))]));
      },
    ];
    const codes: number[] = [];
    for (let round = 0; round < 20; round++) {
      const results = await Promise.all(bad.map((b) => misbehaving(b, { waitHello: false })));
      for (const r of results) codes.push(r.close.code);
    }
    expect(new Set(codes)).toEqual(new Set([1002, 1003]));
    await serverStillServes();
    await until(() => listener.sessions.size <= baseline, 'the bad sessions leave the table');
    expect(listener.sessions.size).toBe(baseline);
    const growth = process.memoryUsage().heapUsed - heapBefore;
    expect(growth, `heap grew by ${growth} bytes over 100 bad connections`).toBeLessThan(64 * 1024 * 1024);
  }, 60_000);
});

describe('a handshake that never comes', () => {
  let slow: Listener;
  let slowGood: Session;

  beforeAll(async () => {
    slow = await listen({ port: 0, handshakeTimeoutMs: 2_000 }, serveRet);
    slowGood = await within(connect(slow.url, { handshakeTimeoutMs: 600_000 }), 10_000, 'good client on the slow-handshake server');
  }, 20_000);

  afterAll(async () => {
    slowGood?.abort();
    for (const s of slow?.sessions ?? []) s.abort(new Error('test over'));
    await slow?.close();
  });

  it('a client that sends nothing is closed with 1002 after handshakeTimeoutMs; a good client is served meanwhile', async () => {
    const idle = await Promise.all([rawClient(slow.url), rawClient(slow.url), rawClient(slow.url)]);
    const tx = await slowGood.openSender<Request>();
    expect((await roundTrip(tx, 5)).doubled).toBe(10);
    for (const { closed, messages } of idle) {
      const close = await within(closed, 10_000, 'the idle client is closed');
      expect(close.code).toBe(1002);
      expect(goAwayReason(messages)?.code).toBe('HANDSHAKE_TIMEOUT');
    }
    // The good client on the same server: still served (its session outlived the handshake timeout too).
    expect((await within(roundTrip(tx, 6), 10_000, 'round trip after the idle clients were dropped')).doubled).toBe(12);
    await serverStillServes();
  }, 30_000);
});
