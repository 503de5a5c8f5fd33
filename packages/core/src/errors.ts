// @ts-self-types="./errors.d.ts"

/**
 * The error classes of libchan. Each has a stable `name` and a string `code`
 * (a class-wide default, or a more specific one such as `TRANSFERRED`), so
 * code can branch on data rather than on message text. They cross the wire
 * with name, message, code and a depth-limited cause, never the stack.
 */

/** Codes used by {@link ChannelClosedError}. */
export type ChannelClosedCode =
  | 'CLOSED' // the sender ended the channel cleanly (libchan's EOF)
  | 'RECEIVER_CLOSED' // the receiver stopped receiving
  | 'ABORTED' // reset without a reason of its own
  | 'TRANSFERRED' // this end was sent away over a session
  | 'UNCLAIMED' // the value carrying this channel was dropped undelivered
  | 'REFUSED' // the peer's session refused the channel (GOAWAY); safe to retry
  | 'GONE'; // the channel object was garbage-collected on the other side

/** Codes used by {@link ProtocolError}. */
export type ProtocolErrorCode =
  | 'PROTOCOL_ERROR'
  | 'BAD_FRAME'
  | 'BAD_MESSAGE'
  | 'BAD_HANDSHAKE'
  | 'VERSION_MISMATCH'
  | 'FLOW_CONTROL'
  | 'UNKNOWN_STREAM'
  | 'SCHEMA'
  | 'HANDSHAKE_TIMEOUT'
  | 'KEEPALIVE_TIMEOUT'
  | 'REFUSED_BY_PEER';

export interface LibchanErrorOptions {
  cause?: unknown;
}

abstract class LibchanError extends Error {
  abstract override readonly name: string;
  readonly code: string;
  constructor(message: string, code: string, options?: LibchanErrorOptions) {
    super(message, options && 'cause' in options ? { cause: options.cause } : undefined);
    this.code = code;
  }
}

/** The channel has ended: cleanly (EOF), by the receiver, or because it was transferred. */
export class ChannelClosedError extends LibchanError {
  override readonly name = 'ChannelClosedError';
  declare readonly code: ChannelClosedCode | (string & {});
  constructor(message = 'channel closed', options?: LibchanErrorOptions & { code?: ChannelClosedCode | (string & {}) }) {
    super(message, options?.code ?? 'CLOSED', options);
  }
}

/** The session under a channel has ended; `cause` holds the underlying error. */
export class SessionClosedError extends LibchanError {
  override readonly name = 'SessionClosedError';
  constructor(message = 'session closed', options?: LibchanErrorOptions & { code?: string }) {
    super(message, options?.code ?? 'SESSION_CLOSED', options);
  }
}

/** The peer broke the protocol (malformed frame, unknown reference, failed schema …). */
export class ProtocolError extends LibchanError {
  override readonly name = 'ProtocolError';
  declare readonly code: ProtocolErrorCode | (string & {});
  constructor(message: string, options?: LibchanErrorOptions & { code?: ProtocolErrorCode | (string & {}) }) {
    super(message, options?.code ?? 'PROTOCOL_ERROR', options);
  }
}

/** A configured or peer-announced limit would be broken; nothing was sent. */
export class LimitExceededError extends LibchanError {
  override readonly name = 'LimitExceededError';
  /** Which limit, e.g. `maxMessageBytes`. */
  readonly limit: string | undefined;
  constructor(message: string, options?: LibchanErrorOptions & { code?: string; limit?: string }) {
    super(message, options?.code ?? 'LIMIT_EXCEEDED', options);
    this.limit = options?.limit;
  }
}

/** Error classes that the codec rebuilds by name when they arrive from a peer. */
export const knownErrorClasses = {
  ChannelClosedError,
  SessionClosedError,
  ProtocolError,
  LimitExceededError,
} as const;

export function transferredError(): ChannelClosedError {
  return new ChannelClosedError('this end of the channel was transferred to a session', { code: 'TRANSFERRED' });
}

export function unclaimedError(): ChannelClosedError {
  return new ChannelClosedError('the message carrying this channel was dropped undelivered', { code: 'UNCLAIMED' });
}
