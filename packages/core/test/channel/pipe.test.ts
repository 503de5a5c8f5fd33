import { describe, expect, it } from 'vitest';
import { ChannelClosedError, pipe } from '../../src/index.js';
import { macrotasks, rejectionOf, track, watchUnhandledRejections } from './helpers.js';

describe('pipe(): capacity', { timeout: 5_000 }, () => {
  it.each([-1, -0.5, 1.5, Number.NaN, Number.POSITIVE_INFINITY])('rejects capacity %s with RangeError', (capacity) => {
    expect(() => pipe({ capacity })).toThrow(RangeError);
  });

  it.each([undefined, 0, 1, 16])('accepts capacity %s', (capacity) => {
    const ends = pipe(capacity === undefined ? {} : { capacity });
    expect(ends).toHaveLength(2);
  });

  it('returns [receiver, sender] in that order', async () => {
    const [receiver, sender] = pipe<number>({ capacity: 1 });
    expect(typeof receiver.receive).toBe('function');
    expect(typeof sender.send).toBe('function');
    await sender.send(1);
    await expect(receiver.receive()).resolves.toBe(1);
  });
});

describe('capacity 0: rendezvous', { timeout: 5_000 }, () => {
  it('send does not resolve until a receive takes the value', async () => {
    const [receiver, sender] = pipe<string>({ capacity: 0 });
    const sent = track(sender.send('a'));
    await macrotasks();
    expect(sent.state).toBe('pending');
    await expect(receiver.receive()).resolves.toBe('a');
    await macrotasks();
    expect(sent.state).toBe('fulfilled');
  });

  it('is the default when no capacity is given', async () => {
    const [receiver, sender] = pipe<string>();
    const sent = track(sender.send('a'));
    await macrotasks();
    expect(sent.state).toBe('pending');
    await expect(receiver.receive()).resolves.toBe('a');
    await macrotasks();
    expect(sent.state).toBe('fulfilled');
  });

  it('a receive waits for a send, and that send resolves at once', async () => {
    const [receiver, sender] = pipe<number>();
    const received = track(receiver.receive());
    await macrotasks();
    expect(received.state).toBe('pending');
    await sender.send(7);
    await macrotasks();
    expect(received.state).toBe('fulfilled');
    expect(received.value).toBe(7);
  });

  it('each send waits for its own receive', async () => {
    const [receiver, sender] = pipe<number>();
    const first = track(sender.send(1));
    const second = track(sender.send(2));
    await macrotasks();
    expect([first.state, second.state]).toEqual(['pending', 'pending']);
    await expect(receiver.receive()).resolves.toBe(1);
    await macrotasks();
    expect([first.state, second.state]).toEqual(['fulfilled', 'pending']);
    await expect(receiver.receive()).resolves.toBe(2);
    await macrotasks();
    expect(second.state).toBe('fulfilled');
  });

  it('passes values by reference', async () => {
    const [receiver, sender] = pipe<{ n: number }>();
    const value = { n: 1 };
    void sender.send(value);
    expect(await receiver.receive()).toBe(value);
  });
});

describe('capacity N: buffer', { timeout: 5_000 }, () => {
  it('buffers N values without a receive, then blocks', async () => {
    const [receiver, sender] = pipe<number>({ capacity: 2 });
    const s1 = track(sender.send(1));
    const s2 = track(sender.send(2));
    const s3 = track(sender.send(3));
    await macrotasks();
    expect([s1.state, s2.state, s3.state]).toEqual(['fulfilled', 'fulfilled', 'pending']);
    await expect(receiver.receive()).resolves.toBe(1);
    await macrotasks();
    // A slot freed up: the waiting send moves into the buffer and resolves.
    expect(s3.state).toBe('fulfilled');
    const s4 = track(sender.send(4));
    await macrotasks();
    expect(s4.state).toBe('pending');
    await expect(receiver.receive()).resolves.toBe(2);
    await expect(receiver.receive()).resolves.toBe(3);
    await expect(receiver.receive()).resolves.toBe(4);
    await macrotasks();
    expect(s4.state).toBe('fulfilled');
  });

  it('capacity 1 holds exactly one value', async () => {
    const [receiver, sender] = pipe<number>({ capacity: 1 });
    await sender.send(1);
    const s2 = track(sender.send(2));
    await macrotasks();
    expect(s2.state).toBe('pending');
    await expect(receiver.receive()).resolves.toBe(1);
    await macrotasks();
    expect(s2.state).toBe('fulfilled');
    await expect(receiver.receive()).resolves.toBe(2);
  });
});

