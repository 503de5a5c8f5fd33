/**
 * The session over a link whose lanes overtake each other, as WebTransport's
 * native streams do: each lane (sub-stream) keeps its own order, but frames
 * of different lanes arrive in a shuffled interleaving. The whole scenario
 * suite must hold over it.
 */
import { Session, type FrameLink, type LinkSink, type SessionOptions } from '../../src/index.js';
import { scenarioSuite } from './scenarios.js';

/** A deterministic PRNG so a failure can be replayed. */
function prng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

class ShuffledLaneLink implements FrameLink {
  readonly unordered = true;
  peer!: ShuffledLaneLink;
  private sink: LinkSink | undefined;
  private lanes = new Map<number, Uint8Array[]>();
  private scheduled = false;
  private closed = false;
  private ended: { error: unknown } | undefined;
  constructor(private readonly random: () => number) {}

  start(sink: LinkSink): void {
    this.sink = sink;
    this.schedule();
  }
  send(frame: Uint8Array, lane = 0): boolean {
    if (!this.closed) this.peer.receive(frame, lane);
    return true;
  }
  close(error?: unknown): void {
    if (this.closed) return;
    this.closed = true;
    this.peer.remoteClosed(error);
  }
  private receive(frame: Uint8Array, lane: number): void {
    let queue = this.lanes.get(lane);
    if (!queue) this.lanes.set(lane, (queue = []));
    queue.push(frame.slice());
    this.schedule();
  }
  private remoteClosed(error: unknown): void {
    this.ended = { error: error === undefined ? undefined : new Error('peer failed', { cause: error }) };
    this.schedule();
  }
  private schedule(): void {
    if (this.scheduled || !this.sink) return;
    this.scheduled = true;
    void Promise.resolve().then(() => this.deliver());
  }
  private deliver(): void {
    this.scheduled = false;
    const sink = this.sink as LinkSink;
    // Deliver everything queued, picking a random non-empty lane for each frame.
    for (;;) {
      const live = [...this.lanes].filter(([, q]) => q.length > 0);
      if (live.length === 0) break;
      const [, queue] = live[Math.floor(this.random() * live.length)] as [number, Uint8Array[]];
      sink.frame(queue.shift() as Uint8Array);
      if (this.closed) return;
    }
    if (this.ended) {
      const { error } = this.ended;
      this.ended = undefined;
      this.closed = true;
      sink.end(error);
    }
  }
}

let seed = 1;
scenarioSuite('session over shuffled lanes (stream-link semantics)', async (optionsA?: SessionOptions, optionsB?: SessionOptions) => {
  const random = prng(seed++);
  const a = new ShuffledLaneLink(random);
  const b = new ShuffledLaneLink(random);
  a.peer = b;
  b.peer = a;
  return { a: new Session(a, optionsA), b: new Session(b, optionsB ?? optionsA), cleanup: async () => {} };
});
