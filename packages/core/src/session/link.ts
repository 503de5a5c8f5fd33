// @ts-self-types="./link.d.ts"

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
   *
   * `lane` names the sub-stream whose order the frame belongs to (0: the
   * session's control lane). Frame links ignore it; a stream link
   * (WebTransport) carries each lane on a native stream of its own.
   */
  send(frame: Uint8Array, lane?: number): boolean;
  /**
   * Optional, for links that copy frames into a batch anyway: one frame given as its
   * header and the payload that follows it, so the payload is copied once (into the
   * batch) rather than twice. The link may keep both buffers until it sends. Returns
   * what `send` returns.
   */
  sendSplit?(head: Uint8Array, body: Uint8Array, lane?: number): boolean;
  /**
   * Sends now what the link holds back to batch with later frames (optional: links that
   * batch per task implement it). The session calls it after a CREDIT a stalled sender
   * may be waiting for.
   */
  flush?(): void;
  /** Closes the link after what was sent; `error` set means a failure. */
  close(error?: unknown): void;
  /**
   * True for links whose lanes are independent native streams: frames of
   * different lanes may arrive in any order (the session then holds frames
   * for a stream until its OPEN arrives).
   */
  readonly unordered?: boolean;
  /**
   * A lane ended: `close` after its last frame, `reset` when this side
   * aborted it, `stop` when this side stopped receiving on it. The reason
   * itself travels on the control lane first. Every frame already written
   * must still arrive: its credit comes back only if it does.
   */
  endLane?(lane: number, how: 'close' | 'reset' | 'stop'): void;
}