describe('ordering', { timeout: 5_000 }, () => {
  it.each([0, 1, 3])('un-awaited sends are delivered in call order (capacity %i)', async (capacity) => {
    const [receiver, sender] = pipe<number>({ capacity });
    const sends = Array.from({ length: 20 }, (_, i) => sender.send(i));
    const got: number[] = [];
    for (let i = 0; i < 20; i++) got.push(await receiver.receive());
    expect(got).toEqual(Array.from({ length: 20 }, (_, i) => i));
    await Promise.all(sends);
  });

  it('receives waiting before the sends are served in call order', async () => {
    const [receiver, sender] = pipe<number>();
    const receives = [receiver.receive(), receiver.receive(), receiver.receive()];
    await macrotasks();
    void sender.send(1);
    void sender.send(2);
    void sender.send(3);
    await expect(Promise.all(receives)).resolves.toEqual([1, 2, 3]);
  });
});

describe('sender.close()', { timeout: 5_000 }, () => {
  it('delivers what was sent, then every receive rejects with ChannelClosedError CLOSED', async () => {
    const [receiver, sender] = pipe<number>({ capacity: 3 });
    await sender.send(1);
    await sender.send(2);
    await sender.close();
    await expect(receiver.receive()).resolves.toBe(1);
    await expect(receiver.receive()).resolves.toBe(2);
    for (let i = 0; i < 2; i++) {
      const error = await rejectionOf(receiver.receive());
      expect(error).toBeInstanceOf(ChannelClosedError);
      expect((error as ChannelClosedError).code).toBe('CLOSED');
      expect((error as ChannelClosedError).name).toBe('ChannelClosedError');
    }
  });

  it('ends a waiting receive with ChannelClosedError CLOSED', async () => {
    const [receiver, sender] = pipe<number>();
    const received = track(receiver.receive());
    await macrotasks();
    await sender.close();
    await macrotasks();
    expect(received.state).toBe('rejected');
    expect(received.reason).toBeInstanceOf(ChannelClosedError);
    expect((received.reason as ChannelClosedError).code).toBe('CLOSED');
  });

  it('waits for pending sends to be received before ending', async () => {
    const [receiver, sender] = pipe<number>();
    const s1 = track(sender.send(1));
    const s2 = track(sender.send(2));
    const closing = track(sender.close());
    await macrotasks();
    expect(closing.state).toBe('pending');
    await expect(receiver.receive()).resolves.toBe(1);
    await macrotasks();
    expect(closing.state).toBe('pending');
    await expect(receiver.receive()).resolves.toBe(2);
    await macrotasks();
    expect([s1.state, s2.state, closing.state]).toEqual(['fulfilled', 'fulfilled', 'fulfilled']);
    const error = await rejectionOf(receiver.receive());
    expect((error as ChannelClosedError).code).toBe('CLOSED');
  });

  it('waits for sends blocked on a full buffer too', async () => {
    const [receiver, sender] = pipe<number>({ capacity: 1 });
    void sender.send(1);
    const s2 = track(sender.send(2));
    const closing = track(sender.close());
    await macrotasks();
    expect([s2.state, closing.state]).toEqual(['pending', 'pending']);
    await expect(receiver.receive()).resolves.toBe(1);
    await macrotasks();
    expect([s2.state, closing.state]).toEqual(['fulfilled', 'fulfilled']);
    await expect(receiver.receive()).resolves.toBe(2);
    await expect(receiver.receive()).rejects.toBeInstanceOf(ChannelClosedError);
  });

  it('a send after close rejects with ChannelClosedError and delivers nothing', async () => {
    const [receiver, sender] = pipe<number>({ capacity: 2 });
    await sender.close();
    const error = await rejectionOf(sender.send(1));
    expect(error).toBeInstanceOf(ChannelClosedError);
    expect((error as ChannelClosedError).code).toBe('CLOSED');
    await expect(receiver.receive()).rejects.toBeInstanceOf(ChannelClosedError);
  });

  it('a send while close waits for pending sends rejects and is not delivered', async () => {
    const [receiver, sender] = pipe<number>();
    void sender.send(1);
    const closing = sender.close();
    const late = await rejectionOf(sender.send(2));
    expect(late).toBeInstanceOf(ChannelClosedError);
    await expect(receiver.receive()).resolves.toBe(1);
    await closing;
    await expect(receiver.receive()).rejects.toBeInstanceOf(ChannelClosedError);
  });

  it('sender.closed resolves; receiver.closed resolves once the buffer is drained', async () => {
    const [receiver, sender] = pipe<number>({ capacity: 2 });
    const senderClosed = track(sender.closed);
    const receiverClosed = track(receiver.closed);
    await sender.send(1);
    await macrotasks();
    expect([senderClosed.state, receiverClosed.state]).toEqual(['pending', 'pending']);
    await sender.close();
    await macrotasks();
    expect(senderClosed.state).toBe('fulfilled');
    expect(receiverClosed.state).toBe('pending');
    await expect(receiver.receive()).resolves.toBe(1);
    // Drained: the clean end is now observable without another receive.
    await macrotasks();
    expect(receiverClosed.state).toBe('fulfilled');
    await expect(receiver.receive()).rejects.toBeInstanceOf(ChannelClosedError);
  });

  it('close() called twice resolves both times', async () => {
    const [, sender] = pipe<number>();
    await expect(sender.close()).resolves.toBeUndefined();
    await expect(sender.close()).resolves.toBeUndefined();
  });
});

