/**
 * Same-host processes: sessions over Unix sockets, TCP and a child's stdio
 * (@libchan/core/node), and over any web byte stream (connectStream).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { connectStream, pipe, SessionClosedError, type Sender, type Session } from '../../src/index.js';
import { PassThrough, Writable } from 'node:stream';
import { connectSocket, connectStdio, listenSocket, NodeStreamLink, type SocketListener } from '../../src/node/index.js';
import { scenarioSuite } from '../session/scenarios.js';

const fixture = fileURLToPath(new URL('../fixtures/echo-process.mjs', import.meta.url));
const tmp = mkdtempSync(join(tmpdir(), 'libchan-'));
let socketCount = 0;

async function socketPair(address: { path: string } | { port: number }, optionsA?: object, optionsB?: object) {
  let resolveB!: (s: Session) => void;
  const bReady = new Promise<Session>((resolve) => (resolveB = resolve));
  const listener: SocketListener = await listenSocket(address, resolveB, optionsB ?? optionsA);
  const where = 'path' in address ? address : { port: (listener.address as { port: number }).port };
  const a = await connectSocket(where, optionsA);
  const b = await bReady;
  return {
    a,
    b,
    async cleanup() {
      a.abort();
      b.abort();
      await listener.close();
    },
  };
}

scenarioSuite('Unix socket', (optionsA, optionsB) => socketPair({ path: join(tmp, `s${socketCount++}.sock`) }, optionsA, optionsB));
scenarioSuite('TCP loopback', (optionsA, optionsB) => socketPair({ port: 0 }, optionsA, optionsB));
scenarioSuite('connectStream over web streams', async (optionsA, optionsB) => {
  const ab = new TransformStream<Uint8Array, Uint8Array>();
  const ba = new TransformStream<Uint8Array, Uint8Array>();
  const a = connectStream({ readable: ba.readable, writable: ab.writable }, optionsA);
  const b = connectStream({ readable: ab.readable, writable: ba.writable }, optionsB ?? optionsA);
  return { a, b, cleanup: async () => {} };
});

type Request =
  | { op: 'echo'; value: unknown; ret: Sender<unknown> }
  | { op: 'stream'; count: number; ret: Sender<number> }
  | { op: 'bytes'; readable: ReadableStream<Uint8Array>; ret: Sender<{ length: number; sha256: string }> };

const children: ChildProcess[] = [];
const sessions: Session[] = [];
afterEach(() => {
  for (const s of sessions.splice(0)) s.abort(new Error('test over'));
  for (const c of children.splice(0)) c.kill('SIGKILL');
});

function startChild(args: string[]): { child: ChildProcess; ready: Promise<string> } {
  const child = spawn(process.execPath, [fixture, ...args], { stdio: ['pipe', 'pipe', 'inherit'] });
  children.push(child);
  const ready = new Promise<string>((resolve, reject) => {
    let out = '';
    const onData = (d: Buffer): void => {
      out += d.toString();
      if (out.includes('\n')) {
        child.stdout?.off('data', onData);
        resolve(out.trim());
      }
    };
    child.stdout?.on('data', onData);
    child.once('exit', (code) => reject(new Error(`child exited with ${code}`)));
  });
  ready.catch(() => {}); // stdio children print nothing: nobody awaits this for them
  return { child, ready };
}

async function connectTo(mode: 'unix' | 'tcp' | 'stdio'): Promise<{ child: ChildProcess; session: Session }> {
  if (mode === 'stdio') {
    const { child } = startChild(['stdio']);
    const session = connectStdio(child.stdout!, child.stdin!);
    sessions.push(session);
    await session.ready;
    return { child, session };
  }
  const path = join(tmp, `child${socketCount++}.sock`);
  const { child, ready } = startChild(mode === 'unix' ? ['unix', path] : ['tcp']);
  const line = await ready;
  const session = await connectSocket(mode === 'unix' ? { path } : { port: Number(line.split(' ')[1]) });
  sessions.push(session);
  return { child, session };
}

for (const mode of ['unix', 'tcp', 'stdio'] as const) {
  describe(`a real child process over ${mode}`, () => {
    it('Ret echo keeps rich values; a stream of 10,000 values arrives in order; a 2 MiB byte stream hashes the same', async () => {
      const { session } = await connectTo(mode);
      const requests = await session.openSender<Request>();
      const [replies, ret] = pipe<unknown>();
      const value = { when: new Date(5), map: new Map([[1, new Set(['x'])]]), big: 2n ** 70n, data: new Uint8Array([1, 2, 3]) };
      await requests.send({ op: 'echo', value, ret });
      expect(await replies.receive()).toEqual(value);

      const [numbers, numbersTx] = pipe<number>();
      await requests.send({ op: 'stream', count: 10_000, ret: numbersTx });
      let expected = 0;
      for await (const n of numbers) expect(n).toBe(expected++);
      expect(expected).toBe(10_000);

      const data = new Uint8Array(2 * 1024 * 1024);
      for (let i = 0; i < data.length; i++) data[i] = (i * 31) & 0xff;
      const readable = new ReadableStream<Uint8Array>({
        start(controller) {
          for (let o = 0; o < data.length; o += 64 * 1024) controller.enqueue(data.slice(o, o + 64 * 1024));
          controller.close();
        },
      });
      const [answer, answerTx] = pipe<{ length: number; sha256: string }>();
      await requests.send({ op: 'bytes', readable, ret: answerTx });
      expect(await answer.receive()).toEqual({ length: data.length, sha256: createHash('sha256').update(data).digest('hex') });
    }, 30_000);

    it('a child that dies mid-stream settles the pending receive with SessionClosedError', async () => {
      const { child, session } = await connectTo(mode);
      const requests = await session.openSender<Request>();
      const [numbers, numbersTx] = pipe<number>();
      await requests.send({ op: 'stream', count: 1_000_000_000, ret: numbersTx });
      expect(await numbers.receive()).toBe(0);
      child.kill('SIGKILL');
      let error: unknown;
      try {
        for (;;) await numbers.receive();
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(SessionClosedError);
      await expect(session.closed).rejects.toBeInstanceOf(SessionClosedError);
    }, 30_000);
  });
}

describe('Unix socket files', () => {
  it('a stale socket file is replaced; a live one is refused with a clear error', async () => {
    const path = join(tmp, 'stale.sock');
    writeFileSync(path, '');
    const listener = await listenSocket({ path }, () => {});
    await expect(listenSocket({ path }, () => {})).rejects.toThrow(/already listening/);
    await listener.close();
    expect(existsSync(path)).toBe(false);
  });
});

/** A real Writable whose writes complete when the test says (a socket the kernel has not drained); `writes` holds the write in progress. */
function heldWritable(highWaterMark: number): { output: Writable; writes: { chunk: Uint8Array; written: () => void }[] } {
  const writes: { chunk: Uint8Array; written: () => void }[] = [];
  const output = new Writable({
    highWaterMark,
    write(chunk: Uint8Array, _encoding, callback) {
      writes.push({ chunk, written: () => callback() });
    },
  });
  return { output, writes };
}

