import { describe, expect, it } from 'vitest';
import { ChannelClosedError, pipe, select } from '../../src/index.js';
import { macrotasks, rejectionOf, track } from './helpers.js';

describe('select: ready receivers', { timeout: 5_000 }, () => {
  it('takes the value of the only ready receiver', async () => {
    const [a] = pipe<string>();
    const [b, sendB] = pipe<number>({ capacity: 1 });
    const [c] = pipe<boolean>();
    await sendB.send(42);
    await expect(select([a, b, c])).resolves.toEqual({ index: 1, value: 42 });
  });

  it('takes exactly one value from exactly one receiver', async () => {
    const [a, sendA] = pipe<string>({ capacity: 1 });
    const [b, sendB] = pipe<string>({ capacity: 1 });
    await sendA.send('a');
    await sendB.send('b');
    const result = await select([a, b]);
    expect(result.done).toBeFalsy();
    const receivers = [a, b] as const;
    const senders = [sendA, sendB] as const;
    const other = 1 - result.index;
    expect(result.value).toBe(result.index === 0 ? 'a' : 'b');
    // The other receiver still holds its value ...
    await expect(receivers[other]!.receive()).resolves.toBe(other === 0 ? 'a' : 'b');
    // ... and the chosen one holds nothing more.
    await senders[result.index]!.close();
    await expect(receivers[result.index]!.receive()).rejects.toBeInstanceOf(ChannelClosedError);
  });

  it('takes the value of a waiting send and resolves that send', async () => {
    const [a] = pipe<number>();
    const [b, sendB] = pipe<number>();
    const sent = track(sendB.send(3));
    await macrotasks();
    expect(sent.state).toBe('pending');
    await expect(select([a, b])).resolves.toEqual({ index: 1, value: 3 });
    await macrotasks();
    expect(sent.state).toBe('fulfilled');
  });

  it('resolves {index, done: true} for a cleanly ended receiver', async () => {
    const [a] = pipe<number>();
    const [b, sendB] = pipe<number>();
    await sendB.close();
    const result = await select([a, b]);
    expect(result).toMatchObject({ index: 1, done: true });
    expect(result.value).toBeUndefined();
  });

  it('delivers buffered values of a closed receiver before reporting it done', async () => {
    const [a, sendA] = pipe<number>({ capacity: 2 });
    await sendA.send(1);
    await sendA.close();
    await expect(select([a])).resolves.toEqual({ index: 0, value: 1 });
    await expect(select([a])).resolves.toMatchObject({ index: 0, done: true });
  });

  it('rejects with the reason of a reset receiver', async () => {
    const [a] = pipe<number>();
    const [b, sendB] = pipe<number>();
    const reason = new Error('reset');
    sendB.abort(reason);
    expect(await rejectionOf(select([a, b]))).toBe(reason);
  });

  it('rejects with ChannelClosedError ABORTED after abort() without a reason', async () => {
    const [a, sendA] = pipe<number>();
    sendA.abort();
    const error = await rejectionOf(select([a]));
    expect(error).toBeInstanceOf(ChannelClosedError);
    expect((error as ChannelClosedError).code).toBe('ABORTED');
  });

  it('rejects an empty list with TypeError', async () => {
    await expect(select([])).rejects.toBeInstanceOf(TypeError);
  });
});

describe('select: fairness', { timeout: 10_000 }, () => {
  it('with two always-ready receivers, each wins at least 300 of 1000 selects', async () => {
    const rounds = 1000;
    const [a, sendA] = pipe<number>({ capacity: rounds });
    const [b, sendB] = pipe<number>({ capacity: rounds });
    for (let i = 0; i < rounds; i++) {
      await sendA.send(i);
      await sendB.send(i);
    }
    const wins = [0, 0];
    const next = [0, 0];
    for (let i = 0; i < rounds; i++) {
      const result = await select([a, b]);
      expect(result.done).toBeFalsy();
      // Each receiver's values still come out in order.
      expect(result.value).toBe(next[result.index]);
      next[result.index]!++;
      wins[result.index]!++;
    }
    expect(wins[0]! + wins[1]!).toBe(rounds);
    expect(wins[0]).toBeGreaterThanOrEqual(300);
    expect(wins[1]).toBeGreaterThanOrEqual(300);
  });

  it('with rendezvous senders always waiting, neither is starved', async () => {
    const rounds = 1000;
    const [a, sendA] = pipe<string>();
    const [b, sendB] = pipe<string>();
    const pumpA = (async () => {
      for (;;) await sendA.send('a');
    })().catch(() => {});
    const pumpB = (async () => {
      for (;;) await sendB.send('b');
    })().catch(() => {});
    const wins = { a: 0, b: 0 };
    for (let i = 0; i < rounds; i++) {
      const result = await select([a, b]);
      if (!result.done) wins[result.value as 'a' | 'b']++;
    }
    a.close();
    b.close();
    await Promise.all([pumpA, pumpB]);
    expect(wins.a + wins.b).toBe(rounds);
    expect(wins.a).toBeGreaterThanOrEqual(300);
    expect(wins.b).toBeGreaterThanOrEqual(300);
  });
});