describe('sender.abort()', { timeout: 5_000 }, () => {
  it('rejects pending and later receives with the reason', async () => {
    const [receiver, sender] = pipe<number>();
    const reason = new Error('boom');
    const pending = track(receiver.receive());
    await macrotasks();
    sender.abort(reason);
    await macrotasks();
    expect(pending.state).toBe('rejected');
    expect(pending.reason).toBe(reason);
    expect(await rejectionOf(receiver.receive())).toBe(reason);
    expect(await rejectionOf(receiver.receive())).toBe(reason);
  });

  it('discards buffered values', async () => {
    const [receiver, sender] = pipe<number>({ capacity: 3 });
    await sender.send(1);
    await sender.send(2);
    const reason = { why: 'reset' };
    sender.abort(reason);
    expect(await rejectionOf(receiver.receive())).toBe(reason);
  });

  it('discards sends still waiting, which reject', async () => {
    const [receiver, sender] = pipe<number>();
    const pendingSend = track(sender.send(1));
    await macrotasks();
    const reason = new Error('reset');
    sender.abort(reason);
    await macrotasks();
    expect(pendingSend.state).toBe('rejected');
    expect(await rejectionOf(receiver.receive())).toBe(reason);
  });

  it('later sends reject and deliver nothing', async () => {
    const [receiver, sender] = pipe<number>({ capacity: 2 });
    const reason = new Error('reset');
    sender.abort(reason);
    await expect(sender.send(1)).rejects.toBe(reason);
    expect(await rejectionOf(receiver.receive())).toBe(reason);
  });

  it('abort() with no reason uses ChannelClosedError code ABORTED', async () => {
    const [receiver, sender] = pipe<number>();
    const pending = track(receiver.receive());
    sender.abort();
    await macrotasks();
    for (const error of [pending.reason, await rejectionOf(receiver.receive()), await rejectionOf(sender.closed)]) {
      expect(error).toBeInstanceOf(ChannelClosedError);
      expect((error as ChannelClosedError).code).toBe('ABORTED');
    }
    await expect(receiver.closed).rejects.toBeInstanceOf(ChannelClosedError);
  });

  it('falsy reasons are kept as they are', async () => {
    for (const reason of [null, 0, '', false]) {
      const [receiver, sender] = pipe<number>();
      sender.abort(reason);
      expect(await rejectionOf(receiver.receive())).toBe(reason);
    }
  });

  it('sender.closed and receiver.closed reject with the reason, without unhandled rejections', async () => {
    const watch = watchUnhandledRejections();
    const reason = new Error('reset');
    const ends = [pipe<number>(), pipe<number>({ capacity: 2 }), pipe<number>()];
    // Touch `closed` on some ends before the abort, and on others only after.
    void ends[0]?.[0].closed;
    void ends[0]?.[1].closed;
    for (const [, sender] of ends) sender.abort(reason);
    const third = pipe<number>();
    third[1].abort(); // default reason, nobody ever looks at `closed`
    const unhandled = await watch.stop();
    expect(unhandled).toEqual([]);
    for (const [receiver, sender] of ends) {
      await expect(sender.closed).rejects.toBe(reason);
      await expect(receiver.closed).rejects.toBe(reason);
    }
  });

  it('rejects a close() that is still waiting for pending sends, and those sends', async () => {
    const [receiver, sender] = pipe<number>();
    const s1 = track(sender.send(1));
    const closing = track(sender.close());
    await macrotasks();
    const reason = new Error('reset');
    sender.abort(reason);
    await macrotasks();
    expect(closing.state).toBe('rejected');
    expect(closing.reason).toBe(reason);
    expect(s1.state).toBe('rejected');
    expect(await rejectionOf(receiver.receive())).toBe(reason);
  });

  it('close() after abort rejects with the reset reason', async () => {
    const [, sender] = pipe<number>();
    const reason = new Error('reset');
    sender.abort(reason);
    await expect(sender.close()).rejects.toBe(reason);
  });
});

