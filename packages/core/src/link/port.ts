// @ts-self-types="./port.d.ts"

/**
 * A frame link over a MessagePort-like object: a DOM `MessagePort` or
 * `Worker`, a `worker_threads` port or Worker, a Deno/Bun worker. Frames are
 * batched per microtask into one postMessage, their ArrayBuffers transferred
 * (not copied). A `null` message is the orderly end.
 */
import type { SessionOptions } from '../config.js';
import { ownsBuffer } from '../codec/bytes.js';
import { ProtocolError } from '../errors.js';

/** Below this size a copy is cheaper than a transfer. */
const COPY_BELOW = 4096;
import type { FrameLink, LinkSink } from '../session/link.js';
import { Session } from '../session/session.js';
import { FrameBatch } from './batch.js';

/** A DOM-style port: `MessagePort`, `Worker`, `DedicatedWorkerGlobalScope`, Deno/Bun workers. */
export interface DomPortLike {
  postMessage(message: unknown, transfer: ArrayBuffer[]): void;
  addEventListener(type: 'message', listener: (event: MessageEvent) => void): void;
  removeEventListener(type: 'message', listener: (event: MessageEvent) => void): void;
  start?(): void;
  close?(): void;
}

/** A Node-style port: `worker_threads` `Worker`, `MessagePort`, `parentPort` (EventEmitters). */
export interface NodePortLike {
  postMessage(message: unknown, transfer: ArrayBuffer[]): void;
  on(type: 'message' | 'close' | 'exit', listener: (value: unknown) => void): unknown;
  off(type: 'message' | 'close' | 'exit', listener: (value: unknown) => void): unknown;
  start?(): void;
  close?(): void;
}

/** What `connectPort` takes. */
export type MessagePortLike = DomPortLike | NodePortLike;

function isNodePort(port: MessagePortLike): port is NodePortLike {
  return typeof (port as NodePortLike).on === 'function';
}

class PortLink implements FrameLink {
  private sink: LinkSink | undefined;
  private readonly batch = new FrameBatch((frames) => this.post(frames));
  private closed = false;
  private readonly detach: () => void;

  constructor(private readonly port: MessagePortLike) {
    const onData = (data: unknown): void => this.onMessage(data);
    const onGone = (): void => this.onEnd(new Error('the port closed'));
    // Node's worker_threads objects are EventEmitters (Worker has no addEventListener).
    if (isNodePort(port)) {
      port.on('message', onData);
      port.on('close', onGone);
      port.on('exit', onGone);
      this.detach = () => {
        port.off('message', onData);
        port.off('close', onGone);
        port.off('exit', onGone);
      };
    } else if (typeof port.addEventListener === 'function') {
      const listener = (event: MessageEvent): void => onData(event.data);
      port.addEventListener('message', listener);
      this.detach = () => port.removeEventListener('message', listener);
    } else {
      throw new TypeError('connectPort needs an object with postMessage and addEventListener or on');
    }
    port.start?.();
  }

  start(sink: LinkSink): void {
    this.sink = sink;
  }

  send(frame: Uint8Array): boolean {
    if (!this.closed) this.batch.push(frame);
    return true;
  }

  private post(frames: Uint8Array[]): void {
    // Frames that own their buffer are transferred; slab views are copied (cloning a view would clone the whole slab).
    const transfer: ArrayBuffer[] = [];
    for (let i = 0; i < frames.length; i++) {
      const f = frames[i] as Uint8Array;
      if (f.byteLength <= COPY_BELOW || !ownsBuffer(f)) {
        frames[i] = new Uint8Array(f);
      } else if (f.buffer instanceof ArrayBuffer) {
        transfer.push(f.buffer);
      }
    }
    try {
      this.port.postMessage(frames, transfer);
    } catch (error) {
      this.onEnd(error);
    }
  }

  close(error?: unknown): void {
    if (this.closed) return;
    this.batch.flush();
    this.closed = true;
    try {
      this.port.postMessage(null, []);
    } catch {
      // the port may be gone already
    }
    this.detach();
    this.port.close?.();
  }

  private onMessage(data: unknown): void {
    if (this.closed || !this.sink) return;
    if (data === null) {
      this.onEnd(undefined);
      return;
    }
    if (!Array.isArray(data)) {
      this.onEnd(new ProtocolError('a non-libchan message arrived on the port', { code: 'BAD_FRAME' }));
      return;
    }
    for (const frame of data) {
      if (this.closed) return;
      if (!(frame instanceof Uint8Array)) {
        this.onEnd(new ProtocolError('a non-libchan message arrived on the port', { code: 'BAD_FRAME' }));
        return;
      }
      this.sink.frame(frame);
    }
  }

  private onEnd(error: unknown): void {
    if (this.closed) return;
    this.closed = true;
    this.detach();
    this.sink?.end(error);
  }
}

/** A session over a MessagePort, Worker or worker_threads port. Returns at once; await `ready`. */
export function connectPort(port: MessagePortLike, options?: SessionOptions): Session {
  return new Session(new PortLink(port), options);
}
