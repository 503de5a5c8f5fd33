// @ts-self-types="./fails.d.ts"

/**
 * Loading @fails-components/webtransport (Node). Its HTTP/3 part,
 * `@fails-components/webtransport-transport-http3-quiche`, is an optional
 * native add-on: when it is installed and loads, HTTP/3 is offered; without
 * it, WebTransport runs over HTTP/2 and over WebSocket (the library's own
 * mapping, used by its browser ponyfill). The library logs a stack trace when
 * the add-on is missing; that expected message is filtered while it loads.
 */
import type { WebTransportConstructor } from './connect.js';

/** The parts of @fails-components/webtransport used here (it ships no usable types for NodeNext). */
export interface FailsModule {
  HttpServer: new (init: Record<string, unknown>) => FailsHttpServer;
  WebTransport: WebTransportConstructor;
  quicheLoaded: Promise<unknown>;
}

export interface FailsHttpServer {
  ready: Promise<void>;
  closed: Promise<void>;
  startServer(): void;
  stopServer(): void;
  address(): { port: number; host: string; family: string } | null;
  sessionStream(path: string): ReadableStream<FailsSession>;
  /** Internal: the transport (its `serverInt` is the node:http2 server). */
  transportInt?: { serverInt?: import('node:events').EventEmitter & { close(): void } };
}

export interface FailsSession {
  ready: Promise<unknown>;
  closed: Promise<unknown>;
  header?: Record<string, unknown>;
  peerAddress?: string;
}

/**
 * Flow-control windows of @fails-components' HTTP/2 mapping, for its servers and clients.
 * It announces `initialSessionFlowControlWindow` (default 16 KiB) but grants
 * `sessionFlowControlWindowSizeLimit` (15 MiB) and sends no WT_MAX_DATA before half of
 * that is used: a peer that believes the announcement stalls after 16 KiB. Announcing
 * what is granted avoids it.
 */
export const FLOW_WINDOWS = {
  initialSessionFlowControlWindow: 15 * 1024 * 1024,
  sessionFlowControlWindowSizeLimit: 15 * 1024 * 1024,
  initialStreamFlowControlWindow: 256 * 1024,
} as const;

let loading: Promise<{ mod: FailsModule; http3: boolean }> | undefined;

const QUICHE_NOISE = /http3 loader|http3-quiche/;

/** Imports @fails-components/webtransport once; `http3` says whether the quiche add-on loaded. */
export function loadFails(): Promise<{ mod: FailsModule; http3: boolean }> {
  return (loading ??= (async () => {
    let http3 = true;
    try {
      // Probe the add-on ourselves first: the library's own attempt logs loudly.
      // @ts-ignore optional dependency, usually absent
      await import('@fails-components/webtransport-transport-http3-quiche');
    } catch {
      http3 = false;
    }
    const { log, error } = console;
    const quiet =
      (write: (...args: unknown[]) => void) =>
      (...args: unknown[]): void => {
        if (!http3 && args.some((a) => QUICHE_NOISE.test(String(a)))) return;
        write(...args);
      };
    if (!http3) {
      console.log = quiet(log);
      console.error = quiet(error);
    }
    try {
      const mod = (await import('@fails-components/webtransport')) as unknown as FailsModule;
      await mod.quicheLoaded;
      // The server module's own loader settles in the same turns; give it a few.
      for (let i = 0; i < 5; i++) await new Promise((resolve) => setImmediate(resolve));
      return { mod, http3 };
    } finally {
      if (console.log !== log && !http3) console.log = log;
      if (console.error !== error && !http3) console.error = error;
    }
  })());
}

/**
 * @fails-components' Node `WebTransport` as a constructor for
 * `connectWebTransport`: HTTP/3 when the quiche add-on loaded, otherwise
 * straight to HTTP/2 (`forceReliable`).
 */
export async function nodeWebTransport(): Promise<WebTransportConstructor> {
  const { mod, http3 } = await loadFails();
  const Base = mod.WebTransport as unknown as new (url: string, options?: Record<string, unknown>) => object;
  return class NodeWebTransport extends Base {
    constructor(url: string, options: Record<string, unknown> = {}) {
      // Without the add-on, straight to HTTP/2; windows as announced (FLOW_WINDOWS).
      super(url, { ...(http3 ? {} : { forceReliable: true }), ...FLOW_WINDOWS, ...options });
    }
  } as unknown as WebTransportConstructor;
}