describe('receiver.close(reason)', { timeout: 5_000 }, () => {
  it('rejects pending and later sends with ChannelClosedError RECEIVER_CLOSED whose cause is the reason', async () => {
    const [receiver, sender] = pipe<number>();
    const pendingSend = track(sender.send(1));
    await macrotasks();
    const reason = new Error('not interested');
    receiver.close(reason);
    await macrotasks();
    expect(pendingSend.state).toBe('rejected');
    const later = await rejectionOf(sender.send(2));
    for (const error of [pendingSend.reason, later]) {
      expect(error).toBeInstanceOf(ChannelClosedError);
      expect((error as ChannelClosedError).code).toBe('RECEIVER_CLOSED');
      expect((error as ChannelClosedError).cause).toBe(reason);
    }
  });

  it('rejects sends blocked on a full buffer and later sends', async () => {
    const [receiver, sender] = pipe<number>({ capacity: 1 });
    await sender.send(1);
    const blocked = track(sender.send(2));
    await macrotasks();
    receiver.close('bye');
    await macrotasks();
    expect(blocked.state).toBe('rejected');
    expect((blocked.reason as ChannelClosedError).code).toBe('RECEIVER_CLOSED');
    expect((blocked.reason as ChannelClosedError).cause).toBe('bye');
  });

  it('without a reason: code RECEIVER_CLOSED and no cause', async () => {
    const [receiver, sender] = pipe<number>();
    receiver.close();
    const error = await rejectionOf(sender.send(1));
    expect(error).toBeInstanceOf(ChannelClosedError);
    expect((error as ChannelClosedError).code).toBe('RECEIVER_CLOSED');
    expect((error as ChannelClosedError).cause).toBeUndefined();
  });

  it('resolves sender.closed and receiver.closed', async () => {
    const [receiver, sender] = pipe<number>({ capacity: 2 });
    await sender.send(1);
    receiver.close(new Error('done'));
    await expect(sender.closed).resolves.toBeUndefined();
    await expect(receiver.closed).resolves.toBeUndefined();
  });

  it("ends the receiver's own pending and later receives with ChannelClosedError", async () => {
    const [receiver] = pipe<number>();
    const pending = track(receiver.receive());
    await macrotasks();
    receiver.close();
    await macrotasks();
    expect(pending.state).toBe('rejected');
    expect(pending.reason).toBeInstanceOf(ChannelClosedError);
    await expect(receiver.receive()).rejects.toBeInstanceOf(ChannelClosedError);
  });

  it("settles (does not reject) a sender close() that was waiting for pending sends", async () => {
    const [receiver, sender] = pipe<number>();
    void sender.send(1).catch(() => {});
    const closing = track(sender.close());
    await macrotasks();
    expect(closing.state).toBe('pending');
    receiver.close();
    await macrotasks();
    expect(closing.state).toBe('fulfilled');
  });
});

