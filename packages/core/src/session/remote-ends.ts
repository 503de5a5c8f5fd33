// @ts-self-types="./remote-ends.d.ts"

/**
 * The user-facing objects of sub-streams this side sends on (a remote
 * `Sender`, a `WritableStream` writing to the peer) and the pumps that move a
 * transferred local `Receiver` or `ReadableStream` onto the wire. Pumps read
 * only after the previous value was admitted, so flow control reaches all
 * the way back to the local producer.
 */
import { AbstractSender, EndSignal, endWatcher, kDetach, kIsTransferred, kOffer, kOnStop } from '../channel/ends.js';
import { abortReason, isCleanEnd, type PipeReceiver } from '../channel/pipe.js';
import type { WaitOptions } from '../channel/types.js';
import { disposeValue } from '../channel/unclaimed.js';
import { ChannelClosedError, SessionClosedError, transferredError } from '../errors.js';
import type { OutStream } from './out-stream.js';

const noop = (): void => {};

function isResetOnBothSides(reason: unknown): boolean {
  return reason instanceof ChannelClosedError && (reason.code === 'UNCLAIMED' || reason.code === 'GONE' || reason.code === 'REFUSED');
}

/** A remote Sender dropped while open resets its stream (best effort), so the peer's receiver does not wait forever. */
const watchEnd = endWatcher<OutStream>((stream) => {
  // A close already under way finishes on its own; only an open stream is reset.
  if (stream.isOpen) stream.reset(new ChannelClosedError('the sender of this channel was garbage-collected while open', { code: 'GONE' }));
});

export class RemoteSender<T> extends AbstractSender<T> {
  private stream: OutStream | null;
  private readonly signal: EndSignal;
  private readonly unwatch: (() => void) | undefined;

  /** @param userFacing tracked for GC only when the user holds it (see PipeSender). */
  constructor(stream: OutStream, userFacing = true) {
    super();
    this.stream = stream;
    this.signal = stream.closed;
    stream.bound = true;
    if (userFacing) this.unwatch = watchEnd(this, stream, this.signal);
  }

  get closed(): Promise<void> {
    return this.signal.promise;
  }

  send(value: T, options?: WaitOptions): Promise<void> {
    const stream = this.stream;
    if (stream === null) return Promise.reject(transferredError());
    return stream.sendValue(value, options?.signal, this);
  }

  close(): Promise<void> {
    return this.stream === null ? Promise.reject(transferredError()) : this.stream.close();
  }

  abort(reason?: unknown): void {
    this.stream?.reset(abortReason(reason));
  }

  get [kIsTransferred](): boolean {
    return this.stream === null;
  }

  [kDetach](): RemoteSender<T> {
    const stream = this.stream;
    if (stream === null) throw new TypeError('this Sender was already transferred');
    this.stream = null;
    this.unwatch?.();
    return new RemoteSender(stream, false);
  }

  [kOffer](): boolean {
    return false;
  }

  [kOnStop](callback: (reason: unknown) => void): void {
    this.stream?.addStopHook(callback);
  }
}

/** Moves values from a transferred local Receiver to the peer. */
export function pumpChannel(stream: OutStream, source: PipeReceiver<unknown>): void {
  stream.addStopHook((reason) => {
    // A session failure or a reset that names its cause (UNCLAIMED, GONE, REFUSED)
    // resets the local channel too; a plain receiver close closes it.
    if (reason instanceof SessionClosedError || isResetOnBothSides(reason)) source.abortChannel(reason);
    else source.close(reason);
  });
  void (async () => {
    for (;;) {
      let value: unknown;
      try {
        value = await source.receive();
      } catch (error) {
        if (isCleanEnd(error)) stream.close().catch(noop);
        else stream.reset(error);
        return;
      }
      try {
        await stream.sendValue(value);
      } catch (error) {
        disposeValue(value);
        if (stream.isOpen) stream.reset(error);
        source.close(error);
        return;
      }
    }
  })();
}

/** Moves bytes from a transferred local ReadableStream to the peer. */
export function pumpBytes(stream: OutStream, reader: ReadableStreamDefaultReader<unknown>): void {
  stream.addStopHook((reason) => {
    reader.cancel(reason).catch(noop);
  });
  void (async () => {
    for (;;) {
      let result: ReadableStreamReadResult<unknown>;
      try {
        result = await reader.read();
      } catch (error) {
        stream.reset(error);
        return;
      }
      if (result.done) {
        stream.close().catch(noop);
        return;
      }
      const chunk = result.value;
      if (!(chunk instanceof Uint8Array)) {
        const error = new TypeError('byte streams carry Uint8Array chunks');
        stream.reset(error);
        reader.cancel(error).catch(noop);
        return;
      }
      try {
        await stream.sendBytes(chunk, false);
      } catch (error) {
        reader.cancel(error).catch(noop);
        return;
      }
    }
  })();
}

/** A WritableStream whose bytes go to the peer. */
export function makeWritable(stream: OutStream): WritableStream<Uint8Array> {
  stream.bound = true;
  return new WritableStream<Uint8Array>(
    {
      start: (controller) => {
        stream.addStopHook((reason) => controller.error(reason));
      },
      write: (chunk) => {
        if (!(chunk instanceof Uint8Array)) throw new TypeError('byte streams carry Uint8Array chunks');
        // Copied: the writer may reuse its buffer once write() resolves.
        return stream.sendBytes(chunk, true);
      },
      close: () => stream.close(),
      abort: (reason) => stream.reset(reason),
    },
    { highWaterMark: 1 },
  );
}
