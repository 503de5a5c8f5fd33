// @ts-self-types="./socket.d.ts"

/**
 * Sessions between processes on one host (libchan's unix transport): Unix
 * domain sockets and TCP, plus a child process's stdio. Node only.
 */
import { existsSync, unlinkSync } from 'node:fs';
import { connect as netConnect, createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import type { Readable, Writable } from 'node:stream';
import { listenerDefaults, type SessionOptions } from '../config.js';
import { adoptSession } from '../link/adopt.js';
import { Session } from '../session/session.js';
import { NodeStreamLink } from './stream-link.js';

export type SocketAddress = { path: string } | { port: number; host?: string };

export interface SocketListener extends AsyncDisposable {
  /** The socket path, or the bound TCP address. */
  address: string | AddressInfo;
  readonly sessions: ReadonlySet<Session>;
  /** Stops listening, closes every session gracefully (aborting after `closeTimeoutMs`), removes the socket file. */
  close(): Promise<void>;
}

export interface ListenSocketOptions extends SessionOptions {
  /** How long `close()` lets open channels finish. Default `listenerDefaults.closeTimeoutMs` (5 s). */
  closeTimeoutMs?: number;
}

function sessionOver(socket: Socket, options: SessionOptions | undefined): Session {
  socket.setNoDelay?.(true);
  return new Session(new NodeStreamLink(socket, socket), options);
}

function probe(path: string): Promise<boolean> {
  return new Promise((resolve) => {
    const s = netConnect({ path });
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

async function listenOn(server: Server, address: SocketAddress): Promise<void> {
  const attempt = (): Promise<void> =>
    new Promise((resolve, reject) => {
      server.once('error', reject);
      const done = (): void => {
        server.off('error', reject);
        resolve();
      };
      if ('path' in address) server.listen(address.path, done);
      else server.listen(address.port, address.host ?? '127.0.0.1', done);
    });
  try {
    await attempt();
  } catch (error) {
    if (!('path' in address) || (error as NodeJS.ErrnoException).code !== 'EADDRINUSE') throw error;
    // A socket file is there. Stale (nobody answers) → remove it; alive → refuse clearly.
    if (await probe(address.path)) {
      throw new Error(`another process is already listening on ${address.path}`, { cause: error });
    }
    unlinkSync(address.path);
    await attempt();
  }
}

/** Listens on a Unix socket path or a TCP port; every connection becomes a session. */
export async function listenSocket(
  address: SocketAddress,
  onSession: (session: Session) => void,
  options: ListenSocketOptions = {},
): Promise<SocketListener> {
  const { closeTimeoutMs = listenerDefaults.closeTimeoutMs, ...sessionOptions } = options;
  const sessions = new Set<Session>();
  const server = createServer((socket) => {
    adoptSession(sessionOver(socket, sessionOptions), sessions, onSession);
  });
  await listenOn(server, address);
  const bound = 'path' in address ? address.path : (server.address() as AddressInfo);
  let closing: Promise<void> | undefined;
  const close = (): Promise<void> =>
    (closing ??= (async () => {
      const stopped = new Promise<void>((resolve) => server.close(() => resolve()));
      await Promise.allSettled([...sessions].map((s) => s.close({ signal: AbortSignal.timeout(closeTimeoutMs) })));
      await stopped;
      if ('path' in address && existsSync(address.path)) {
        try {
          unlinkSync(address.path);
        } catch {
          // already gone
        }
      }
    })());
  return { address: bound, sessions, close, [Symbol.asyncDispose]: close };
}

/** Connects to a `listenSocket` server; resolves after the handshake. */
export async function connectSocket(address: SocketAddress, options?: SessionOptions): Promise<Session> {
  const socket = await new Promise<Socket>((resolve, reject) => {
    const s = 'path' in address ? netConnect({ path: address.path }) : netConnect({ port: address.port, host: address.host ?? '127.0.0.1' });
    s.once('connect', () => {
      s.off('error', reject);
      resolve(s);
    });
    s.once('error', reject);
  });
  const session = sessionOver(socket, options);
  await session.ready;
  return session;
}

/**
 * A session over a pair of Node streams: in a child process
 * `connectStdio(process.stdin, process.stdout)`, in the parent
 * `connectStdio(child.stdout, child.stdin)` (spawn with `stdio: 'pipe'`; keep
 * logging on stderr). Returns at once; await `ready`.
 */
export function connectStdio(input: Readable, output: Writable, options?: SessionOptions): Session {
  return new Session(new NodeStreamLink(input, output), options);
}