describe('a channel ends once', { timeout: 5_000 }, () => {
  it('abort after close does nothing: buffered values are still delivered, then CLOSED', async () => {
    const [receiver, sender] = pipe<number>({ capacity: 2 });
    await sender.send(1);
    await sender.close();
    sender.abort(new Error('too late'));
    await expect(receiver.receive()).resolves.toBe(1);
    const error = await rejectionOf(receiver.receive());
    expect((error as ChannelClosedError).code).toBe('CLOSED');
    await expect(sender.closed).resolves.toBeUndefined();
    await expect(receiver.closed).resolves.toBeUndefined();
  });

  it('a second abort does not replace the first reason', async () => {
    const [receiver, sender] = pipe<number>();
    const first = new Error('first');
    sender.abort(first);
    sender.abort(new Error('second'));
    sender.abort();
    expect(await rejectionOf(receiver.receive())).toBe(first);
    await expect(sender.closed).rejects.toBe(first);
    await expect(receiver.closed).rejects.toBe(first);
  });

  it('close after abort does not turn the reset into a clean end', async () => {
    const [receiver, sender] = pipe<number>();
    const reason = new Error('reset');
    sender.abort(reason);
    await sender.close().catch(() => {});
    expect(await rejectionOf(receiver.receive())).toBe(reason);
    await expect(sender.closed).rejects.toBe(reason);
  });

  it('receiver.close after abort does nothing', async () => {
    const [receiver, sender] = pipe<number>();
    const reason = new Error('reset');
    sender.abort(reason);
    receiver.close(new Error('later'));
    await expect(sender.send(1)).rejects.toBe(reason);
    expect(await rejectionOf(receiver.receive())).toBe(reason);
    await expect(receiver.closed).rejects.toBe(reason);
  });

  it('abort after receiver.close does nothing', async () => {
    const [receiver, sender] = pipe<number>();
    const why = new Error('receiver left');
    receiver.close(why);
    sender.abort(new Error('reset'));
    await expect(sender.closed).resolves.toBeUndefined();
    await expect(receiver.closed).resolves.toBeUndefined();
    const error = await rejectionOf(sender.send(1));
    expect((error as ChannelClosedError).code).toBe('RECEIVER_CLOSED');
    expect((error as ChannelClosedError).cause).toBe(why);
  });

  it('a second receiver.close keeps the first reason', async () => {
    const [receiver, sender] = pipe<number>();
    receiver.close('first');
    receiver.close('second');
    const error = await rejectionOf(sender.send(1));
    expect((error as ChannelClosedError).cause).toBe('first');
  });
});

describe('AbortSignal on send', { timeout: 5_000 }, () => {
  it('a pending send rejects with signal.reason and delivers nothing', async () => {
    const [receiver, sender] = pipe<number>();
    const controller = new AbortController();
    const reason = new Error('cancelled');
    const aborted = track(sender.send(1, { signal: controller.signal }));
    await macrotasks();
    controller.abort(reason);
    await macrotasks();
    expect(aborted.state).toBe('rejected');
    expect(aborted.reason).toBe(reason);
    const next = track(receiver.receive());
    await macrotasks();
    expect(next.state).toBe('pending'); // the value 1 is gone
    await sender.send(2);
    await expect(next.promise).resolves.toBe(2);
  });

  it('an aborted send behind a full buffer delivers nothing and keeps the order of the rest', async () => {
    const [receiver, sender] = pipe<number>({ capacity: 1 });
    const controller = new AbortController();
    await sender.send(1);
    const aborted = track(sender.send(2, { signal: controller.signal }));
    const s3 = track(sender.send(3));
    await macrotasks();
    controller.abort();
    await macrotasks();
    expect(aborted.state).toBe('rejected');
    expect(aborted.reason).toBe(controller.signal.reason);
    await expect(receiver.receive()).resolves.toBe(1);
    await expect(receiver.receive()).resolves.toBe(3);
    await macrotasks();
    expect(s3.state).toBe('fulfilled');
  });

  it('an already-aborted signal rejects at once even when a receive is waiting', async () => {
    const [receiver, sender] = pipe<number>();
    const reason = new Error('already');
    const waiting = track(receiver.receive());
    await macrotasks();
    await expect(sender.send(1, { signal: AbortSignal.abort(reason) })).rejects.toBe(reason);
    await macrotasks();
    expect(waiting.state).toBe('pending');
    await sender.send(2);
    await expect(waiting.promise).resolves.toBe(2);
  });

  it('an already-aborted signal rejects at once even with buffer room', async () => {
    const [receiver, sender] = pipe<number>({ capacity: 4 });
    const reason = new Error('already');
    await expect(sender.send(1, { signal: AbortSignal.abort(reason) })).rejects.toBe(reason);
    await sender.send(2);
    await expect(receiver.receive()).resolves.toBe(2);
  });

  it('aborting after the send completed changes nothing', async () => {
    const [receiver, sender] = pipe<number>({ capacity: 1 });
    const controller = new AbortController();
    await sender.send(1, { signal: controller.signal });
    controller.abort();
    await expect(receiver.receive()).resolves.toBe(1);
  });

  it('close() waits only for sends that were not aborted', async () => {
    const [receiver, sender] = pipe<number>();
    const controller = new AbortController();
    const aborted = sender.send(1, { signal: controller.signal });
    const closing = track(sender.close());
    await macrotasks();
    expect(closing.state).toBe('pending');
    controller.abort();
    await expect(aborted).rejects.toBe(controller.signal.reason);
    await macrotasks();
    expect(closing.state).toBe('fulfilled');
    await expect(receiver.receive()).rejects.toBeInstanceOf(ChannelClosedError);
  });
});

