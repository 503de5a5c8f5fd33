import { describe, expect, it } from 'vitest';
import { ChannelClosedError, pipe, type Receiver, type Sender } from '../../src/index.js';
import { macrotasks, rejectionOf, track } from './helpers.js';

function expectUnclaimed(error: unknown): void {
  expect(error).toBeInstanceOf(ChannelClosedError);
  expect((error as ChannelClosedError).code).toBe('UNCLAIMED');
}

describe('unclaimed channels', { timeout: 5_000 }, () => {
  it('a Sender inside a buffered value is aborted when the receiver closes', async () => {
    const [replies, ret] = pipe<string>();
    const [requests, send] = pipe<{ question: string; ret: Sender<string> }>({ capacity: 1 });
    await send.send({ question: 'ping', ret });
    const waiting = track(replies.receive());
    await macrotasks();
    requests.close();
    await macrotasks();
    expect(waiting.state).toBe('rejected');
    expectUnclaimed(waiting.reason);
    expectUnclaimed(await rejectionOf(replies.receive()));
    expectUnclaimed(await rejectionOf(ret.closed));
    expectUnclaimed(await rejectionOf(replies.closed));
  });

  it('channels nested deep in arrays, Maps, Sets and objects are found', async () => {
    const [innerA, senderA] = pipe<number>();
    const [innerB, senderB] = pipe<number>();
    const [innerC, senderC] = pipe<number>();
    const [outer, send] = pipe<unknown>({ capacity: 1 });
    await send.send({
      list: [{ deep: { deeper: [senderA] } }],
      map: new Map<unknown, unknown>([['k', new Set([senderB])]]),
      keyed: new Map([[senderC, 1]]),
    });
    outer.close();
    expectUnclaimed(await rejectionOf(innerA.receive()));
    expectUnclaimed(await rejectionOf(innerB.receive()));
    expectUnclaimed(await rejectionOf(innerC.receive()));
  });

  it('a Sender inside a rendezvous send that was never taken is aborted when the receiver closes', async () => {
    const [inner, innerSender] = pipe<number>();
    const [outer, send] = pipe<{ ret: Sender<number> }>();
    const sent = track(send.send({ ret: innerSender }));
    await macrotasks();
    outer.close();
    await macrotasks();
    expect(sent.state).toBe('rejected');
    expect((sent.reason as ChannelClosedError).code).toBe('RECEIVER_CLOSED');
    expectUnclaimed(await rejectionOf(inner.receive()));
  });

  it('values left in the buffer after a clean close are dropped on receiver close', async () => {
    const [inner, innerSender] = pipe<number>();
    const [outer, send] = pipe<Sender<number>>({ capacity: 1 });
    await send.send(innerSender);
    await send.close();
    outer.close();
    expectUnclaimed(await rejectionOf(inner.receive()));
  });

  it("the sender's abort drops buffered values and resets the channels in them", async () => {
    const [inner, innerSender] = pipe<number>();
    const [outer, send] = pipe<Sender<number>[]>({ capacity: 1 });
    await send.send([innerSender]);
    const reason = new Error('reset');
    send.abort(reason);
    expect(await rejectionOf(outer.receive())).toBe(reason);
    expectUnclaimed(await rejectionOf(inner.receive()));
  });

  it('a Receiver inside a dropped value is closed: its sender can no longer send', async () => {
    const [innerReceiver, innerSender] = pipe<number>();
    const [outer, send] = pipe<Receiver<number>>({ capacity: 1 });
    await send.send(innerReceiver);
    outer.close();
    const error = await rejectionOf(innerSender.send(1));
    expect(error).toBeInstanceOf(ChannelClosedError);
  });

  it('a Receiver inside a dropped value is reset with code UNCLAIMED on the sender side (API: "reset on both sides")', async () => {
    const [innerReceiver, innerSender] = pipe<number>();
    const [outer, send] = pipe<Receiver<number>>({ capacity: 1 });
    await send.send(innerReceiver);
    outer.close();
    expectUnclaimed(await rejectionOf(innerSender.send(1)));
    expectUnclaimed(await rejectionOf(innerSender.closed));
  });

  it('streams inside a dropped value are cancelled / aborted with UNCLAIMED', async () => {
    let cancelReason: unknown;
    let abortReason: unknown;
    const readable = new ReadableStream<Uint8Array>({
      cancel(reason) {
        cancelReason = reason;
      },
    });
    const writable = new WritableStream<Uint8Array>({
      abort(reason) {
        abortReason = reason;
      },
    });
    const [outer, send] = pipe<unknown>({ capacity: 1 });
    await send.send({ readable, writable });
    outer.close();
    await macrotasks();
    expectUnclaimed(cancelReason);
    expectUnclaimed(abortReason);
  });

  it('a delivered value is not touched when the receiver closes later', async () => {
    const [inner, innerSender] = pipe<number>({ capacity: 1 });
    const [outer, send] = pipe<Sender<number>>({ capacity: 1 });
    await send.send(innerSender);
    const got = await outer.receive();
    outer.close();
    await got.send(5);
    await expect(inner.receive()).resolves.toBe(5);
  });

  it('a value that holds the same channel twice or a cycle is handled', async () => {
    const [inner, innerSender] = pipe<number>();
    const cyclic: { self?: unknown; a: Sender<number>; b: Sender<number> } = { a: innerSender, b: innerSender };
    cyclic.self = cyclic;
    const [outer, send] = pipe<unknown>({ capacity: 1 });
    await send.send(cyclic);
    outer.close();
    expectUnclaimed(await rejectionOf(inner.receive()));
  });
});
