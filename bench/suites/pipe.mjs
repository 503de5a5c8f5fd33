// In-memory channels: how fast values move through `pipe()` with no I/O and no codec.
//
//   stream     pipe({ capacity: 1024 }), one async producer (`await tx.send(i)`) and one
//              consumer, 5 million values per round. Target ≥ 5 M values/s.
//   ping-pong  two capacity-0 (rendezvous) pipes; A sends and awaits the reply, B echoes.
//              Target ≥ 500 k round trips/s.
//
// Each group has a baseline of bare JavaScript doing the least the case could do, so the
// ratio column shows what the channel costs on top of the machine's floor.
import { pipe } from '../../packages/core/dist/index.js';

export const name = 'pipe';

const RESOLVED = Promise.resolve(1);
let sink = 0; // keeps results observable so nothing is optimised away

/** The smallest hand-rolled one-way mailbox: one promise per hop, no buffer bound, no close. */
function bareMailbox() {
  let waiter = null;
  let value;
  let has = false;
  return {
    send(v) {
      if (waiter !== null) {
        const w = waiter;
        waiter = null;
        w(v);
      } else {
        value = v;
        has = true;
      }
    },
    receive() {
      if (has) {
        has = false;
        return Promise.resolve(value);
      }
      return new Promise((resolve) => (waiter = resolve));
    },
  };
}

export async function run(report) {
  const values = report.scale(5_000_000);
  const roundTrips = report.scale(500_000);
  const stream = { group: 'stream', unit: 'values/s', ops: values };
  const streamTarget = { min: 5_000_000 };

  await report.measure('bare loop: await a resolved promise per value', {
    ...stream,
    baseline: true,
    fn: async (n) => {
      let sum = 0;
      for (let i = 0; i < n; i++) sum += await RESOLVED;
      sink += sum;
    },
  });

  await report.measure('bare async generator → for await', {
    ...stream,
    fn: async (n) => {
      async function* gen() {
        for (let i = 0; i < n; i++) yield i;
      }
      let sum = 0;
      for await (const v of gen()) sum += v;
      sink += sum;
    },
  });

  await report.measure('pipe(1024): await send → for await', {
    ...stream,
    target: streamTarget,
    setup: () => pipe({ capacity: 1024 }),
    fn: async (n, [rx, tx]) => {
      const producer = (async () => {
        for (let i = 0; i < n; i++) await tx.send(i);
        await tx.close();
      })();
      let sum = 0;
      for await (const v of rx) sum += v;
      await producer;
      sink += sum;
    },
  });

  await report.measure('pipe(1024): await send → await receive()', {
    ...stream,
    target: streamTarget,
    setup: () => pipe({ capacity: 1024 }),
    fn: async (n, [rx, tx]) => {
      const producer = (async () => {
        for (let i = 0; i < n; i++) await tx.send(i);
        await tx.close();
      })();
      let sum = 0;
      for (let i = 0; i < n; i++) sum += await rx.receive();
      await producer;
      sink += sum;
    },
  });

  const pingPong = { group: 'ping-pong', unit: 'round trips/s', ops: roundTrips };

  await report.measure('bare promise mailboxes (1 promise per hop)', {
    ...pingPong,
    baseline: true,
    setup: () => [bareMailbox(), bareMailbox()],
    fn: async (n, [ping, pong]) => {
      const echo = (async () => {
        for (let i = 0; i < n; i++) pong.send(await ping.receive());
      })();
      let sum = 0;
      for (let i = 0; i < n; i++) {
        ping.send(i);
        sum += await pong.receive();
      }
      await echo;
      sink += sum;
    },
  });

  await report.measure('pipe(0) × 2: send, await reply; peer echoes', {
    ...pingPong,
    target: { min: 500_000 },
    setup: () => [pipe({ capacity: 0 }), pipe({ capacity: 0 })],
    fn: async (n, [[pingRx, pingTx], [pongRx, pongTx]]) => {
      const echo = (async () => {
        for await (const v of pingRx) await pongTx.send(v);
        await pongTx.close();
      })();
      let sum = 0;
      for (let i = 0; i < n; i++) {
        await pingTx.send(i);
        sum += await pongRx.receive();
      }
      await pingTx.close();
      await echo;
      sink += sum;
    },
  });

  report.note(
    `stream: ${formatCount(values)} values per round; ping-pong: ${formatCount(roundTrips)} round trips per round. ` +
      'Producer and consumer share one thread, so these numbers are per core.',
  );
}

function formatCount(n) {
  return n >= 1e6 ? `${n / 1e6} M` : n >= 1e3 ? `${n / 1e3} k` : String(n);
}
