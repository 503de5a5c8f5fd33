// @ts-self-types="./node.d.ts"

/** `@libchan/transport-ws` for Node: everything in the browser entry plus `listenWebSocket`. */
export * from './index.js';
export { listenWebSocket, type ListenWebSocketOptions, type VerifyClientInfo, type WebSocketListener } from './listen.js';
