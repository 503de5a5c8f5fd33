// @ts-self-types="./memory.d.ts"

/**
 * An in-memory frame link: two ends joined back to back, delivering frames
 * in order in a later microtask (as a real link would, never re-entrantly).
 * `sessionPair()` runs the full protocol and codec over it.
 */
import type { SessionOptions } from '../config.js';
import type { FrameLink, LinkSink } from '../session/link.js';
import { Session } from '../session/session.js';
import { microtask } from '../schedule.js';

class MemoryLink implements FrameLink {
  peer!: MemoryLink;
  private sink: LinkSink | undefined;
  private inbox: Uint8Array[] = [];
  private scheduled = false;
  private closed = false;
  private ended: { error: unknown } | undefined;

  start(sink: LinkSink): void {
    this.sink = sink;
    if (this.inbox.length > 0 || this.ended) this.schedule();
  }

  send(frame: Uint8Array): boolean {
    if (!this.closed) this.peer.receive(frame);
    return true;
  }

  close(error?: unknown): void {
    if (this.closed) return;
    this.closed = true;
    this.peer.remoteClosed(error);
  }

  private receive(frame: Uint8Array): void {
    this.inbox.push(frame);
    this.schedule();
  }

  private remoteClosed(error: unknown): void {
    // The peer failing is a lost link here; an orderly close is a clean end.
    this.ended = { error: error === undefined ? undefined : new Error('the peer closed the link with an error', { cause: error }) };
    this.schedule();
  }

  private schedule(): void {
    if (this.scheduled || !this.sink) return;
    this.scheduled = true;
    microtask(() => this.deliver());
  }

  private deliver(): void {
    this.scheduled = false;
    const sink = this.sink as LinkSink;
    const frames = this.inbox;
    this.inbox = [];
    for (const frame of frames) sink.frame(frame);
    if (this.ended && this.inbox.length === 0) {
      const { error } = this.ended;
      this.ended = undefined;
      this.closed = true;
      sink.end(error);
    }
  }
}

/** Two frame links joined to each other. */
export function memoryLinkPair(): [FrameLink, FrameLink] {
  const a = new MemoryLink();
  const b = new MemoryLink();
  a.peer = b;
  b.peer = a;
  return [a, b];
}

/**
 * Two sessions joined by an in-memory frame link that runs the full wire
 * protocol and codec (for tests and same-thread plumbing).
 */
export function sessionPair(options?: SessionOptions, optionsB: SessionOptions | undefined = options): [Session, Session] {
  const [a, b] = memoryLinkPair();
  return [new Session(a, options), new Session(b, optionsB)];
}
