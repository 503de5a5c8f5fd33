/** Encoding is reentrant: a getter in a value may send on the same session while the value is encoded. */
import { describe, expect, it } from 'vitest';
import { sessionPair } from '../../src/index.js';

describe('reentrant sends', () => {
  for (const [what, extra] of [
    ['a value that takes superjson (a Date in it)', () => ({ d: new Date(0) })],
    ['a value that is JSON plus a byte array', () => ({ b: new Uint8Array([1, 2]) })],
  ] as const) {
    it(`${what}: a getter that sends on the same session does not break the outer send`, async () => {
      const [a, b] = sessionPair({ keepAliveMs: 0 });
      try {
        const outer = await a.openSender<Record<string, unknown>>();
        const inner = await a.openSender<{ n: number; d: Date }>();
        const outerRx = await b.accept<Record<string, unknown>>();
        const innerRx = await b.accept<{ n: number; d: Date }>();
        let innerSend: Promise<void> | undefined;
        const value = {
          ...extra(),
          get x() {
            innerSend = inner.send({ n: 7, d: new Date(1) });
            return 1;
          },
          // Encoded after the getter ran: the outer encode's state must still be there.
          after: new Uint8Array([9]),
        };
        await outer.send(value);
        await innerSend;
        const got = await outerRx.receive();
        expect(got.x).toBe(1);
        expect(Array.from(got.after as Uint8Array)).toEqual([9]);
        expect(Object.keys(got).sort()).toEqual([...Object.keys(extra()), 'after', 'x'].sort());
        expect(await innerRx.receive()).toEqual({ n: 7, d: new Date(1) });
      } finally {
        a.abort();
        b.abort();
      }
    });
  }
});
