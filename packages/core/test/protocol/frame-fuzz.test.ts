/**
 * Random and mutated frames never crash or hang a decoder or a session:
 * they decode, or they fail with a ProtocolError and a clean session end.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { allocBytes } from '../../src/codec/bytes.js';
import { Codec } from '../../src/codec/codec.js';
import { ProtocolError, SessionClosedError } from '../../src/errors.js';
import { FrameSplitter, joinFrames, splitBatch } from '../../src/link/stream.js';
import * as F from '../../src/session/frames.js';
import type { FrameLink, LinkSink } from '../../src/session/link.js';
import { Session } from '../../src/session/session.js';

const codec = new Codec({ maxNestingDepth: 64 });
const limits = {
  maxMessageBytes: 1 << 20,
  maxChannels: 64,
  maxNestingDepth: 64,
  initialWindowBytes: 65536,
  sessionWindowBytes: 1 << 20,
  keepAliveMs: 0,
  maxPendingAccepts: 16,
  maxUnclaimedStreams: 16,
};
const validFrames: Uint8Array[] = [
  F.encodeOpen(2, F.StreamKind.Channel, true, 0),
  F.encodeDataFrame(F.FrameType.Message, 2, codec.encodeToBytes({ a: [1, 'x', null] })),
  F.encodeDataFrame(F.FrameType.Message, 2, new Uint8Array([0, 0, 0x31]), F.MessageFlag.More | F.MessageFlag.Start, 5),
  F.encodeCredit(2, 100),
  F.encodeClose(2),
  F.encodeReset(F.FrameType.Reset, 2, codec.encodeToBytes(new Error('x'))),
  F.encodePing(F.FrameType.Ping, new Uint8Array(8)),
  F.encodeGoAway(0, false, new Uint8Array(0)),
  F.encodeOpens(3),
];

function mutate(frame: Uint8Array, edits: [number, number, number][]): Uint8Array {
  const bytes = Array.from(frame);
  for (const [kind, pos, value] of edits) {
    const i = bytes.length === 0 ? 0 : pos % (bytes.length + 1);
    if (kind === 0 && bytes.length > 0) bytes[i % bytes.length] = value;
    else if (kind === 1) bytes.splice(i, 0, value);
    else bytes.splice(i, 1);
  }
  return Uint8Array.from(bytes);
}

const edit = fc.tuple(fc.integer({ min: 0, max: 2 }), fc.nat(), fc.integer({ min: 0, max: 255 }));

describe('frame decoder', () => {
  it('random bytes decode or throw ProtocolError', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 256 }), (bytes) => {
        try {
          F.decodeFrame(bytes);
        } catch (error) {
          expect(error).toBeInstanceOf(ProtocolError);
        }
      }),
      { numRuns: 3000 },
    );
  });

  it('mutated valid frames decode or throw ProtocolError', () => {
    fc.assert(
      fc.property(fc.constantFrom(...validFrames), fc.array(edit, { minLength: 1, maxLength: 4 }), (frame, edits) => {
        try {
          F.decodeFrame(mutate(frame, edits));
        } catch (error) {
          expect(error).toBeInstanceOf(ProtocolError);
        }
      }),
      { numRuns: 3000 },
    );
  });
});

describe('byte-link frame splitter', () => {
  it('a frame given as header and payload joins to the same bytes as the whole frame', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.constantFrom(...validFrames), fc.nat(), fc.boolean()), { minLength: 1, maxLength: 12 }), (picks) => {
        const whole = picks.map(([f]) => f);
        // Cut each frame anywhere into head and body (or leave it whole).
        const mixed = picks.map(([f, cut, split]) => (split ? { head: f.subarray(0, cut % (f.byteLength + 1)), body: f.subarray(cut % (f.byteLength + 1)) } : f));
        expect(Array.from(joinFrames(mixed))).toEqual(Array.from(joinFrames(whole)));
        expect(splitBatch(joinFrames(mixed)).map((f) => Array.from(f))).toEqual(whole.map((f) => Array.from(f)));
        // Joined into a slab view (what the WebSocket and Node stream links pass): the same bytes, only its own.
        const before = allocBytes(8);
        before.fill(0xee);
        const intoSlab = joinFrames(mixed, allocBytes);
        const after = allocBytes(8);
        after.fill(0xdd);
        expect(Array.from(intoSlab)).toEqual(Array.from(joinFrames(whole)));
        expect(Array.from(before)).toEqual(new Array(8).fill(0xee));
      }),
      { numRuns: 300 },
    );
  });

  it('any split of a valid frame sequence yields the same frames', () => {
    fc.assert(
      fc.property(fc.array(fc.constantFrom(...validFrames), { minLength: 1, maxLength: 12 }), fc.array(fc.nat(), { maxLength: 20 }), (frames, cuts) => {
        const joined = joinFrames(frames);
        const points = [...new Set(cuts.map((c) => c % (joined.byteLength + 1)))].sort((a, b) => a - b);
        const splitter = new FrameSplitter();
        const out: Uint8Array[] = [];
        let prev = 0;
        for (const p of [...points, joined.byteLength]) {
          out.push(...splitter.push(joined.subarray(prev, p)));
          prev = p;
        }
        expect(out.map((f) => Array.from(f))).toEqual(frames.map((f) => Array.from(f)));
        expect(splitter.idle).toBe(true);
      }),
      { numRuns: 500 },
    );
  });

  it('random bytes give frames or a ProtocolError, and an oversized length is refused before allocating', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 512 }), (bytes) => {
        const splitter = new FrameSplitter(1024);
        try {
          for (const f of splitter.push(bytes)) expect(f.byteLength).toBeLessThanOrEqual(1024);
        } catch (error) {
          expect(error).toBeInstanceOf(ProtocolError);
        }
      }),
      { numRuns: 2000 },
    );
    expect(() => new FrameSplitter(1024).push(Uint8Array.from([0xff, 0xff, 0xff, 0xff, 0x0f]))).toThrow(ProtocolError);
  });

  it('a whole batch splits into what the streaming splitter gives, or both refuse it (ProtocolError)', () => {
    const outcome = (split: () => Uint8Array[]): unknown => {
      try {
        return split().map((f) => Array.from(f));
      } catch (error) {
        expect(error).toBeInstanceOf(ProtocolError);
        return 'refused';
      }
    };
    const batches = fc.oneof(
      fc.uint8Array({ maxLength: 256 }),
      fc.array(fc.constantFrom(...validFrames), { minLength: 1, maxLength: 8 }).map((frames) => joinFrames(frames)),
      fc
        .tuple(fc.array(fc.constantFrom(...validFrames), { minLength: 1, maxLength: 4 }), fc.nat())
        .map(([frames, cut]) => {
          const joined = joinFrames(frames);
          return joined.subarray(0, cut % (joined.byteLength + 1));
        }),
    );
    fc.assert(
      fc.property(batches, (batch) => {
        const streaming = (): Uint8Array[] => {
          const splitter = new FrameSplitter(1024);
          const frames = splitter.push(batch);
          if (!splitter.idle) throw new ProtocolError('ends inside a frame', { code: 'BAD_FRAME' });
          return frames;
        };
        expect(outcome(() => splitBatch(batch, 1024))).toEqual(outcome(streaming));
      }),
      { numRuns: 2000 },
    );
  });
});

/** A link whose peer is the test: it feeds frames in and records what the session writes. */
class ScriptedLink implements FrameLink {
  sink!: LinkSink;
  written: Uint8Array[] = [];
  closedWith: { error: unknown } | undefined;
  start(sink: LinkSink): void {
    this.sink = sink;
  }
  send(frame: Uint8Array): boolean {
    this.written.push(frame.slice());
    return true;
  }
  close(error?: unknown): void {
    this.closedWith = { error };
  }
}

