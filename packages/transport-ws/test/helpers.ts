/**
 * Helpers for the transport-ws tests.
 *
 * The tests run the transport's TypeScript source against core's source, the
 * same module instances the shared scenario suite (core/test/session) uses,
 * so error classes and channel ends are one set. Every test file therefore
 * starts with
 *
 *   vi.mock('@libchan/core', () => import('../../core/src/index.js'));
 *
 * (vitest hoists it; without it the transport would load core's dist build,
 * a second copy whose classes fail `instanceof` against the source ones).
 * The wrappers below only re-type the transport's functions with the source
 * `Session` type.
 */
import type { IncomingMessage } from 'node:http';
import { setImmediate as immediate } from 'node:timers/promises';
import WebSocket from 'ws';
import { pipe, type Receiver, type Sender, type Session, type SessionOptions } from '../../core/src/index.js';
import {
  connectWebSocket as rawConnect,
  listenWebSocket as rawListen,
  type ConnectWebSocketOptions,
  type ListenWebSocketOptions,
  type WebSocketConstructor,
  type WebSocketListener,
} from '../src/node.js';

export type Listener = Omit<WebSocketListener, 'sessions'> & { readonly sessions: ReadonlySet<Session> };

export function listen(options: ListenWebSocketOptions, onSession: (session: Session, request: IncomingMessage) => void = () => {}): Promise<Listener> {
  return rawListen(options, onSession as never) as unknown as Promise<Listener>;
}

export function connect(url: string | URL, options?: ConnectWebSocketOptions): Promise<Session> {
  return rawConnect(url, options) as unknown as Promise<Session>;
}

/** `ws` as a WHATWG-shaped constructor for `connectWebSocket({ WebSocket })`. */
export const WsConstructor = WebSocket as unknown as WebSocketConstructor;

/**
 * A `ws` subclass that records every `send` (the outgoing WebSocket messages)
 * and every incoming message, so tests can count messages on the wire.
 */
export function countingWebSocket(): {
  ctor: WebSocketConstructor;
  sent: Uint8Array[];
  received: unknown[];
  sockets: WebSocket[];
} {
  const sent: Uint8Array[] = [];
  const received: unknown[] = [];
  const sockets: WebSocket[] = [];
  class Counting extends WebSocket {
    constructor(url: string, protocols?: string | string[]) {
      super(url, protocols);
      sockets.push(this);
      this.on('message', (data) => received.push(data));
    }
    override send(data: unknown, ...rest: unknown[]): void {
      sent.push(data as Uint8Array);
      (super.send as (...args: unknown[]) => void)(data, ...rest);
    }
  }
  return { ctor: Counting as unknown as WebSocketConstructor, sent, received, sockets };
}

/** Lets `n` macrotasks pass. */
export async function turns(n = 3): Promise<void> {
  for (let i = 0; i < n; i++) await immediate();
}

/** Resolves with `promise`, or rejects naming `what` after `ms` (so a hang fails fast and says where). */
export function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms: ${what}`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** How a raw `ws` client's connection ended. */
export interface RawClose {
  code: number;
  reason: string;
}

/** Opens a raw `ws` client and waits for `open`. */
export async function rawClient(url: string, options?: WebSocket.ClientOptions): Promise<{ socket: WebSocket; closed: Promise<RawClose>; messages: (Buffer | string)[] }> {
  const socket = new WebSocket(url, options);
  const messages: (Buffer | string)[] = [];
  socket.on('message', (data, isBinary) => messages.push(isBinary ? (data as Buffer) : String(data)));
  const closed = new Promise<RawClose>((resolve) => socket.on('close', (code, reason) => resolve({ code, reason: String(reason) })));
  socket.on('error', () => {}); // 'close' follows with the code
  await new Promise<void>((resolve, reject) => {
    socket.once('open', () => resolve());
    socket.once('unexpected-response', (_req, res) => reject(new Error(`HTTP ${res.statusCode}`)));
    socket.once('error', reject);
  });
  return { socket, closed, messages };
}

/** A raw upgrade attempt: resolves 'open' or the HTTP status of a refused upgrade. */
export function tryUpgrade(url: string, options?: WebSocket.ClientOptions): Promise<{ opened: true } | { opened: false; status: number | undefined; error?: string }> {
  return new Promise((resolve) => {
    const socket = new WebSocket(url, options);
    socket.once('open', () => {
      socket.terminate();
      resolve({ opened: true });
    });
    socket.once('unexpected-response', (_req, res) => {
      resolve({ opened: false, status: res.statusCode });
      res.resume();
      socket.terminate();
    });
    socket.once('error', (error) => resolve({ opened: false, status: undefined, error: String(error) }));
  });
}

export type { Session, SessionOptions };

// ---- a tiny request/reply service (libchan's Ret pattern) ----

export interface Request {
  n: number;
  ret: Sender<Reply>;
}
export interface Reply {
  n: number;
  doubled: number;
  hello: unknown;
}

/**
 * Serves every top-level channel the peer opens: each request gets one reply
 * on its `ret` channel, which is then closed. Errors end the loop quietly
 * (tests check the client side).
 */
export function serveRet(session: Session): void {
  void (async () => {
    for await (const rx of session.incoming<Request>()) {
      void (async () => {
        for await (const req of rx as Receiver<Request>) {
          await req.ret.send({ n: req.n, doubled: req.n * 2, hello: session.peer.hello });
          await req.ret.close();
        }
      })().catch(() => {});
    }
  })().catch(() => {});
}

/** One Ret round trip on `requests` (a fresh reply pipe each time); checks the reply. */
export async function roundTrip(requests: Sender<Request>, n: number): Promise<Reply> {
  const [replies, ret] = pipe<Reply>();
  await requests.send({ n, ret });
  const reply = await replies.receive();
  if (reply.n !== n || reply.doubled !== 2 * n) throw new Error(`wrong reply for ${n}: ${JSON.stringify(reply)}`);
  return reply;
}
