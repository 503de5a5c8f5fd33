// @ts-self-types="./link.d.ts"

/**
 * A frame link between two endpoints over a shared BroadcastChannel:
 * frames written in one microtask go out as one addressed message (binary,
 * structured-cloned — never text); frames from anyone but the peer, or for
 * another session, never reach it.
 */
import { afterTick, FrameBatch, ownsBuffer, ProtocolError, type FrameLink, type LinkSink } from '@libchan/core';
import type { BroadcastChannelLike, Envelope } from './envelope.js';

export class BroadcastLink implements FrameLink {
  private sink: LinkSink | undefined;
  /** Frames of one task become one postMessage; small frames are views into a shared slab, so they are copied (cloning a view clones its whole buffer). */
  private readonly batch = new FrameBatch((frames) => {
    if (this.closed) return;
    for (let i = 0; i < frames.length; i++) {
      const f = frames[i] as Uint8Array;
      if (!ownsBuffer(f)) frames[i] = new Uint8Array(f);
    }
    this.post({ v: 1, t: 'frames', from: this.self, to: this.peer, session: this.session, frames });
  }, afterTick);
  private closed = false;
  private early: Envelope[] = [];

  constructor(
    private readonly channel: BroadcastChannelLike,
    readonly self: string,
    readonly peer: string,
    readonly session: string,
    private readonly onClosed: () => void,
  ) {}

  start(sink: LinkSink): void {
    this.sink = sink;
    for (const e of this.early.splice(0)) this.receive(e);
  }

  send(frame: Uint8Array): boolean {
    if (!this.closed) this.batch.push(frame);
    return true;
  }

  private post(envelope: Envelope): void {
    try {
      this.channel.postMessage(envelope);
    } catch (error) {
      this.end(error);
    }
  }

  /** An envelope addressed to this link (the endpoint dispatches by session). */
  receive(envelope: Envelope): void {
    if (this.closed || envelope.from !== this.peer) return;
    if (!this.sink) {
      this.early.push(envelope);
      return;
    }
    if (envelope.t === 'bye') {
      this.end(envelope.error === undefined ? undefined : new Error(`the peer left: ${envelope.error}`));
      return;
    }
    if (envelope.t !== 'frames') return;
    for (const frame of envelope.frames) {
      if (this.closed) return;
      if (!(frame instanceof Uint8Array)) {
        const error = new ProtocolError('a non-binary frame arrived on the BroadcastChannel', { code: 'BAD_FRAME' });
        // Tell the peer too: this end is failing, so it must not wait for a keep-alive timeout.
        this.post({ v: 1, t: 'bye', from: this.self, to: this.peer, session: this.session, error: error.message });
        this.end(error);
        return;
      }
      this.sink.frame(frame);
    }
  }

  close(error?: unknown): void {
    if (this.closed) return;
    this.batch.flush();
    this.closed = true;
    this.post({ v: 1, t: 'bye', from: this.self, to: this.peer, session: this.session, ...(error === undefined ? {} : { error: String((error as Error)?.message ?? error).slice(0, 200) }) });
    this.onClosed();
  }

  private end(error: unknown): void {
    if (this.closed) return;
    this.closed = true;
    this.onClosed();
    this.sink?.end(error);
  }
}
