/** An open channel whose end is garbage-collected is reset (best effort). */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { describe, expect, it } from 'vitest';
import { kDetach } from '../../src/channel/ends.js';
import { ChannelClosedError, pipe, type Receiver, type Sender } from '../../src/index.js';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

async function collectUntil(done: () => boolean): Promise<void> {
  for (let i = 0; i < 50 && !done(); i++) {
    gc();
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

describe('garbage-collected ends', () => {
  it('a dropped Receiver makes pending and later sends fail with GONE', async () => {
    let sender: Sender<number> | undefined;
    (() => {
      const [, tx] = pipe<number>();
      sender = tx;
    })();
    const pending = (sender as Sender<number>).send(1);
    let error: unknown;
    pending.catch((e: unknown) => {
      error = e;
    });
    await collectUntil(() => error !== undefined);
    expect(error).toBeInstanceOf(ChannelClosedError);
    expect((error as ChannelClosedError).code).toBe('RECEIVER_CLOSED');
    expect(((error as ChannelClosedError).cause as ChannelClosedError).code).toBe('GONE');
  }, 10_000);

  it('a dropped Sender resets the channel: the receive rejects with GONE', async () => {
    let receiver: Receiver<number> | undefined;
    (() => {
      const [rx] = pipe<number>();
      receiver = rx;
    })();
    let error: unknown;
    (receiver as Receiver<number>).receive().catch((e: unknown) => {
      error = e;
    });
    await collectUntil(() => error !== undefined);
    expect((error as ChannelClosedError).code).toBe('GONE');
  }, 10_000);

  it('ends made and dropped in one long task are watched too (100 in one loop)', async () => {
    const receives: Promise<unknown>[] = [];
    (() => {
      for (let i = 0; i < 100; i++) {
        const [rx] = pipe<number>();
        receives.push(rx.receive().catch((e: unknown) => e));
      }
    })();
    const errors: unknown[] = [];
    for (const r of receives) void r.then((e) => errors.push(e));
    await collectUntil(() => errors.length === 100);
    expect(errors.length).toBe(100);
    for (const e of errors) expect((e as ChannelClosedError).code).toBe('GONE');
  }, 10_000);

  it('a transferred end is not reset when its old, detached object is collected', async () => {
    let rx: Receiver<number> | undefined;
    let live: Sender<number> | undefined;
    (() => {
      // What a session does on transfer: the live end moves to a new object, the old one is dropped.
      const [r, old] = pipe<number>({ capacity: 1 });
      rx = r;
      live = (old as unknown as { [kDetach](): Sender<number> })[kDetach]();
    })();
    await collectUntil(() => false);
    await (live as Sender<number>).send(5);
    expect(await (rx as Receiver<number>).receive()).toBe(5);
  }, 10_000);

  it('a pending receive keeps its receiver alive (no reset while someone waits on it)', async () => {
    let sender: Sender<number> | undefined;
    let pending: Promise<number> | undefined;
    (() => {
      const [rx, tx] = pipe<number>();
      sender = tx;
      pending = rx.receive(); // the only reference to rx is the call waiting on it
    })();
    await collectUntil(() => false);
    await (sender as Sender<number>).send(7);
    expect(await pending).toBe(7);
  }, 10_000);

  it('a pending send keeps its sender alive', async () => {
    let receiver: Receiver<number> | undefined;
    let pending: Promise<void> | undefined;
    (() => {
      const [rx, tx] = pipe<number>();
      receiver = rx;
      pending = tx.send(3);
    })();
    await collectUntil(() => false);
    expect(await (receiver as Receiver<number>).receive()).toBe(3);
    await pending;
  }, 10_000);
});