describe('select: waiting', { timeout: 5_000 }, () => {
  it('waits for the first value and leaves the other receivers alone', async () => {
    const [a, sendA] = pipe<string>();
    const [b, sendB] = pipe<string>();
    const selected = track(select([a, b]));
    await macrotasks();
    expect(selected.state).toBe('pending');
    const sentB = track(sendB.send('b'));
    await macrotasks();
    expect(selected.state).toBe('fulfilled');
    expect(selected.value).toEqual({ index: 1, value: 'b' });
    expect(sentB.state).toBe('fulfilled');
    // Nothing is left listening on `a`: a rendezvous send there must wait for a receive.
    const sentA = track(sendA.send('a'));
    await macrotasks();
    expect(sentA.state).toBe('pending');
    await expect(a.receive()).resolves.toBe('a');
  });

  it('values arriving in one tick: takes exactly one, the others stay for later receives', async () => {
    const [a, sendA] = pipe<number>();
    const [b, sendB] = pipe<number>();
    const [c, sendC] = pipe<number>({ capacity: 1 });
    const selected = track(select([a, b, c]));
    await macrotasks();
    const sentA = track(sendA.send(1));
    const sentB = track(sendB.send(2));
    const sentC = track(sendC.send(3));
    await macrotasks();
    expect(selected.value).toEqual({ index: 0, value: 1 });
    expect(sentA.state).toBe('fulfilled');
    expect(sentB.state).toBe('pending'); // capacity 0 and nobody took it
    expect(sentC.state).toBe('fulfilled'); // buffered
    await expect(b.receive()).resolves.toBe(2);
    await expect(c.receive()).resolves.toBe(3);
    await macrotasks();
    expect(sentB.state).toBe('fulfilled');
  });

  it('several selects waiting on the same receivers each take one distinct value', async () => {
    const [a, sendA] = pipe<number>();
    const [b, sendB] = pipe<number>();
    const first = select([a, b]);
    const second = select([a, b]);
    await macrotasks();
    void sendA.send(1);
    void sendA.send(2);
    void sendB.send(3);
    const results = await Promise.all([first, second]);
    expect(results).toEqual([
      { index: 0, value: 1 },
      { index: 0, value: 2 },
    ]);
    await expect(b.receive()).resolves.toBe(3);
  });

  it('resolves done when a receiver ends while waiting', async () => {
    const [a] = pipe<number>();
    const [b, sendB] = pipe<number>();
    const selected = track(select([a, b]));
    await macrotasks();
    await sendB.close();
    await macrotasks();
    expect(selected.state).toBe('fulfilled');
    expect(selected.value).toMatchObject({ index: 1, done: true });
  });

  it('rejects when a receiver is reset while waiting, and takes nothing else', async () => {
    const [a, sendA] = pipe<number>();
    const [b, sendB] = pipe<number>();
    const selected = track(select([a, b]));
    await macrotasks();
    const reason = new Error('reset');
    sendB.abort(reason);
    await macrotasks();
    expect(selected.state).toBe('rejected');
    expect(selected.reason).toBe(reason);
    const sentA = track(sendA.send(1));
    await macrotasks();
    expect(sentA.state).toBe('pending');
    await expect(a.receive()).resolves.toBe(1);
  });
});

describe('select: AbortSignal', { timeout: 5_000 }, () => {
  it('an aborted select rejects with signal.reason and took nothing', async () => {
    const [a, sendA] = pipe<number>();
    const [b, sendB] = pipe<number>({ capacity: 1 });
    const controller = new AbortController();
    const reason = new Error('cancelled');
    const selected = track(select([a, b], { signal: controller.signal }));
    await macrotasks();
    controller.abort(reason);
    await macrotasks();
    expect(selected.state).toBe('rejected');
    expect(selected.reason).toBe(reason);
    // No waiter was left behind on either receiver.
    const sentA = track(sendA.send(1));
    await sendB.send(2);
    const sentB2 = track(sendB.send(3));
    await macrotasks();
    expect(sentA.state).toBe('pending');
    expect(sentB2.state).toBe('pending'); // buffer holds 2, so 2 was not taken
    await expect(a.receive()).resolves.toBe(1);
    await expect(b.receive()).resolves.toBe(2);
    await expect(b.receive()).resolves.toBe(3);
  });

  it('an already-aborted signal rejects at once and takes nothing from ready receivers', async () => {
    const [a, sendA] = pipe<number>({ capacity: 1 });
    const [b, sendB] = pipe<number>();
    await sendA.send(1);
    const sentB = track(sendB.send(2));
    const reason = new Error('already');
    expect(await rejectionOf(select([a, b], { signal: AbortSignal.abort(reason) }))).toBe(reason);
    await macrotasks();
    expect(sentB.state).toBe('pending');
    await expect(a.receive()).resolves.toBe(1);
    await expect(b.receive()).resolves.toBe(2);
  });

  it('aborting after the select resolved changes nothing', async () => {
    const [a, sendA] = pipe<number>();
    const controller = new AbortController();
    const selected = select([a], { signal: controller.signal });
    await sendA.send(1);
    controller.abort();
    await expect(selected).resolves.toEqual({ index: 0, value: 1 });
    void sendA.send(2);
    await expect(a.receive()).resolves.toBe(2);
  });
});