describe('a session fed hostile frames', () => {
  it('ends with a clean SessionClosedError (never throws, never hangs)', async () => {
    const helloFrame = F.encodeHello(new Uint8Array([9, 9, 9, 9, 9, 9, 9, 9]), 0, limits, codec.encodeToBytes(null));
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.oneof(fc.constantFrom(...validFrames), fc.uint8Array({ minLength: 1, maxLength: 64 })), { maxLength: 12 }),
        fc.array(edit, { maxLength: 3 }),
        async (frames, edits) => {
          const link = new ScriptedLink();
          const session = new Session(link, { keepAliveMs: 0, handshakeTimeoutMs: 5000 });
          link.sink.frame(helloFrame);
          await session.ready;
          for (const f of frames) link.sink.frame(mutate(f, edits));
          // Whatever happened, the session is either still usable or ended cleanly with a SessionClosedError.
          session.abort(new Error('test over'));
          await session.closed.then(
            () => {},
            (error: unknown) => expect(error).toBeInstanceOf(SessionClosedError),
          );
          expect(link.closedWith).toBeDefined();
        },
      ),
      { numRuns: 400 },
    );
  });

  it('refuses a frame before HELLO and an unknown major version', async () => {
    const link = new ScriptedLink();
    const session = new Session(link, { keepAliveMs: 0 });
    link.sink.frame(F.encodeClose(1));
    await expect(session.ready).rejects.toBeInstanceOf(SessionClosedError);
    const link2 = new ScriptedLink();
    const session2 = new Session(link2, { keepAliveMs: 0 });
    const hello = F.encodeHello(new Uint8Array(8), 0, limits, codec.encodeToBytes(null));
    hello[4] = 2; // major version 2
    link2.sink.frame(hello);
    const error = await session2.ready.catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SessionClosedError);
    expect((error as SessionClosedError).cause).toMatchObject({ code: 'VERSION_MISMATCH' });
  });

  it('a handshake that never comes ends the session after handshakeTimeoutMs', async () => {
    const link = new ScriptedLink();
    const session = new Session(link, { keepAliveMs: 0, handshakeTimeoutMs: 50 });
    const error = await session.ready.catch((e: unknown) => e);
    expect((error as SessionClosedError).cause).toMatchObject({ code: 'HANDSHAKE_TIMEOUT' });
    expect(link.closedWith).toBeDefined();
  });
});
