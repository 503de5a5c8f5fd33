// @ts-self-types="./listen.d.ts"

/**
 * `listenWebSocket` (Node only): a `ws` server, standalone or attached to an
 * existing `http.Server`, that turns every accepted socket into a session.
 * Secure by default: browsers from another origin are refused unless
 * `origins` or `verifyClient` allow them; `onHello` can refuse a client by
 * its handshake `hello` (so `connectWebSocket` rejects and `onSession` never
 * runs).
 */
import { createServer, type IncomingMessage, type Server as HttpServer } from 'node:http';
import type { Server as HttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { Session, SessionOptions } from '@libchan/core';
import { adoptSession, listenerDefaults, MAX_STREAM_FRAME } from '@libchan/core';
import { WebSocketServer, type WebSocket } from 'ws';
import { acceptWebSocket } from './connect.js';
import type { WebSocketLike } from './link.js';

export interface VerifyClientInfo {
  /** The `Origin` header ('' when absent, as from non-browser clients). */
  origin: string;
  secure: boolean;
  req: IncomingMessage;
}

export interface ListenWebSocketOptions extends SessionOptions {
  /** Port to listen on (0: any free port). Ignored with `server`. */
  port?: number;
  /** Default 127.0.0.1. */
  host?: string;
  /** Attach to this server instead of listening on a port of its own. */
  server?: HttpServer | HttpsServer;
  /** Only upgrade requests for this path (default: any). */
  path?: string;
  /**
   * Origins browsers may connect from, e.g. ['https://app.example']; '*' for any.
   * Default: only the server's own origin (and clients that send no Origin).
   */
  origins?: readonly string[] | '*';
  /** Decides on every upgrade (replaces the `origins` check). */
  verifyClient?: (info: VerifyClientInfo) => boolean | Promise<boolean>;
  /** Sees the client's handshake `hello` (e.g. a token); false refuses the session. */
  onHello?: (hello: unknown, request: IncomingMessage) => boolean | Promise<boolean>;
  /** How long `close()` lets open channels finish before aborting sessions. Default `listenerDefaults.closeTimeoutMs` (5 s). */
  closeTimeoutMs?: number;
}

export interface WebSocketListener extends AsyncDisposable {
  port: number;
  url: string;
  /** Sessions currently open. */
  readonly sessions: ReadonlySet<Session>;
  /** Stops accepting, closes every session gracefully (aborting after `closeTimeoutMs`), then the server if it owns it. */
  close(): Promise<void>;
}

/** Largest WebSocket message: a batch of frames or a HELLO (data is split into frames of at most 64 KiB). */
const MAX_PAYLOAD = MAX_STREAM_FRAME + 64 * 1024;

function sameOrigin(origin: string, req: IncomingMessage): boolean {
  try {
    return new URL(origin).host === req.headers.host;
  } catch {
    return false;
  }
}

export async function listenWebSocket(
  options: ListenWebSocketOptions,
  onSession: (session: Session, request: IncomingMessage) => void,
): Promise<WebSocketListener> {
  const { port = 0, host = '127.0.0.1', server: given, path, origins, verifyClient, onHello, closeTimeoutMs = listenerDefaults.closeTimeoutMs, ...sessionOptions } = options;
  const httpServer = given ?? createServer((_req, res) => {
    res.writeHead(426, { 'content-type': 'text/plain' });
    res.end('libchan: WebSocket upgrade required\n');
  });
  const sessions = new Set<Session>();

  const allowed = async (info: VerifyClientInfo): Promise<boolean> => {
    if (verifyClient) return verifyClient(info);
    if (origins === '*' || info.origin === '') return true;
    if (origins) return origins.includes(info.origin);
    return sameOrigin(info.origin, info.req);
  };

  const wss = new WebSocketServer({
    server: httpServer,
    ...(path === undefined ? {} : { path }),
    maxPayload: MAX_PAYLOAD,
    perMessageDeflate: false,
    verifyClient: (info: { origin: string; secure: boolean; req: IncomingMessage }, callback: (ok: boolean, code?: number, message?: string) => void) => {
      allowed({ origin: info.origin ?? '', secure: info.secure, req: info.req }).then(
        (ok) => callback(ok, ok ? undefined : 403, ok ? undefined : 'origin not allowed'),
        () => callback(false, 500, 'verifyClient failed'),
      );
    },
  });

  wss.on('connection', (socket: WebSocket, request: IncomingMessage) => {
    const session = acceptWebSocket(socket as unknown as WebSocketLike, {
      ...sessionOptions,
      ...(onHello ? { verifyHello: (hello: unknown) => onHello(hello, request) } : {}),
    });
    adoptSession(session, sessions, onSession, request);
  });

  if (!given) {
    await new Promise<void>((resolve, reject) => {
      httpServer.once('error', reject);
      httpServer.listen(port, host, () => {
        httpServer.off('error', reject);
        resolve();
      });
    });
  }
  const address = httpServer.address() as AddressInfo | null;
  const boundPort = address?.port ?? port;
  const urlHost = address && address.family === 'IPv6' ? `[${address.address}]` : (address?.address ?? host);
  const secure = 'setSecureContext' in httpServer;
  const url = `${secure ? 'wss' : 'ws'}://${urlHost}:${boundPort}${path ?? '/'}`;

  let closing: Promise<void> | undefined;
  const close = (): Promise<void> =>
    (closing ??= (async () => {
      // ws reports the server closed only once its connections are gone, so: stop accepting,
      // wind the sessions down, drop what is left, then wait.
      const wssClosed = new Promise<void>((resolve) => wss.close(() => resolve()));
      await Promise.allSettled(
        [...sessions].map((s) => s.close({ signal: AbortSignal.timeout(closeTimeoutMs) })),
      );
      for (const client of wss.clients) client.terminate();
      await wssClosed;
      if (!given) {
        await new Promise<void>((resolve) => {
          httpServer.close(() => resolve());
          (httpServer as HttpServer).closeAllConnections?.();
        });
      }
    })());

  return {
    port: boundPort,
    url,
    sessions,
    close,
    [Symbol.asyncDispose]: close,
  };
}
