// @ts-self-types="./node.d.ts"

/**
 * `@libchan/transport-webtransport` for Node: everything in the browser entry,
 * `connectWebTransport` falling back to @fails-components' Node client (HTTP/3
 * with the quiche add-on, else HTTP/2), and `listenWebTransport`.
 */
import type { Session } from '@libchan/core';
import { connectWith, type ConnectWebTransportOptions } from './connect.js';
import { nodeWebTransport } from './fails.js';

export * from './index.js';
export { listenWebTransport, type ListenWebTransportOptions, type WebTransportListener, type WebTransportRequestInfo } from './listen.js';
export { nodeWebTransport } from './fails.js';

/**
 * Connects to a libchan WebTransport endpoint; resolves after the session
 * handshake. Uses `options.WebTransport`, else a global `WebTransport`, else
 * @fails-components' Node client.
 */
export function connectWebTransport(url: string | URL, options: ConnectWebTransportOptions = {}): Promise<Session> {
  return connectWith(url, options, nodeWebTransport);
}