describe('NodeStreamLink: reused batch buffers', () => {
  it('a big batch\'s buffer goes back only when the stream has written it: writes still pending never share memory', async () => {
    const { output, writes } = heldWritable(64 * 1024 * 1024);
    const link = new NodeStreamLink(new PassThrough(), output);
    link.start({ frame: () => {}, drain: () => {}, end: () => {} });
    const batch = (fill: number): void => {
      link.sendSplit(new Uint8Array([fill]), new Uint8Array(600 * 1024).fill(fill));
      link.flush();
    };
    batch(0);
    // The first write is in progress; the stream queues the next ones with their callbacks.
    for (let i = 1; i < 4; i++) batch(i);
    const queued = (): Uint8Array[] => [...writes.map((w) => w.chunk), ...((output as unknown as { writableBuffer: { chunk: Uint8Array }[] }).writableBuffer ?? []).map((w) => w.chunk)];
    expect(new Set(queued().map((c) => c.buffer)).size, 'four batches not yet written').toBe(4);
    // Completing the first write lets the stream hand it back (its callback runs on a later tick).
    const first = writes[0]!.chunk.buffer;
    writes[0]!.written();
    await new Promise((resolve) => setImmediate(resolve));
    batch(4);
    const all = queued();
    expect(all.some((c) => c.buffer === first && c[c.byteLength - 1] === 4), 'the written batch\'s buffer carries the next').toBe(true);
    // The batches still waiting hold their own bytes.
    for (const c of all) expect([1, 2, 3, 4]).toContain(c[c.byteLength - 1]);
    link.close(new Error('test over'));
  });
});

describe('NodeStreamLink: backpressure', () => {
  it('data frames pause above 1 MiB waiting to be written and resume below 256 KiB, not only once all is written; a batch stays within 1 MiB', async () => {
    const { output, writes } = heldWritable(16 * 1024);
    const link = new NodeStreamLink(new PassThrough(), output);
    let drains = 0;
    link.start({ frame: () => {}, drain: () => drains++, end: () => {} });
    const frame = new Uint8Array(64 * 1024);
    let accepted = 0;
    // Bounded: a link that never says "pause" fails the expectation below instead of looping.
    while (accepted < 64 && link.sendSplit(new Uint8Array(8), frame)) accepted++;
    // Up to 1 MiB is taken in one tick: more than the stream's own 16 KiB highWaterMark.
    expect(accepted).toBeGreaterThanOrEqual(14);
    expect(accepted).toBeLessThan(17);
    link.flush();
    for (const { chunk } of writes) expect(chunk.byteLength).toBeLessThanOrEqual(1024 * 1024);
    const completeNext = async (): Promise<void> => {
      writes.shift()!.written();
      await new Promise((resolve) => setImmediate(resolve));
    };
    // The first (only) write completes: nothing is left, the frames resume.
    expect(writes.length).toBeGreaterThanOrEqual(1);
    while (writes.length > 0 && drains === 0) await completeNext();
    expect(drains).toBe(1);
    // Now fill again across several batches and complete writes one by one: the frames resume
    // while about 256 KiB still wait, before everything is written.
    let sent = 0;
    while (sent++ < 64 && link.sendSplit(new Uint8Array(8), frame)) link.flush();
    link.flush();
    expect(sent).toBeLessThan(64);
    const queuedBefore = output.writableLength;
    expect(queuedBefore).toBeGreaterThan(1024 * 1024 - 64 * 1024);
    while (drains === 1 && writes.length > 0) await completeNext();
    expect(drains).toBe(2);
    expect(output.writableLength).toBeGreaterThan(0);
    expect(output.writableLength).toBeLessThanOrEqual(256 * 1024);
    link.close(new Error('test over'));
  });
});
