/**
 * The smallest interface a transport provides to a session: an ordered,
 * reliable carrier of whole frames. The session multiplexes every channel
 * over it. Transports (WebSocket, MessagePort, BroadcastChannel, byte
 * streams, the in-memory pair) implement it; the session imports none of them.
 */

/** What a link reports to its session. */
export interface LinkSink {
  /** One whole frame, in order. The buffer becomes the session's: the link must not reuse it. */
  frame(frame: Uint8Array): void;
  /** The link can take more data after `send` returned false. */
  drain(): void;
  /** The link is gone. `error` is undefined for an orderly close by the peer. */
  end(error?: unknown): void;
}

export interface FrameLink {
  /** Starts delivering frames to `sink`. Called once, by the session. */
  start(sink: LinkSink): void;
  /**
   * Sends one whole frame; the link may take ownership of its buffer.
   * Returns false when the link wants data frames paused until `sink.drain()`
   * (control frames are still sent).
   */
  send(frame: Uint8Array): boolean;
  /** Closes the link after what was sent; `error` set means a failure. */
  close(error?: unknown): void;
}
