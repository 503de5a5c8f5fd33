import { describe, expect, it } from 'vitest';
import { ChannelClosedError, pipe, type Receiver } from '../../src/index.js';
import { macrotasks, rejectionOf, track } from './helpers.js';

async function collect<T>(receiver: Receiver<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const value of receiver) out.push(value);
  return out;
}

describe('async iteration', { timeout: 5_000 }, () => {
  it('for await yields every value and ends quietly at a clean end', async () => {
    const [receiver, sender] = pipe<number>();
    const producer = (async () => {
      for (let i = 0; i < 5; i++) await sender.send(i);
      await sender.close();
    })();
    await expect(collect(receiver)).resolves.toEqual([0, 1, 2, 3, 4]);
    await producer;
  });

  it('drains a buffer filled before the close', async () => {
    const [receiver, sender] = pipe<string>({ capacity: 3 });
    await sender.send('a');
    await sender.send('b');
    await sender.send('c');
    await sender.close();
    await expect(collect(receiver)).resolves.toEqual(['a', 'b', 'c']);
  });

  it('ends at once on a channel already closed and empty', async () => {
    const [receiver, sender] = pipe<number>();
    await sender.close();
    await expect(collect(receiver)).resolves.toEqual([]);
  });

  it('throws the reason after an abort', async () => {
    const [receiver, sender] = pipe<number>();
    const reason = new Error('reset');
    const seen: number[] = [];
    const loop = (async () => {
      for await (const value of receiver) seen.push(value);
    })();
    await sender.send(1);
    await sender.send(2);
    sender.abort(reason);
    expect(await rejectionOf(loop)).toBe(reason);
    expect(seen).toEqual([1, 2]);
  });

  it('throws ChannelClosedError ABORTED after abort() without a reason', async () => {
    const [receiver, sender] = pipe<number>({ capacity: 2 });
    await sender.send(1);
    sender.abort();
    const error = await rejectionOf(collect(receiver));
    expect(error).toBeInstanceOf(ChannelClosedError);
    expect((error as ChannelClosedError).code).toBe('ABORTED');
  });

  it('break closes the receiver: pending and next sends reject with RECEIVER_CLOSED', async () => {
    const [receiver, sender] = pipe<number>();
    void sender.send(1);
    const second = track(sender.send(2));
    for await (const value of receiver) {
      expect(value).toBe(1);
      break;
    }
    await macrotasks();
    expect(second.state).toBe('rejected');
    expect(second.reason).toBeInstanceOf(ChannelClosedError);
    expect((second.reason as ChannelClosedError).code).toBe('RECEIVER_CLOSED');
    const next = await rejectionOf(sender.send(3));
    expect(next).toBeInstanceOf(ChannelClosedError);
    expect((next as ChannelClosedError).code).toBe('RECEIVER_CLOSED');
    await expect(sender.closed).resolves.toBeUndefined();
  });

  it('an exception in the loop body closes the receiver too', async () => {
    const [receiver, sender] = pipe<number>({ capacity: 1 });
    await sender.send(1);
    const oops = new Error('body failed');
    const loop = (async () => {
      for await (const _ of receiver) throw oops;
    })();
    expect(await rejectionOf(loop)).toBe(oops);
    const error = await rejectionOf(sender.send(2));
    expect((error as ChannelClosedError).code).toBe('RECEIVER_CLOSED');
  });

  it('a loop waiting for a value ends quietly when the sender closes', async () => {
    const [receiver, sender] = pipe<number>();
    const loop = track(collect(receiver));
    await macrotasks();
    expect(loop.state).toBe('pending');
    await sender.close();
    await expect(loop.promise).resolves.toEqual([]);
  });

  it('the iterator protocol gives {done:false,value} then {done:true}', async () => {
    const [receiver, sender] = pipe<number>({ capacity: 1 });
    const iterator = receiver[Symbol.asyncIterator]();
    await sender.send(9);
    await expect(iterator.next()).resolves.toEqual({ done: false, value: 9 });
    await sender.close();
    await expect(iterator.next()).resolves.toEqual({ done: true, value: undefined });
    await expect(iterator.next()).resolves.toEqual({ done: true, value: undefined });
  });
});
