export * from './channel/index.js';
export {
  ChannelClosedError,
  LimitExceededError,
  ProtocolError,
  SessionClosedError,
  type ChannelClosedCode,
  type ProtocolErrorCode,
} from './errors.js';
