/**
 * WebTransport specifics over real loopback sessions (@fails-components,
 * Node ↔ Node): sub-streams ride native streams of their own, a channel
 * that is not read does not hold up its siblings, lanes beyond
 * `maxLaneStreams` ride the control stream, bad bytes from the peer end the
 * session with ProtocolError, aborted and stopped channels give all their
 * credit back, `onHello` can refuse, and certificates are
 * the kind `serverCertificateHashes` accepts.
 */
import { X509Certificate } from 'node:crypto';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { ChannelClosedError, pipe, ProtocolError, SessionClosedError, type Receiver } from '../../core/src/index.js';
import { scenarioSuite } from '../../core/test/session/scenarios.js';
import { positionedBytes, readPositioned } from '../../core/test/session/helpers.js';
import { createCertificate, nodeWebTransport, type WebTransportConstructor, type WebTransportLike } from '../src/node.js';
import { connect, connectedPair, listen, within, type Listener, type Session } from './helpers.js';

vi.mock('@libchan/core', () => import('../../core/src/index.js'));

/** A WebTransport constructor that records its instances and counts native streams. */
async function recordingWebTransport(): Promise<{
  ctor: WebTransportConstructor;
  transports: WebTransportLike[];
  counts: { uni: number; bidi: number; incomingUni: number };
  /** Every chunk written on each unidirectional stream, in creation order. */
  uniWrites: Uint8Array[][];
}> {
  const Base = (await nodeWebTransport()) as unknown as new (url: string, options?: Record<string, unknown>) => WebTransportLike;
  const transports: WebTransportLike[] = [];
  const counts = { uni: 0, bidi: 0, incomingUni: 0 };
  const uniWrites: Uint8Array[][] = [];
  class Recording extends (Base as new (url: string, options?: Record<string, unknown>) => object) {
    constructor(url: string, options?: Record<string, unknown>) {
      super(url, options);
      transports.push(this as unknown as WebTransportLike);
    }
  }
  const proto = Recording.prototype as unknown as WebTransportLike;
  const baseUni = (Base.prototype as WebTransportLike).createUnidirectionalStream;
  const baseBidi = (Base.prototype as WebTransportLike).createBidirectionalStream;
  Object.assign(proto, {
    async createUnidirectionalStream(this: WebTransportLike) {
      counts.uni++;
      const chunks: Uint8Array[] = [];
      uniWrites.push(chunks);
      const inner = (await baseUni.call(this)).getWriter();
      return new WritableStream<Uint8Array>({
        write: (chunk) => {
          chunks.push(chunk.slice());
          return inner.write(chunk);
        },
        close: () => inner.close(),
        abort: (reason) => inner.abort(reason),
      });
    },
    createBidirectionalStream(this: WebTransportLike) {
      counts.bidi++;
      return baseBidi.call(this);
    },
  });
  return { ctor: Recording as unknown as WebTransportConstructor, transports, counts, uniWrites };
}

const open: { cleanup(): Promise<void>; sessions: Session[] }[] = [];
afterEach(async () => {
  for (const o of open.splice(0)) {
    for (const s of o.sessions) s.abort(new Error('test over'));
    await o.cleanup();
  }
});

async function pair(...args: Parameters<typeof connectedPair>): ReturnType<typeof connectedPair> {
  const p = await connectedPair(...args);
  open.push({ cleanup: p.cleanup, sessions: [p.a, p.b] });
  return p;
}

