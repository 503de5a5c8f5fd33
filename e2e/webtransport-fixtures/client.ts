// The page side of the WebTransport browser tests (shared part): the entries
// client-native.ts and client-ponyfill.ts call `install()`, build.mjs bundles them (vite)
// into test-results/e2e-webtransport-build/. It puts the libraries on `window.libchanwt`,
// so specs drive them with `page.evaluate`.
import * as core from '@libchan/core';
import { connectWebTransport, WebTransportCloseError } from '@libchan/transport-webtransport';
import { patternBytes, sha256Hex } from './serve.mjs';

/** `promise`, or a rejection naming `label` after `ms` (so a hang fails fast and clearly). */
function within<T>(ms: number, promise: Promise<T>, label = 'operation'): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${label} did not settle within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

type ErrorInfo = { name: string; message: string; code?: unknown; cause?: ErrorInfo };

/** A plain description of an error (what crosses `page.evaluate`). */
function describeError(error: unknown): ErrorInfo {
  if (error instanceof Error) {
    const out: ErrorInfo = { name: error.name, message: error.message };
    if ('code' in error) out.code = (error as { code: unknown }).code;
    if (error.cause !== undefined) out.cause = describeError(error.cause);
    return out;
  }
  return { name: typeof error, message: String(error) };
}

/** Settles `promise` into { ok, value } | { ok: false, error } without throwing. */
async function settle<T>(promise: Promise<T>): Promise<{ ok: true; value: T } | { ok: false; error: ErrorInfo }> {
  try {
    return { ok: true, value: await promise };
  } catch (error) {
    return { ok: false, error: describeError(error) };
  }
}

/** Counts the native streams the page opens (wraps a WebTransport constructor). */
function countingWebTransport(Base: new (url: string, options?: Record<string, unknown>) => unknown) {
  const counts = { uni: 0, bidi: 0 };
  class Counting extends (Base as new (url: string, options?: Record<string, unknown>) => {
    createUnidirectionalStream(): Promise<unknown>;
    createBidirectionalStream(): Promise<unknown>;
  }) {
    override createUnidirectionalStream() {
      counts.uni++;
      return super.createUnidirectionalStream();
    }
    override createBidirectionalStream() {
      counts.bidi++;
      return super.createBidirectionalStream();
    }
  }
  return { WebTransport: Counting as unknown as typeof WebTransport, counts };
}

type AnyWebTransport = new (url: string, options?: Record<string, unknown>) => unknown;

function makeApi(ponyfill: AnyWebTransport | undefined) {
  return {
    ...core,
    core,
    connectWebTransport,
    WebTransportCloseError,
    /** @fails-components' WebTransportPonyfill on the ponyfill page, else undefined. */
    WebTransportPonyfill: ponyfill as unknown as typeof WebTransport,
    nativeWebTransport: typeof (globalThis as { WebTransport?: unknown }).WebTransport === 'function',
    countingWebTransport,
    within,
    settle,
    describeError,
    patternBytes,
    sha256Hex,
  };
}

declare global {
  interface Window {
    libchanwt: ReturnType<typeof makeApi>;
  }
}

export function install(ponyfill?: AnyWebTransport): void {
  window.libchanwt = makeApi(ponyfill);
  document.documentElement.dataset.libchanwt = 'ready';
}
