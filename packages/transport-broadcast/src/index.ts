// @ts-self-types="./index.d.ts"

/**
 * `@libchan/transport-broadcast`: sessions between tabs, workers and
 * threads of one origin over BroadcastChannel, with no server.
 * BroadcastChannel is not a security boundary: every same-origin context can
 * read these frames.
 */
export { connectBroadcast, listBroadcastListeners, type ConnectBroadcastOptions } from './connect.js';
export { BROADCAST_KEEPALIVE_MS, type BroadcastOptions } from './endpoint.js';
export type { BroadcastChannelConstructor, BroadcastChannelLike } from './envelope.js';
export { listenBroadcast, type BroadcastListener, type ListenBroadcastOptions } from './listen.js';