describe('WebTransport link', () => {
  it('every sub-stream this side sends on gets a native unidirectional stream; one bidirectional control stream', async () => {
    const rec = await recordingWebTransport();
    const { a, b } = await pair({ WebTransport: rec.ctor });
    const requests = await a.openSender<{ n: number; ret: unknown }>();
    const incoming = await b.accept<{ n: number; ret: { send(v: number): Promise<void>; close(): Promise<void> } }>();
    for (let n = 0; n < 3; n++) {
      const [replies, ret] = pipe<number>();
      await requests.send({ n, ret });
      const req = await incoming.receive();
      await req.ret.send(req.n * 2);
      await req.ret.close();
      expect(await replies.receive()).toBe(n * 2);
    }
    expect(rec.counts.bidi).toBe(1);
    // `requests` is the only stream the client sends on (the rets are the server's lanes).
    expect(rec.counts.uni).toBe(1);
  });

  it('a lane stream on the wire: the lane id, then length-prefixed frames (docs/PROTOCOL.md example)', async () => {
    const rec = await recordingWebTransport();
    const { a, b } = await pair({ WebTransport: rec.ctor });
    const tx = await a.openSender<{ a: number }>();
    const rx = await b.accept<{ a: number }>();
    await tx.send({ a: 1 });
    expect(await rx.receive()).toEqual({ a: 1 });
    const id = (a.snapshot().streams[0] as { id: number }).id;
    expect(id).toBeLessThan(128);
    const wire = rec.uniWrites[0]?.[0];
    // lane id · length 12 · MESSAGE (type 2, stream id, flags 0) · payload 00 00 {"a":1}
    expect(Array.from(wire ?? [])).toEqual([id, 0x0c, 0x02, id, 0x00, 0x00, 0x00, ...new TextEncoder().encode('{"a":1}')]);
  });

  it('no write on a native stream exceeds maxWriteBytes (default 32 KiB), though a byte frame carries 64 KiB; the bytes arrive intact', async () => {
    const rec = await recordingWebTransport();
    const { a, b } = await pair({ WebTransport: rec.ctor });
    const tx = await a.openSender<{ body: ReadableStream<Uint8Array> }>();
    const rx = await b.accept<{ body: ReadableStream<Uint8Array> }>();
    const total = 1024 * 1024;
    await tx.send({ body: positionedBytes(total) });
    const received = (await within(rx.receive(), 10_000, 'the message')).body;
    const { bytes, wrong } = await readPositioned(received);
    expect(bytes).toBe(total);
    expect(wrong).toBe(0);
    const sizes = rec.uniWrites.flat().map((w) => w.byteLength);
    expect(Math.max(...sizes)).toBeLessThanOrEqual(32 * 1024);
    expect(sizes.filter((n) => n === 32 * 1024).length, 'frames were sliced').toBeGreaterThan(0);
  });

  it('head-of-line: a channel whose receiver never reads holds only itself; a sibling streams 1,000 messages and 2 MiB', async () => {
    const rec = await recordingWebTransport();
    const { a, b } = await pair({ WebTransport: rec.ctor });
    const stalled = await a.openSender<Uint8Array>();
    const stalledRx = await b.accept<Uint8Array>(); // accepted, never read
    const streaming = await a.openSender<number | Uint8Array>();
    const streamingRx = await b.accept<number | Uint8Array>();

    let admitted = 0;
    const stalledSends = Array.from({ length: 24 }, () => stalled.send(new Uint8Array(64 * 1024)).then(() => void admitted++)); // 1.5 MiB: more than one window
    for (const s of stalledSends) s.catch(() => {});

    const received: number[] = [];
    const reader = (async () => {
      for await (const v of streamingRx) if (typeof v === 'number') received.push(v);
    })();
    for (let i = 0; i < 1000; i++) await streaming.send(i);
    for (let i = 0; i < 8; i++) await streaming.send(new Uint8Array(256 * 1024));
    await streaming.close();
    await within(reader, 20_000, 'the streaming channel');
    expect(received).toEqual(Array.from({ length: 1000 }, (_, i) => i));

    // Many round trips later, the stalled channel is still held at its window (1 MiB by default: 16 pieces).
    expect(admitted).toBeGreaterThanOrEqual(1);
    expect(admitted).toBeLessThanOrEqual(17);
    expect(rec.counts.uni).toBe(2); // one native stream per channel
    void stalledRx;
  });

  scenarioSuite(
    'scenario suite with maxLaneStreams: 2 (the rest ride the control stream)',
    async (optsA, optsB) => {
      const { a, b, cleanup } = await connectedPair({ ...optsA, maxLaneStreams: 2 }, { ...optsB, maxLaneStreams: 2 });
      return { a, b, cleanup };
    },
    {
      // Covered by the full suite (scenarios.test.ts); the slow ones are skipped here.
      skip: ['a 5 MiB ReadableStream in 64 KiB chunks arrives byte-exact (SHA-256)', 'a 1048576-byte string and Uint8Array arrive byte-exact'],
    },
  );

  it('bad bytes on a lane (lane id 0) end the peer session with ProtocolError; the other side sees the close', async () => {
    const rec = await recordingWebTransport();
    const { a, b } = await pair({ WebTransport: rec.ctor });
    const transport = rec.transports[0] as WebTransportLike;
    const stream = await transport.createUnidirectionalStream();
    const writer = stream.getWriter();
    await writer.write(Uint8Array.of(0x00, 0x01, 0x02));
    const bClosed = await within(b.closed.then(() => 'resolved', (e: unknown) => e), 10_000, 'server session end');
    expect(bClosed).toBeInstanceOf(SessionClosedError);
    expect((bClosed as SessionClosedError).cause).toBeInstanceOf(ProtocolError);
    const aClosed = await within(a.closed.then(() => 'resolved', (e: unknown) => e), 10_000, 'client session end');
    expect(aClosed).toBeInstanceOf(SessionClosedError);
  });

  it('a lane that ends inside a frame is a ProtocolError', async () => {
    const rec = await recordingWebTransport();
    const { b } = await pair({ WebTransport: rec.ctor });
    const writer = (await (rec.transports[0] as WebTransportLike).createUnidirectionalStream()).getWriter();
    // lane 3, then a frame that says 10 bytes but carries 2, then FIN.
    await writer.write(Uint8Array.of(0x03, 0x0a, 0x02, 0x03));
    await writer.close();
    const bClosed = await within(b.closed.then(() => 'resolved', (e: unknown) => e), 10_000, 'server session end');
    expect((bClosed as SessionClosedError).cause).toBeInstanceOf(ProtocolError);
  });

  it('receiver close and sender abort cross as libchan ends (reasons on the control stream, the lanes end with FIN)', async () => {
    const { a, b } = await pair();
    const tx = await a.openSender<number>();
    const rx = await b.accept<number>();
    await tx.send(1);
    expect(await rx.receive()).toBe(1);
    rx.close(new Error('enough'));
    const err = await within(
      (async () => {
        for (;;) await tx.send(2);
      })().catch((e: unknown) => e),
      10_000,
      'sends to reject',
    );
    expect(err).toBeInstanceOf(ChannelClosedError);
    expect((err as ChannelClosedError).code).toBe('RECEIVER_CLOSED');

    const tx2 = await a.openSender<number>();
    const rx2 = await b.accept<number>();
    await tx2.send(1);
    expect(await rx2.receive()).toBe(1);
    tx2.abort(Object.assign(new RangeError('stop it'), { code: 'E_STOP' }));
    await expect(rx2.receive()).rejects.toMatchObject({ name: 'RangeError', message: 'stop it', code: 'E_STOP' });
    // The session is fine afterwards.
    const tx3 = await a.openSender<string>();
    const rx3 = await b.accept<string>();
    await tx3.send('still here');
    expect(await rx3.receive()).toBe('still here');
  });

  it('aborts and stops of busy channels give all their credit back: a 256 KiB session window outlives 16 of each', async () => {
    const window = { initialWindowBytes: 64 * 1024, sessionWindowBytes: 256 * 1024 };
    const { a, b } = await pair(window, window);
    const chunk = new Uint8Array(16 * 1024).fill(7);
    for (let i = 0; i < 16; i++) {
      // Abort in the tick of the sends: a whole window of frames is still queued in the link.
      const tx = await a.openSender<Uint8Array>();
      const rx = await within(b.accept<Uint8Array>(), 10_000, `accept ${i}`);
      const sends = Array.from({ length: 4 }, () => tx.send(chunk).catch(() => {}));
      tx.abort(new Error(`abort ${i}`));
      await Promise.all(sends);
      // Values that arrive before the RESET may still be taken; then the abort's reason.
      const ended = await within(
        (async () => {
          for (let taken = 0; ; taken++) {
            await rx.receive().catch((error: unknown) => {
              throw Object.assign(error as Error, { taken });
            });
          }
        })().catch((error: unknown) => error as Error & { taken: number }),
        10_000,
        `abort ${i} reaches the receiver`,
      );
      expect(ended.message).toBe(`abort ${i}`);
      expect(ended.taken).toBeLessThanOrEqual(sends.length);
      // Stop while the sender keeps a window in flight.
      const tx2 = await a.openSender<Uint8Array>();
      const rx2 = await within(b.accept<Uint8Array>(), 10_000, `accept stop ${i}`);
      const sent = (async () => {
        for (;;) await tx2.send(chunk);
      })().catch((e: unknown) => e);
      await within(rx2.receive(), 10_000, `first of stop ${i}`);
      rx2.close(new Error(`stop ${i}`));
      expect(await within(sent, 10_000, `sends after stop ${i}`)).toBeInstanceOf(ChannelClosedError);
    }
    // Every byte of the session window is still there: 1 MiB goes through.
    const tx = await a.openSender<Uint8Array>();
    const rx = await within(b.accept<Uint8Array>(), 10_000, 'accept last');
    const total = 64;
    const sending = (async () => {
      for (let i = 0; i < total; i++) await tx.send(chunk);
      await tx.close();
    })();
    let got = 0;
    await within(
      (async () => {
        for await (const value of rx) got += value.byteLength;
      })(),
      10_000,
      'the last channel read to its end',
    );
    await within(sending, 10_000, 'the last sends');
    expect(got).toBe(total * chunk.byteLength);
  }, 60_000);

  it('session.close() on either side ends both cleanly', async () => {
    const { a, b } = await pair();
    const tx = await a.openSender<number>();
    const rx: Receiver<number> = await b.accept<number>();
    await tx.send(7);
    await tx.close();
    expect(await rx.receive()).toBe(7);
    await within(Promise.all([a.close(), b.closed]), 10_000, 'close');
    await expect(b.closed).resolves.toBeUndefined();
  });
});

