/**
 * Byte-stream windows grow while the reader keeps up (WINDOW frames, stream
 * credit only), stay put for a stalled reader and for a peer that does not
 * announce the capability, and never let the sender exceed what the receiver
 * checks.
 */
import { describe, expect, it } from 'vitest';
import { decodeFrame, encodeHello, FrameType, type HelloFrame } from '../../src/session/frames.js';
import { memoryLinkPair, Session, type FrameLink, type LinkSink, type StreamSnapshot } from '../../src/index.js';
import { positionedBytes, readPositioned, until } from './helpers.js';

const MiB = 1024 * 1024;
/**
 * One-way delay of the test link; timers keep order, so frames stay in order. Growth needs
 * the reader to drain what arrived within a round trip (20 ms here), a wide margin even on a
 * loaded machine.
 */
const LATENCY_MS = 10;
const options = { keepAliveMs: 0, initialWindowBytes: MiB, sessionWindowBytes: 16 * MiB };

/**
 * Records the frame types a session writes and delivers them a few ms late, as a
 * network would: the reader then drains a window before more arrives, which is
 * when a window should grow. Optionally rewrites the HELLO to announce no
 * capabilities (a 1.0 peer).
 */
class WatchedLink implements FrameLink {
  readonly types: number[] = [];
  constructor(
    private readonly inner: FrameLink,
    private readonly asOldPeer = false,
  ) {}
  start(sink: LinkSink): void {
    this.inner.start(sink);
  }
  send(frame: Uint8Array, lane?: number): boolean {
    this.types.push(frame[0] as number);
    if (this.asOldPeer && frame[0] === FrameType.Hello) {
      const hello = decodeFrame(frame) as HelloFrame;
      frame = encodeHello(hello.nonce, 0, hello.limits, hello.hello);
    }
    setTimeout(() => this.inner.send(frame, lane), LATENCY_MS);
    return true;
  }
  close(error?: unknown): void {
    setTimeout(() => this.inner.close(error), LATENCY_MS);
  }
}

function pairOf(oldReceiver = false) {
  const [la, lb] = memoryLinkPair();
  const sendingLink = new WatchedLink(la, oldReceiver);
  const receivingLink = new WatchedLink(lb);
  return { sender: new Session(sendingLink, options), receiver: new Session(receivingLink, options), sendingLink, receivingLink };
}

function receivingByteStream(session: Session): StreamSnapshot | undefined {
  return session.snapshot().streams.find((s) => s.kind === 'bytes' && s.direction === 'receive');
}

/** Opens a channel from `sender` to `receiver`, sends a byte stream of `total` bytes in a message, returns the stream as it arrives. */
async function sendBody(sender: Session, receiver: Session, total: number): Promise<ReadableStream<Uint8Array>> {
  const tx = await sender.openSender<{ body: ReadableStream<Uint8Array> }>();
  const rx = await receiver.accept<{ body: ReadableStream<Uint8Array> }>();
  await tx.send({ body: positionedBytes(total) });
  return (await rx.receive()).body;
}

/** Reads `body` to the end: the bytes, bytes that are wrong, and the largest window the receiving stream had meanwhile. */
async function readAll(body: ReadableStream<Uint8Array>, receiver: Session): Promise<{ bytes: number; wrong: number; largestWindow: number }> {
  let largestWindow = 0;
  const { bytes, wrong } = await readPositioned(body, () => {
    largestWindow = Math.max(largestWindow, receivingByteStream(receiver)?.window ?? 0);
  });
  return { bytes, wrong, largestWindow };
}


describe('byte-stream windows', () => {
  it('grow to a quarter of the session window while the reader waits for data; every byte arrives', async () => {
    const { sender, receiver, receivingLink } = pairOf();
    try {
      const { bytes, wrong, largestWindow } = await readAll(await sendBody(sender, receiver, 24 * MiB), receiver);
      expect(bytes).toBe(24 * MiB);
      expect(wrong).toBe(0);
      expect(largestWindow).toBe(4 * MiB);
      expect(receivingLink.types).toContain(FrameType.Window);
    } finally {
      sender.abort();
      receiver.abort();
    }
  });

  it('stay at the initial window for a reader that does not read: the sender stops after one window', async () => {
    const { sender, receiver, receivingLink } = pairOf();
    try {
      const body = await sendBody(sender, receiver, 8 * MiB);
      await until(() => (receivingByteStream(receiver)?.buffered ?? 0) >= MiB, 'one window buffered at the receiver');
      // Give the sender every chance to overrun: its credit is spent, and a message sent
      // after that on the same ordered link arrives after anything the sender wrote.
      await until(() => sender.snapshot().streams.some((s) => s.kind === 'bytes' && s.direction === 'send' && s.credit === 0), 'the sender out of credit');
      const marker = await sender.openSender<string>();
      const markerRx = await receiver.accept<string>();
      await marker.send('after the data');
      expect(await markerRx.receive()).toBe('after the data');
      const stream = receivingByteStream(receiver);
      expect(stream?.window).toBe(MiB);
      expect(stream?.buffered).toBe(MiB);
      expect(receivingLink.types).not.toContain(FrameType.Window);
      await body.cancel();
    } finally {
      sender.abort();
      receiver.abort();
    }
  });

  it('never grow toward a peer that does not announce WINDOW (a 1.0 peer); the transfer still completes', async () => {
    // The sending side announces no capabilities, so the receiving side must not send it WINDOW frames.
    const { sender, receiver, receivingLink } = pairOf(true);
    try {
      const { bytes, wrong, largestWindow } = await readAll(await sendBody(sender, receiver, 8 * MiB), receiver);
      expect(bytes).toBe(8 * MiB);
      expect(wrong).toBe(0);
      expect(largestWindow).toBe(MiB);
      expect(receivingLink.types).not.toContain(FrameType.Window);
      expect(receivingLink.types).toContain(FrameType.Credit);
    } finally {
      sender.abort();
      receiver.abort();
    }
  });

  it('channels keep their window however fast they are read', async () => {
    const { sender, receiver, receivingLink } = pairOf();
    try {
      const tx = await sender.openSender<Uint8Array>();
      const rx = await receiver.accept<Uint8Array>();
      const sending = (async () => {
        for (let i = 0; i < 64; i++) await tx.send(new Uint8Array(128 * 1024));
        await tx.close();
      })();
      let count = 0;
      for await (const value of rx) count += value.byteLength > 0 ? 1 : 0;
      await sending;
      expect(count).toBe(64);
      expect(receivingLink.types).not.toContain(FrameType.Window);
    } finally {
      sender.abort();
      receiver.abort();
    }
  });

  it('64 KiB chunks into small windows are cut to fit them (a piece never exceeds what the receiver lets a stream or the session owe)', async () => {
    for (const small of [
      { maxMessageBytes: 32 * 1024, initialWindowBytes: 16 * 1024, sessionWindowBytes: 32 * 1024 },
      { maxMessageBytes: 16 * 1024, initialWindowBytes: 16 * 1024 },
    ]) {
      const [la, lb] = memoryLinkPair();
      const sender = new Session(la, { keepAliveMs: 0, ...small });
      const receiver = new Session(lb, { keepAliveMs: 0, ...small });
      try {
        const { bytes, wrong } = await readAll(await sendBody(sender, receiver, MiB), receiver);
        expect(bytes).toBe(MiB);
        expect(wrong).toBe(0);
      } finally {
        sender.abort();
        receiver.abort();
      }
    }
  });
});
