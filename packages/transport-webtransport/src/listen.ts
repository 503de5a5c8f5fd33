// @ts-self-types="./listen.d.ts"

/**
 * `listenWebTransport` (Node only): a @fails-components `HttpServer` that
 * turns every WebTransport session on `path` into a libchan session.
 * WebTransport over HTTP/2 and over WebSocket (@fails-components' mapping,
 * what its browser ponyfill speaks) always; HTTP/3 as well when the optional
 * `@fails-components/webtransport-transport-http3-quiche` add-on is installed
 * and loads. Without a certificate it makes a self-signed ECDSA P-256 one
 * valid 10 days and returns its hash for `serverCertificateHashes`; clients
 * check certificates unless given that hash.
 */
import { randomBytes } from 'node:crypto';
import type { Socket } from 'node:net';
import { adoptSession, listenerDefaults, type Session, type SessionOptions } from '@libchan/core';
import { certificateHash, createCertificate } from './cert.js';
import { acceptWebTransport } from './connect.js';
import { FLOW_WINDOWS, loadFails, type FailsSession } from './fails.js';
import type { WebTransportLike, WebTransportLinkOptions } from './link.js';

/** Who is asking: what @fails-components knows about a session's request. */
export interface WebTransportRequestInfo {
  /** The request path. */
  path: string;
  /** Request headers (HTTP/2 pseudo-headers included), when the transport reports them. */
  header: Record<string, unknown>;
  /** "address:port" of the client, when known. */
  peerAddress: string | undefined;
}

export interface ListenWebTransportOptions extends SessionOptions, WebTransportLinkOptions {
  /** Port (0: any free port). Default 0. */
  port?: number;
  /** Default 127.0.0.1. */
  host?: string;
  /** The path sessions are served on (exact match). Default '/'. */
  path?: string;
  /** Certificate chain (PEM). Default: a fresh self-signed ECDSA P-256 certificate, valid 10 days. */
  cert?: string;
  /** Private key (PEM) of `cert`. */
  key?: string;
  /** Offer HTTP/3 (needs the quiche add-on): 'auto' (default) when it loads; false never; true requires it. */
  http3?: boolean | 'auto';
  /** Sees the client's handshake `hello` (e.g. a token); false refuses the session. */
  onHello?: (hello: unknown, request: WebTransportRequestInfo) => boolean | Promise<boolean>;
  /** How long `close()` lets open channels finish before aborting sessions. Default `listenerDefaults.closeTimeoutMs` (5 s). */
  closeTimeoutMs?: number;
}

export interface WebTransportListener extends AsyncDisposable {
  port: number;
  /** https://host:port/path — what `connectWebTransport` takes. */
  url: string;
  /** SHA-256 of the certificate, for `serverCertificateHashes`. */
  certificateHash: { algorithm: 'sha-256'; value: Uint8Array };
  /** The certificate in use (PEM). */
  cert: string;
  /** Whether HTTP/3 is offered (the quiche add-on loaded). */
  http3: boolean;
  /** Sessions currently open. */
  readonly sessions: ReadonlySet<Session>;
  /** Stops accepting, closes every session gracefully (aborting after `closeTimeoutMs`), then the server. */
  close(): Promise<void>;
}

function bounded(promise: Promise<unknown>, ms: number): Promise<void> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  return Promise.race([promise.then(() => {}, () => {}), new Promise<void>((resolve) => (timer = setTimeout(resolve, ms)))]).finally(() => clearTimeout(timer));
}

