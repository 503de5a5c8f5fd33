// @ts-self-types="./index.d.ts"

export * from './channel/index.js';
export {
  ChannelClosedError,
  LimitExceededError,
  ProtocolError,
  SessionClosedError,
  type ChannelClosedCode,
  type ProtocolErrorCode,
} from './errors.js';
export { defaults as sessionDefaults, LINK_HIGH_WATER_BYTES, LINK_LOW_WATER_BYTES, listenerDefaults, resolveOptions as validateSessionOptions, type SessionOptions } from './config.js';
export { Session, type AcceptOptions, type CloseOptions, type PeerInfo } from './session/session.js';
export type { FrameLink, LinkSink } from './session/link.js';
export type { SessionSnapshot, StreamSnapshot } from './session/host.js';
export { sessionPair, memoryLinkPair } from './link/memory.js';
export { connectPort, type DomPortLike, type MessagePortLike, type NodePortLike } from './link/port.js';
export { connectStream, FrameSplitter, joinFrames, MAX_STREAM_FRAME, splitBatch, type ByteStreamPair } from './link/stream.js';
export { afterTick, microtask } from './schedule.js';
export { batchBuffer, FrameBatch, frameLength, isReusedBatch, releaseBatch, type BatchedFrame, type SplitFrame } from './link/batch.js';
export { adoptSession } from './link/adopt.js';
export { allocBytes, encodeVarint, ownsBuffer, reasonText } from './codec/bytes.js';