describe('listenWebTransport', () => {
  it('onHello can refuse a client: connect rejects, onSession never runs', async () => {
    const seen: unknown[] = [];
    let sessions = 0;
    const listener: Listener = await listen({ port: 0, path: '/chan', onHello: (hello) => (seen.push(hello), (hello as { token?: string })?.token === 'ok') }, () => {
      sessions++;
    });
    open.push({ cleanup: () => listener.close(), sessions: [] });
    await expect(connect(listener.url, { serverCertificateHashes: [listener.certificateHash], hello: { token: 'bad' } })).rejects.toBeInstanceOf(SessionClosedError);
    const ok = await connect(listener.url, { serverCertificateHashes: [listener.certificateHash], hello: { token: 'ok' } });
    open.push({ cleanup: async () => {}, sessions: [ok] });
    expect(seen).toEqual([{ token: 'bad' }, { token: 'ok' }]);
    await within(
      (async () => {
        while (sessions === 0) await new Promise((r) => setTimeout(r, 5));
      })(),
      5000,
      'onSession',
    );
    expect(sessions).toBe(1);
  });

  it('certificate checking stays on: without the hash the self-signed certificate is refused', async () => {
    const listener = await listen({ port: 0, path: '/chan' });
    open.push({ cleanup: () => listener.close(), sessions: [] });
    await expect(connect(listener.url, { handshakeTimeoutMs: 5000 })).rejects.toBeInstanceOf(SessionClosedError);
  });

  it('reports url, port, certificate hash and whether HTTP/3 is offered', async () => {
    const listener = await listen({ port: 0, path: '/x' });
    open.push({ cleanup: () => listener.close(), sessions: [] });
    expect(listener.url).toBe(`https://127.0.0.1:${listener.port}/x`);
    expect(listener.certificateHash.algorithm).toBe('sha-256');
    expect(listener.certificateHash.value.byteLength).toBe(32);
    expect(typeof listener.http3).toBe('boolean');
  });
});

