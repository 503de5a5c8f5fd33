// @ts-self-types="./index.d.ts"

/** `@libchan/transport-ws` for browsers, Deno, Bun and Workers (no Node-only code). */
export { acceptWebSocket, connectWebSocket, type AcceptWebSocketOptions, type ConnectWebSocketOptions, type WebSocketConstructor } from './connect.js';
export { CloseCode, WebSocketCloseError, WebSocketLink, type WebSocketLike } from './link.js';
