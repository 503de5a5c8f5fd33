/**
 * The scenarios of the session suite that apply to a plain in-memory
 * `pipe()`: ordering, falsy values, close / abort / receiver-close
 * propagation, and nested channels, which a pipe passes by reference
 * (like a Go channel) instead of transferring them.
 */
import { describe, expect, it } from 'vitest';
import { ChannelClosedError, isReceiver, isSender, pipe, type Receiver, type Sender } from '../../src/index.js';
import { collect, expectClosedCode, range, rejectionOf, track, turns } from './helpers.js';

describe('pipe() scenarios', () => {
  for (const capacity of [0, 1, 16]) {
    it(`10,000 un-awaited sends arrive in call order (capacity ${capacity})`, async () => {
      const [rx, tx] = pipe<number>({ capacity });
      const sends = range(10_000).map((i) => tx.send(i));
      const closing = tx.close();
      const got = await collect(rx);
      await Promise.all(sends);
      await closing;
      expect(got).toEqual(range(10_000));
    });
  }

  it('50 interleaved pipes × 200 messages, each in order', async () => {
    const pipes = range(50).map(() => pipe<{ ch: number; n: number }>({ capacity: 2 }));
    const results = Promise.all(pipes.map(([rx]) => collect(rx)));
    const sends: Promise<void>[] = [];
    for (let n = 0; n < 200; n++) for (let ch = 0; ch < 50; ch++) sends.push((pipes[ch] as (typeof pipes)[number])[1].send({ ch, n }));
    await Promise.all(sends);
    await Promise.all(pipes.map(([, tx]) => tx.close()));
    const all = await results;
    for (let ch = 0; ch < 50; ch++) expect(all[ch]).toEqual(range(200).map((n) => ({ ch, n })));
  });

  it('falsy values arrive exactly: 0, false, "", null, undefined, NaN, -0', async () => {
    const [rx, tx] = pipe<unknown>({ capacity: 16 });
    const values: unknown[] = [0, false, '', null, undefined, Number.NaN, -0];
    for (const v of values) await tx.send(v);
    for (const v of values) expect(Object.is(await rx.receive(), v)).toBe(true);
  });

  it('late rendezvous: a buffered pipe keeps values until someone receives', async () => {
    const [rx, tx] = pipe<string>({ capacity: 3 });
    await tx.send('one');
    await tx.send('two');
    await tx.send('');
    await tx.close();
    await turns(5);
    expect(await collect(rx)).toEqual(['one', 'two', '']);
  });

  it('sender close: for-await ends quietly after every value; closed promises resolve', async () => {
    const [rx, tx] = pipe<number>();
    const got = collect(rx);
    for (let i = 0; i < 20; i++) await tx.send(i);
    await tx.close();
    expect(await got).toEqual(range(20));
    await tx.closed;
    await rx.closed;
    expectClosedCode(await rejectionOf(rx.receive()), 'CLOSED');
  });

  it('sender abort(reason): pending and later receives reject with the reason itself; for-await throws', async () => {
    const [rx, tx] = pipe<number>();
    const pending = track(rx.receive());
    const reason = new Error('x', { cause: new Error('root cause') });
    tx.abort(reason);
    expect(await rejectionOf(pending.promise)).toBe(reason);
    expect(await rejectionOf(rx.receive())).toBe(reason);
    expect(await rejectionOf(collect(rx))).toBe(reason);
    await expect(rx.closed).rejects.toBe(reason);
    await expect(tx.closed).rejects.toBe(reason);
    tx.abort(new Error('second'));
    expect(await rejectionOf(rx.receive())).toBe(reason);
  });

  it('abort() without a reason is ChannelClosedError ABORTED', async () => {
    const [rx, tx] = pipe<number>();
    tx.abort();
    expectClosedCode(await rejectionOf(rx.receive()), 'ABORTED');
  });

  it('receiver close(reason): pending and later sends reject RECEIVER_CLOSED with cause === reason', async () => {
    const [rx, tx] = pipe<number>();
    const pending = track(tx.send(1));
    await turns();
    expect(pending.state).toBe('pending');
    const reason = new RangeError('enough');
    rx.close(reason);
    const error = await rejectionOf(pending.promise);
    expectClosedCode(error, 'RECEIVER_CLOSED');
    expect((error as ChannelClosedError).cause).toBe(reason);
    const later = await rejectionOf(tx.send(2));
    expectClosedCode(later, 'RECEIVER_CLOSED');
    expect((later as ChannelClosedError).cause).toBe(reason);
    await tx.closed;
    await rx.closed;
  });

  it('Ret over a pipe: the ret Sender is passed by reference and stays usable', async () => {
    type Req = { question: string; ret: Sender<string> };
    const [requests, send] = pipe<Req>();
    const [replies, ret] = pipe<string>();
    const server = (async () => {
      const req = await requests.receive();
      expect(req.ret).toBe(ret);
      await req.ret.send(`${req.question}: pong`);
    })();
    await send.send({ question: 'ping', ret });
    expect(await replies.receive()).toBe('ping: pong');
    await server;
    // Not transferred: the original still works.
    const again = track(ret.send('still mine'));
    expect(await replies.receive()).toBe('still mine');
    await again.promise;
  });

  it('nested channels (three deep, in a Map) are passed by reference', async () => {
    const [rx, tx] = pipe<unknown>({ capacity: 1 });
    const [inner, innerTx] = pipe<number>();
    const [mapped] = pipe<string>();
    const message = { x: { y: { z: inner } }, m: new Map([['chan', mapped]]) };
    await tx.send(message);
    const got = (await rx.receive()) as typeof message;
    expect(got).toBe(message);
    expect(got.x.y.z).toBe(inner);
    expect(isReceiver(got.x.y.z)).toBe(true);
    expect(got.m.get('chan')).toBe(mapped);
    const values = collect(got.x.y.z as Receiver<number>);
    for (let i = 0; i < 5; i++) await innerTx.send(i);
    await innerTx.close();
    expect(await values).toEqual(range(5));
  });

  it('a reply carrying a new Sender', async () => {
    const [replies, ret] = pipe<Sender<number>>();
    const [numbers, numbersTx] = pipe<number>();
    const got = collect(numbers);
    const sending = ret.send(numbersTx);
    const handed = await replies.receive();
    await sending;
    expect(isSender(handed)).toBe(true);
    expect(handed).toBe(numbersTx);
    for (const n of [1, 2, 3]) await handed.send(n);
    await handed.close();
    expect(await got).toEqual([1, 2, 3]);
  });
});