describe('createCertificate', () => {
  it('makes an ECDSA P-256 certificate valid under 14 days, for localhost and 127.0.0.1, whose hash is SHA-256 of its DER', async () => {
    const made = await createCertificate();
    const x509 = new X509Certificate(made.cert);
    expect(x509.publicKey.asymmetricKeyType).toBe('ec');
    expect(x509.publicKey.asymmetricKeyDetails?.namedCurve).toBe('prime256v1');
    expect(x509.verify(x509.publicKey)).toBe(true);
    const validMs = new Date(x509.validTo).getTime() - new Date(x509.validFrom).getTime();
    expect(validMs).toBeLessThan(14 * 24 * 3600 * 1000);
    expect(new Date(x509.validFrom).getTime()).toBeLessThanOrEqual(Date.now());
    expect(x509.subjectAltName).toContain('DNS:localhost');
    expect(x509.subjectAltName).toContain('IP Address:127.0.0.1');
    expect(Buffer.from(made.hash.value).toString('hex').toUpperCase()).toBe(x509.fingerprint256.replace(/:/g, ''));
    expect(x509.checkPrivateKey((await import('node:crypto')).createPrivateKey(made.key))).toBe(true);
  });

  it('refuses validity of 14 days or more', async () => {
    await expect(createCertificate({ days: 14 })).rejects.toBeInstanceOf(RangeError);
  });
});
