// @ts-self-types="./select.d.ts"

/**
 * Go's `select` over receivers: exactly one value from exactly one of them.
 * Ready receivers are scanned from a random start so none is starved; when
 * none is ready, one waiter per receiver is parked and the first to fire
 * withdraws the others in the same tick, so no value is taken twice or lost.
 */
import { AbstractReceiver } from './ends.js';
import { EMPTY, isCleanEnd, PipeReceiver, type PipeCore, type ReceiveWaiter } from './pipe.js';
import type { Receiver, WaitOptions } from './types.js';

type ValueOf<R> = R extends Receiver<infer T> ? T : never;

/** One arm of a select result; `index` tells which receiver, and so the value's type. */
export type SelectArm<I extends number, T> =
  | { index: I; value: T; done?: false }
  | { index: I; done: true; value?: undefined };

/** The union of arms for a tuple of receivers, discriminated by `index`. */
export type SelectResult<R extends readonly Receiver<unknown>[]> = number extends R['length']
  ? SelectArm<number, ValueOf<R[number]>> // an array of unknown length: no per-index types
  : { [K in keyof R]: K extends `${infer I extends number}` ? SelectArm<I, ValueOf<R[K]>> : never }[number];

function coreOf(receiver: Receiver<unknown>): PipeCore<unknown> {
  if (receiver instanceof PipeReceiver) return receiver.liveCore;
  if (receiver instanceof AbstractReceiver) throw new TypeError('select() does not support this Receiver');
  throw new TypeError('select() takes libchan Receivers only');
}

export function select<const R extends readonly Receiver<unknown>[]>(
  receivers: R,
  options?: WaitOptions,
): Promise<SelectResult<R>> {
  type Result = SelectResult<R>;
  let cores: PipeCore<unknown>[];
  try {
    cores = receivers.map(coreOf);
  } catch (error) {
    return Promise.reject(error);
  }
  const n = cores.length;
  if (n === 0) return Promise.reject(new TypeError('select() needs at least one receiver'));
  const signal = options?.signal;
  if (signal?.aborted) return Promise.reject(signal.reason);

  const start = Math.floor(Math.random() * n);
  for (let i = 0; i < n; i++) {
    const index = (start + i) % n;
    const core = cores[index] as PipeCore<unknown>;
    const value = core.poll();
    if (value !== EMPTY) return Promise.resolve({ index, value } as Result);
    if (core.ended) {
      const error = core.endError();
      if (isCleanEnd(error)) return Promise.resolve({ index, done: true } as Result);
      return Promise.reject(error);
    }
  }

  return new Promise<Result>((resolve, reject) => {
    const waiters: ReceiveWaiter<unknown>[] = [];
    let onAbort: (() => void) | undefined;
    const finish = (fired: number): void => {
      for (let i = 0; i < n; i++) if (i !== fired) (cores[i] as PipeCore<unknown>).removeWaiter(waiters[i] as ReceiveWaiter<unknown>);
      if (onAbort) signal?.removeEventListener('abort', onAbort);
    };
    for (let index = 0; index < n; index++) {
      const waiter: ReceiveWaiter<unknown> = {
        owner: receivers,
        onValue: (value) => {
          finish(index);
          resolve({ index, value } as Result);
        },
        onEnd: (reason, clean) => {
          finish(index);
          if (clean || isCleanEnd(reason)) resolve({ index, done: true } as Result);
          else reject(reason);
        },
      };
      waiters.push(waiter);
      (cores[index] as PipeCore<unknown>).addWaiter(waiter);
    }
    if (signal) {
      onAbort = () => {
        finish(-1);
        reject(signal.reason);
      };
      signal.addEventListener('abort', onAbort, { once: true });
    }
  });
}
