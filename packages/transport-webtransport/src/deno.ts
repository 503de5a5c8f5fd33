// @ts-self-types="./deno.d.ts"

/**
 * Deno's native HTTP/3 WebTransport (`Deno.QuicEndpoint` +
 * `Deno.upgradeWebTransport`, `--unstable-net`).
 *
 * Deno 2.9's `incomingUnidirectionalStreams` never delivers the streams a
 * browser opens: it reads the header of one incoming QUIC stream after
 * another, and Chromium's QPACK streams carry no bytes, so it waits on the
 * first of them forever. `upgradeDenoWebTransport` reads the QUIC
 * connection's unidirectional streams itself, each header on its own: a
 * WebTransport stream starts with the stream type 0x54 and the session id
 * (QUIC varints); other HTTP/3 streams are held open and ignored. Everything
 * else is Deno's own WebTransport object.
 */
import type { Session } from '@libchan/core';
import { acceptWebTransport, type AcceptWebTransportOptions } from './connect.js';
import type { WebTransportLike, WebTransportStreamPair } from './link.js';

/** The part of `Deno.QuicConn` used here. */
export interface DenoQuicConnLike {
  readonly incomingUnidirectionalStreams: ReadableStream<ReadableStream<Uint8Array>>;
}

interface DenoLike {
  upgradeWebTransport(conn: DenoQuicConnLike): Promise<WebTransportLike & { url: string }>;
}

const UNI_WEBTRANSPORT = 0x54;

/** Reads one QUIC varint (RFC 9000 §16) from the front of a stream; returns it and the bytes after it. */
async function readQuicVarint(reader: ReadableStreamDefaultReader<Uint8Array>, pending: Uint8Array): Promise<{ value: number; rest: Uint8Array } | undefined> {
  let buf = pending;
  for (;;) {
    if (buf.byteLength > 0) {
      const size = 1 << ((buf[0] as number) >> 6);
      if (buf.byteLength >= size) {
        let value = (buf[0] as number) & 0x3f;
        for (let i = 1; i < size; i++) value = value * 256 + (buf[i] as number);
        return { value, rest: buf.subarray(size) };
      }
    }
    const { done, value } = await reader.read();
    if (done) return undefined;
    const joined = new Uint8Array(buf.byteLength + value.byteLength);
    joined.set(buf, 0);
    joined.set(value, buf.byteLength);
    buf = joined;
  }
}

/** A ReadableStream of `reader`'s bytes, starting with `head`; cancelling it cancels the QUIC stream (STOP_SENDING). */
function restOf(reader: ReadableStreamDefaultReader<Uint8Array>, head: Uint8Array): ReadableStream<Uint8Array> {
  let first: Uint8Array | undefined = head.byteLength > 0 ? head : undefined;
  return new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        if (first) {
          controller.enqueue(first);
          first = undefined;
          return;
        }
        const { done, value } = await reader.read();
        if (done) controller.close();
        else controller.enqueue(value);
      },
      cancel: (reason) => reader.cancel(reason),
    },
    { highWaterMark: 0 },
  );
}

/**
 * WebTransport streams among a QUIC connection's incoming unidirectional
 * streams. Each QUIC stream's header is read on its own: Chromium opens its
 * QPACK streams without sending anything on them, so reading headers one
 * stream after another (as Deno's own wrapper does) blocks forever.
 */
function webTransportStreams(conn: DenoQuicConnLike): ReadableStream<ReadableStream<Uint8Array>> {
  let reader: ReadableStreamDefaultReader<ReadableStream<Uint8Array>> | undefined;
  /** Other HTTP/3 streams (QPACK, GREASE) and streams whose header is still coming: held so they stay open. */
  const held = new Set<ReadableStreamDefaultReader<Uint8Array>>();
  let cancelled = false;
  return new ReadableStream<ReadableStream<Uint8Array>>({
    start(controller) {
      reader = conn.incomingUnidirectionalStreams.getReader();
      const quic = reader;
      const sort = async (stream: ReadableStream<Uint8Array>): Promise<void> => {
        const streamReader = stream.getReader();
        held.add(streamReader);
        const type = await readQuicVarint(streamReader, new Uint8Array(0));
        if (type === undefined || type.value !== UNI_WEBTRANSPORT) return; // stays held (or ended)
        const session = await readQuicVarint(streamReader, type.rest);
        held.delete(streamReader);
        if (session === undefined || cancelled) {
          streamReader.cancel().catch(() => {});
          return;
        }
        controller.enqueue(restOf(streamReader, session.rest));
      };
      void (async () => {
        try {
          for (;;) {
            const { done, value } = await quic.read();
            if (done) break;
            sort(value).catch(() => {});
          }
          if (!cancelled) controller.close();
        } catch (error) {
          if (!cancelled) controller.error(error);
        }
      })();
    },
    cancel: async () => {
      cancelled = true;
      await reader?.cancel();
      for (const r of held) r.cancel().catch(() => {});
    },
  });
}

/**
 * Upgrades a Deno QUIC connection (from `Deno.QuicEndpoint#listen`) to a
 * WebTransport session with working incoming unidirectional streams.
 * `url` is the URL the client asked for (check its path before accepting).
 */
export async function upgradeDenoWebTransport(conn: DenoQuicConnLike): Promise<WebTransportLike & { url: string }> {
  const deno = (globalThis as { Deno?: DenoLike }).Deno;
  if (!deno?.upgradeWebTransport) throw new TypeError('Deno.upgradeWebTransport is missing (run Deno 2.2+ with --unstable-net)');
  const wt = await deno.upgradeWebTransport(conn);
  const incoming = webTransportStreams(conn);
  return {
    url: wt.url,
    get ready() {
      return wt.ready;
    },
    get closed() {
      return wt.closed;
    },
    close: (info) => wt.close(info),
    createBidirectionalStream: (): Promise<WebTransportStreamPair> => wt.createBidirectionalStream(),
    createUnidirectionalStream: () => wt.createUnidirectionalStream(),
    get incomingBidirectionalStreams() {
      return wt.incomingBidirectionalStreams;
    },
    incomingUnidirectionalStreams: incoming,
  };
}

/** `acceptWebTransport` over a Deno QUIC connection: upgrade, then a libchan session (await its `ready`). */
export async function acceptDenoWebTransport(conn: DenoQuicConnLike, options: AcceptWebTransportOptions = {}): Promise<{ session: Session; url: string }> {
  const transport = await upgradeDenoWebTransport(conn);
  return { session: acceptWebTransport(transport, options), url: transport.url };
}
