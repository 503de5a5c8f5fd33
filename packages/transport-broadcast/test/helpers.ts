/**
 * Helpers for the BroadcastChannel transport tests.
 *
 * Module identity: the shared scenario suite (packages/core/test/session)
 * imports `@libchan/core` from its *source*, while this package's source
 * imports the bare `@libchan/core`, which resolves to core's built `dist/`.
 * Channels are recognised with `instanceof`, so both must be the same module:
 * every test file here starts with
 *   vi.mock('@libchan/core', () => import('../../core/src/index.js'));
 * which is not a mock of behaviour, only a redirect to the real source.
 * The worker fixtures (test/fixtures/*.mjs) run the BUILT packages instead.
 */
import { randomUUID } from 'node:crypto';
import { Worker } from 'node:worker_threads';
import type { Session, SessionOptions } from '../../core/src/index.js';
import { connectBroadcast, listenBroadcast, type BroadcastListener, type ConnectBroadcastOptions, type ListenBroadcastOptions } from '../src/index.js';
import { until as pollUntil } from '../../core/test/session/helpers.js';

/** A fresh, unique BroadcastChannel name. */
export function channelName(label = 'test'): string {
  return `libchan-test-${label}-${randomUUID()}`;
}

/** `promise`, or a rejection naming `label` after `ms` (a hang fails fast and clearly). */
export function within<T>(ms: number, promise: Promise<T>, label = 'operation'): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${label} did not settle within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** Settles into { ok, value } | { ok: false, error } (never rejects). */
export async function settled<T>(promise: Promise<T>): Promise<{ ok: true; value: T } | { ok: false; error: unknown }> {
  try {
    return { ok: true, value: await promise };
  } catch (error) {
    return { ok: false, error };
  }
}

// The transport's source is typed against core's dist/ declarations, the tests against core's
// source: the same runtime class (see the header), two declarations of it.
export const asSession = (s: unknown): Session => s as Session;

export interface BroadcastPair {
  name: string;
  listener: BroadcastListener;
  /** The connector's session. */
  a: Session;
  /** The session the listener handed to onSession. */
  b: Session;
}

/**
 * One listener on a fresh name (options `optsB`), one connector (`optsA`): the connector's
 * session and the session the listener hands to `onSession`.
 */
export async function broadcastPair(
  optsA: ConnectBroadcastOptions | SessionOptions = {},
  optsB: ListenBroadcastOptions | SessionOptions = {},
  name = channelName('pair'),
): Promise<BroadcastPair> {
  let deliver!: (s: Session) => void;
  const handed = new Promise<Session>((resolve) => (deliver = resolve));
  const listener = listenBroadcast(name, (s) => deliver(asSession(s)), optsB as ListenBroadcastOptions);
  try {
    const a = asSession(await within(15_000, connectBroadcast(name, optsA as ConnectBroadcastOptions), 'connectBroadcast'));
    const b = await within(15_000, handed, 'onSession');
    return { name, listener, a, b };
  } catch (error) {
    await listener.close();
    throw error;
  }
}

/** The messages a plain BroadcastChannel on `name` sees (a passive observer, like any same-origin context). */
export function observe(name: string): { messages: unknown[]; channel: BroadcastChannel; close(): void } {
  const channel = new BroadcastChannel(name);
  const messages: unknown[] = [];
  const onMessage = (event: Event): void => {
    messages.push((event as MessageEvent).data);
  };
  channel.addEventListener('message', onMessage);
  return {
    messages,
    channel,
    close() {
      channel.removeEventListener('message', onMessage);
      channel.close();
    },
  };
}

export type WorkerRole = 'listen' | 'connect';

export interface ServerWorker {
  worker: Worker;
  /** The worker's listener id (role 'listen'). */
  id: string | undefined;
  /** Resolves once the worker exited. */
  exited: Promise<number>;
  terminate(): Promise<number>;
}

/**
 * Starts test/fixtures/broadcast-worker.mjs (the BUILT packages, run
 * `npx tsc -b packages/core packages/transport-broadcast` first). With role
 * 'listen' it listens on `name` and resolves once listening; with role
 * 'connect' it connects to `name` (listener in this thread) and serves that session.
 */
export async function startWorker(name: string, role: WorkerRole, options: Record<string, unknown> = {}): Promise<ServerWorker> {
  const worker = new Worker(new URL('./fixtures/broadcast-worker.mjs', import.meta.url), { workerData: { name, role, options } });
  const exited = new Promise<number>((resolve) => worker.once('exit', resolve));
  const id = await within(
    15_000,
    new Promise<string | undefined>((resolve, reject) => {
      worker.once('error', reject);
      worker.on('message', (m: { ready?: boolean; id?: string; error?: string }) => {
        if (m?.ready) resolve(m.id);
        if (m?.error) reject(new Error(`worker: ${m.error}`));
      });
    }),
    'the worker to start',
  );
  return { worker, id, exited, terminate: () => worker.terminate() };
}

/**
 * Collects uncaught exceptions and unhandled rejections while a test runs, so a throw inside a
 * BroadcastChannel `message` handler fails the test as a plain assertion (named, with its message)
 * instead of as a run-level "unhandled error". `restore()` puts vitest's own handlers back.
 */
export function trapUncaught(): { errors: unknown[]; restore(): void } {
  const events = ['uncaughtException', 'unhandledRejection'] as const;
  type Listener = (...args: unknown[]) => void;
  const emitter = process as NodeJS.EventEmitter;
  const saved = events.map((e) => [e, emitter.listeners(e) as Listener[]] as const);
  const errors: unknown[] = [];
  const collect = (error: unknown): void => {
    errors.push(error);
  };
  for (const e of events) {
    process.removeAllListeners(e);
    process.on(e, collect);
  }
  let restored = false;
  return {
    errors,
    restore() {
      if (restored) return;
      restored = true;
      for (const [e, listeners] of saved) {
        process.removeListener(e, collect);
        for (const l of listeners) emitter.on(e, l);
      }
    },
  };
}

/** Messages of the errors, for readable assertions. */
export const messagesOf = (errors: unknown[]): string[] => errors.map((e) => `${(e as Error)?.name}: ${(e as Error)?.message ?? String(e)}`);

/** Polls `check` until it is true; rejects naming `label` after `ms` (core's `until`, argument order kept). */
export function until(ms: number, check: () => boolean, label: string): Promise<void> {
  return pollUntil(check, label, { ms });
}