export async function listenWebTransport(
  options: ListenWebTransportOptions,
  onSession: (session: Session, request: WebTransportRequestInfo) => void,
): Promise<WebTransportListener> {
  const {
    port = 0,
    host = '127.0.0.1',
    path = '/',
    cert: givenCert,
    key: givenKey,
    http3: wantHttp3 = 'auto',
    onHello,
    closeTimeoutMs = listenerDefaults.closeTimeoutMs,
    maxLaneStreams,
    lingerMs,
    maxWriteBytes,
    ...sessionOptions
  } = options;
  if ((givenCert === undefined) !== (givenKey === undefined)) throw new TypeError('listenWebTransport: give both cert and key, or neither');
  const { mod, http3: quiche } = await loadFails();
  if (wantHttp3 === true && !quiche) {
    throw new Error('listenWebTransport({ http3: true }): @fails-components/webtransport-transport-http3-quiche is not installed or did not load');
  }
  const http3 = quiche && wantHttp3 !== false;
  let cert: string;
  let key: string;
  let hash: { algorithm: 'sha-256'; value: Uint8Array };
  if (givenCert !== undefined && givenKey !== undefined) {
    cert = givenCert;
    key = givenKey;
    hash = await certificateHash(cert);
  } else {
    const made = await createCertificate();
    cert = made.cert;
    key = made.key;
    hash = made.hash;
  }

  const server = new mod.HttpServer({
    port,
    host,
    secret: randomBytes(32).toString('hex'),
    cert,
    privKey: key,
    reliability: http3 ? 'both' : 'reliableOnly',
    defaultDatagramsReadableMode: 'bytes',
    ...FLOW_WINDOWS,
  });
  const sessionStream = server.sessionStream(path);
  server.startServer();
  try {
    await server.ready;
  } catch (error) {
    try {
      server.stopServer();
    } catch {
      // not started
    }
    throw error;
  }
  // The node:http2 server underneath (internal, best effort): its sockets are destroyed on close.
  const sockets = new Set<Socket>();
  const raw = server.transportInt?.serverInt ?? (server.transportInt as unknown as { transportsInts?: Set<{ serverInt?: unknown }> })?.transportsInts;
  const http2 = (raw instanceof Set ? [...raw].map((t) => t.serverInt).find(Boolean) : raw) as import('node:events').EventEmitter | undefined;
  http2?.on?.('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });

  const sessions = new Set<Session>();
  let stopping = false;
  const reader = sessionStream.getReader();
  void (async () => {
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) return;
        void serve(value);
      }
    } catch {
      // the server stopped
    }
  })();

  async function serve(wt: FailsSession): Promise<void> {
    wt.closed.catch(() => {});
    try {
      await wt.ready;
    } catch {
      return;
    }
    const transport = wt as unknown as WebTransportLike;
    if (stopping) {
      try {
        transport.close({ closeCode: 0, reason: 'server closing' });
      } catch {
        // gone
      }
      return;
    }
    const header = (wt.header ?? {}) as Record<string, unknown>;
    const info: WebTransportRequestInfo = { path: String(header[':path'] ?? path), header, peerAddress: wt.peerAddress };
    const session = acceptWebTransport(transport, {
      ...sessionOptions,
      maxLaneStreams,
      lingerMs,
      maxWriteBytes,
      ...(onHello ? { verifyHello: (hello: unknown) => onHello(hello, info) } : {}),
    });
    adoptSession(session, sessions, onSession, info);
  }

  const address = server.address();
  const boundPort = address?.port ?? port;
  const urlHost = address?.family === 'IPv6' ? `[${address.host}]` : (address?.host ?? host);
  const url = `https://${urlHost}:${boundPort}${path}`;

  let closing: Promise<void> | undefined;
  const close = (): Promise<void> =>
    (closing ??= (async () => {
      stopping = true;
      await Promise.allSettled([...sessions].map((s) => s.close({ signal: AbortSignal.timeout(closeTimeoutMs) })));
      reader.cancel().catch(() => {});
      try {
        server.stopServer();
      } catch {
        // already stopped
      }
      for (const socket of sockets) socket.destroy();
      await bounded(server.closed, 2000);
    })());

  return {
    port: boundPort,
    url,
    certificateHash: hash,
    cert,
    http3,
    sessions,
    close,
    [Symbol.asyncDispose]: close,
  };
}