describe('AbortSignal on receive', { timeout: 5_000 }, () => {
  it('a pending receive rejects with signal.reason and took nothing', async () => {
    const [receiver, sender] = pipe<number>();
    const controller = new AbortController();
    const reason = new Error('cancelled');
    const aborted = track(receiver.receive({ signal: controller.signal }));
    await macrotasks();
    controller.abort(reason);
    await macrotasks();
    expect(aborted.state).toBe('rejected');
    expect(aborted.reason).toBe(reason);
    // Nobody is receiving now: with capacity 0 the send must wait.
    const sent = track(sender.send(1));
    await macrotasks();
    expect(sent.state).toBe('pending');
    await expect(receiver.receive()).resolves.toBe(1);
    await macrotasks();
    expect(sent.state).toBe('fulfilled');
  });

  it('the value goes to the next receive when several wait', async () => {
    const [receiver, sender] = pipe<number>();
    const controller = new AbortController();
    const first = track(receiver.receive({ signal: controller.signal }));
    const second = track(receiver.receive());
    await macrotasks();
    controller.abort();
    await sender.send(5);
    await macrotasks();
    expect(first.state).toBe('rejected');
    expect(second.value).toBe(5);
  });

  it('an already-aborted signal rejects at once on an empty channel', async () => {
    const [receiver, sender] = pipe<number>();
    const reason = new Error('already');
    await expect(receiver.receive({ signal: AbortSignal.abort(reason) })).rejects.toBe(reason);
    const sent = track(sender.send(1));
    await macrotasks();
    expect(sent.state).toBe('pending'); // no receive was left behind
  });

  it('an already-aborted signal rejects at once and takes nothing when a value is buffered', async () => {
    const [receiver, sender] = pipe<number>({ capacity: 1 });
    await sender.send(1);
    const reason = new Error('already');
    const error = await rejectionOf(receiver.receive({ signal: AbortSignal.abort(reason) }));
    expect(error).toBe(reason);
    await expect(receiver.receive()).resolves.toBe(1);
  });

  it('an already-aborted signal rejects at once and takes nothing when a send is waiting', async () => {
    const [receiver, sender] = pipe<number>();
    const sent = track(sender.send(1));
    await macrotasks();
    const reason = new Error('already');
    const error = await rejectionOf(receiver.receive({ signal: AbortSignal.abort(reason) }));
    expect(error).toBe(reason);
    await macrotasks();
    expect(sent.state).toBe('pending');
    await expect(receiver.receive()).resolves.toBe(1);
  });

  it('aborting after the receive completed changes nothing', async () => {
    const [receiver, sender] = pipe<number>();
    const controller = new AbortController();
    const received = receiver.receive({ signal: controller.signal });
    await sender.send(1);
    controller.abort();
    await expect(received).resolves.toBe(1);
    void sender.send(2);
    await expect(receiver.receive()).resolves.toBe(2);
  });
});
