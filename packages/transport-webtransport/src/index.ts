// @ts-self-types="./index.d.ts"

/** `@libchan/transport-webtransport` for browsers, Deno, Bun and Workers (no Node-only code). */
export {
  acceptWebTransport,
  connectWebTransport,
  globalWebTransport,
  type AcceptWebTransportOptions,
  type ConnectWebTransportOptions,
  type WebTransportConstructor,
  type WebTransportHash,
} from './connect.js';
export {
  WebTransportCloseError,
  WebTransportCode,
  WebTransportLink,
  type WebTransportLike,
  type WebTransportLinkOptions,
  type WebTransportStreamPair,
} from './link.js';
export { acceptDenoWebTransport, upgradeDenoWebTransport, type DenoQuicConnLike } from './deno.js';
export { certificateHash, createCertificate, type CreateCertificateOptions, type GeneratedCertificate } from './cert.js';
