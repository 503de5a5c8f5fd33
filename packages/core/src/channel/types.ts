// @ts-self-types="./types.d.ts"

/** Options accepted by every call that can wait. */
export interface WaitOptions {
  /** Aborting rejects the call with `signal.reason`; an aborted call took or delivered nothing. */
  signal?: AbortSignal | undefined;
}

/** The sending end of a one-way channel. */
export interface Sender<in T> extends AsyncDisposable {
  /**
   * In memory: resolves once the value is buffered or, with capacity 0, taken by a receive.
   * Across a session: once the value is committed within the stream's byte window.
   */
  send(value: T, options?: WaitOptions): Promise<void>;
  /** Lets pending sends finish, then sends the end. */
  close(): Promise<void>;
  /** Resets the channel: undelivered values are discarded, the receiver's calls reject with `reason`. */
  abort(reason?: unknown): void;
  /** Resolves on a clean end, rejects on a reset. Never raises an unhandled rejection. */
  readonly closed: Promise<void>;
}

/** The receiving end of a one-way channel. */
export interface Receiver<out T> extends AsyncIterable<T>, AsyncDisposable {
  /** The next value; rejects with `ChannelClosedError` at a clean end, or with the reset reason. */
  receive(options?: WaitOptions): Promise<T>;
  /** Stops receiving: the sender's pending and later sends reject with `ChannelClosedError` (cause: `reason`). */
  close(reason?: unknown): void;
  /** Resolves on a clean end (once drained) or a local close, rejects on a reset. Always handled. */
  readonly closed: Promise<void>;
  [Symbol.asyncIterator](): AsyncIterator<T, undefined, undefined>;
}

export interface PipeOptions {
  /** Values that may wait in the buffer; 0 (the default) makes every send a rendezvous. */
  capacity?: number;
}
