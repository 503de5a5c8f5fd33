// @ts-self-types="./index.d.ts"

/** `@libchan/core/node`: Node-only helpers (Unix/TCP sockets, stdio). Browser bundles never import this entry. */
export { connectSocket, connectStdio, listenSocket, type ListenSocketOptions, type SocketAddress, type SocketListener } from './socket.js';
export { NodeStreamLink } from './stream-link.js';
