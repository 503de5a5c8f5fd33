/** session.snapshot(): what an inspector sees. */
import { describe, expect, it } from 'vitest';
import { pipe, sessionPair } from '../../src/index.js';

describe('session.snapshot()', () => {
  it('lists live streams with parent, kind, direction and counts; remembers ended ones with inspectorHistory', async () => {
    const [a, b] = sessionPair({ inspectorHistory: 8, keepAliveMs: 0 });
    try {
      await Promise.all([a.ready, b.ready]);
      const tx = await a.openSender<{ q: string; ret: import('../../src/index.js').Sender<string> }>();
      const rx = await b.accept<{ q: string; ret: import('../../src/index.js').Sender<string> }>();
      const [replies, ret] = pipe<string>();
      await tx.send({ q: 'hi', ret });

      const live = a.snapshot();
      expect(live.state).toBe('open');
      const top = live.streams.find((s) => s.parent === 0);
      const child = live.streams.find((s) => s.parent !== 0);
      expect(top).toMatchObject({ kind: 'channel', direction: 'send', openedBy: 'local', state: 'open', messages: 1 });
      expect(child).toMatchObject({ parent: top?.id, kind: 'channel', direction: 'receive', openedBy: 'local', state: 'open' });
      expect(live.ended).toEqual([]);

      const request = await rx.receive();
      await request.ret.send('hello');
      await request.ret.close();
      expect(await replies.receive()).toBe('hello');
      await expect(replies.receive()).rejects.toMatchObject({ code: 'CLOSED' });

      const after = a.snapshot();
      expect(after.streams.map((s) => s.id)).toEqual([top?.id]);
      expect(after.ended).toEqual([expect.objectContaining({ id: child?.id, parent: top?.id, messages: 1, state: 'ended' })]);
      expect(after.framesOut).toBeGreaterThan(0);
      expect(after.bytesIn).toBeGreaterThan(0);
    } finally {
      a.abort();
      b.abort();
    }
  });

  it('keeps no history by default', async () => {
    const [a, b] = sessionPair({ keepAliveMs: 0 });
    try {
      const tx = await a.openSender<number>();
      await b.accept();
      await tx.close();
      expect(a.snapshot().ended).toEqual([]);
    } finally {
      a.abort();
      b.abort();
    }
  });
});
