/**
 * Sessions over MessagePort-like objects: the shared scenario suite over a
 * real `MessageChannel` (structured clone + transfer), and a real
 * `worker_threads` Worker running the built library (test/fixtures/echo-worker.mjs).
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import ts from 'typescript';
import { afterEach, describe, expect, it } from 'vitest';
import {
  connectPort,
  pipe,
  SessionClosedError,
  type Receiver,
  type Sender,
  type Session,
  type SessionOptions,
} from '../../src/index.js';
import { byteSource, bytes, collect, range, rejectionOf, sameBytes, track } from './helpers.js';
import { scenarioSuite } from './scenarios.js';

scenarioSuite('connectPort over MessageChannel', async (optionsA, optionsB) => {
  const { port1, port2 } = new MessageChannel();
  const a = connectPort(port1, optionsA);
  const b = connectPort(port2, optionsB ?? optionsA);
  return {
    a,
    b,
    async cleanup() {
      port1.close();
      port2.close();
    },
  };
});

describe('connectPort over MessageChannel: a lost link', () => {
  it('closing a port under live sessions rejects pending calls on both sides with SessionClosedError; for-await throws', async () => {
    const { port1, port2 } = new MessageChannel();
    const a = connectPort(port1);
    const b = connectPort(port2);
    try {
      await Promise.all([a.ready, b.ready]);
      const tx = await a.openSender<number>();
      const rx = await b.accept<number>();
      const back = await b.openSender<number>();
      const backRx = await a.accept<number>();
      await tx.send(1);
      expect(await rx.receive()).toBe(1);
      const loop = track(
        (async () => {
          for await (const v of rx) void v;
          return 'ended quietly';
        })(),
      );
      const pendingA = track(backRx.receive());
      const pendingAccept = track(b.accept());
      port2.close(); // the link goes away without GOAWAY
      expect(await rejectionOf(loop.promise)).toBeInstanceOf(SessionClosedError);
      expect(await rejectionOf(pendingA.promise)).toBeInstanceOf(SessionClosedError);
      expect(await rejectionOf(pendingAccept.promise)).toBeInstanceOf(SessionClosedError);
      await expect(a.closed).rejects.toBeInstanceOf(SessionClosedError);
      await expect(b.closed).rejects.toBeInstanceOf(SessionClosedError);
      await expect(back.send(2)).rejects.toBeInstanceOf(SessionClosedError);
    } finally {
      a.abort();
      b.abort();
      port1.close();
      port2.close();
    }
  });
});

type Request =
  | { op: 'echo'; value: unknown; ret: Sender<unknown> }
  | { op: 'stream'; count: number; ret: Sender<number> }
  | { op: 'bytes'; readable: ReadableStream<Uint8Array>; ret: Sender<{ length: number; sha256: string }> };

describe('connectPort over worker_threads (echo worker, built library)', () => {
  const workers: { worker: Worker; session: Session }[] = [];

  async function start(options?: SessionOptions): Promise<{ worker: Worker; session: Session; requests: Sender<Request> }> {
    const worker = new Worker(new URL('../fixtures/echo-worker.mjs', import.meta.url), { workerData: { options: options ?? {} } });
    const session = connectPort(worker, options);
    workers.push({ worker, session });
    await session.ready;
    const requests = await session.openSender<Request>();
    return { worker, session, requests };
  }

  afterEach(async () => {
    for (const { worker, session } of workers.splice(0)) {
      session.abort(new Error('test over'));
      await worker.terminate();
    }
  });

  it('Ret echo with Date, Map and Uint8Array values', async () => {
    const { requests } = await start();
    const value = {
      when: new Date(Date.UTC(2023, 4, 5, 6, 7, 8)),
      map: new Map<unknown, unknown>([
        ['a', 1],
        [2, new Set(['x'])],
      ]),
      data: bytes(100_000, 42),
      nothing: undefined,
      big: 10n ** 30n,
    };
    const [replies, ret] = pipe<unknown>();
    await requests.send({ op: 'echo', value, ret });
    const got = (await replies.receive()) as typeof value;
    expect(got.when).toBeInstanceOf(Date);
    expect(got.when.getTime()).toBe(value.when.getTime());
    expect(got.map).toBeInstanceOf(Map);
    expect(got.map).toEqual(value.map);
    sameBytes(got.data, value.data);
    expect('nothing' in got).toBe(true);
    expect(got.big).toBe(10n ** 30n);
    await expect(replies.receive()).rejects.toMatchObject({ name: 'ChannelClosedError', code: 'CLOSED' });

    // Many concurrent Ret round trips on one request channel.
    const answers = await Promise.all(
      range(200).map(async (i) => {
        const [r, s] = pipe<unknown>();
        await requests.send({ op: 'echo', value: { i }, ret: s });
        return r.receive();
      }),
    );
    expect(answers).toEqual(range(200).map((i) => ({ i })));
  });

  it('a stream of 10,000 values arrives in order', async () => {
    const { requests } = await start();
    const [values, ret] = pipe<number>();
    await requests.send({ op: 'stream', count: 10_000, ret });
    expect(await collect(values)).toEqual(range(10_000));
  });

  it("a 2 MiB byte stream's SHA-256 matches on the worker", async () => {
    const { requests } = await start();
    const source = byteSource(2 * 1024 * 1024, 64 * 1024, 21);
    const [result, ret] = pipe<{ length: number; sha256: string }>();
    await requests.send({ op: 'bytes', readable: source.stream, ret });
    expect(await result.receive()).toEqual({ length: 2 * 1024 * 1024, sha256: source.sha256 });
  });

  it('terminating the worker mid-stream rejects the pending receive with SessionClosedError', async () => {
    const { worker, session, requests } = await start();
    const [values, ret] = pipe<number>();
    await requests.send({ op: 'stream', count: 100_000_000, ret });
    for (let i = 0; i < 100; i++) expect(await values.receive()).toBe(i);
    const stopping = worker.terminate();
    // Drain whatever already arrived; the channel must end with a session error, not quietly.
    const error = await rejectionOf(
      (async () => {
        for (;;) await values.receive();
      })(),
    );
    await stopping;
    expect(error).toBeInstanceOf(SessionClosedError);
    await expect(session.closed).rejects.toBeInstanceOf(SessionClosedError);
    await expect(requests.send({ op: 'stream', count: 1, ret: pipe<number>()[1] })).rejects.toBeInstanceOf(SessionClosedError);
  }, 15_000);

  it('the worker sees a Receiver handed to it as a live channel (nested channel through a worker)', async () => {
    const { requests } = await start();
    // The echo op sends the value back: a Receiver inside it crosses twice and stays live.
    const [inner, innerTx] = pipe<string>();
    const [replies, ret] = pipe<unknown>();
    await requests.send({ op: 'echo', value: { inner }, ret });
    const back = (await replies.receive()) as { inner: Receiver<string> };
    const got = collect(back.inner);
    for (const s of ['one', 'two', 'three']) await innerTx.send(s);
    await innerTx.close();
    expect(await got).toEqual(['one', 'two', 'three']);
  });
});

describe('connectPort parameter type', () => {
  it('accepts a worker_threads Worker, parentPort, a worker_threads MessagePort and a DOM MessagePort (TypeScript)', () => {
    const here = path.dirname(fileURLToPath(import.meta.url));
    const root = path.resolve(here, '../../../..');
    const virtual = path.join(here, '__connect_port_types__.ts');
    const source = [
      "import { MessageChannel as NodeMessageChannel, parentPort, Worker } from 'node:worker_threads';",
      "import { connectPort } from '../../src/index.js';",
      'declare const worker: Worker;',
      'connectPort(worker);',
      'if (parentPort) connectPort(parentPort);',
      'connectPort(new NodeMessageChannel().port1);',
      'connectPort(new MessageChannel().port1);',
      '',
    ].join('\n');
    const config = ts.getParsedCommandLineOfConfigFile(path.join(root, 'tsconfig.test.json'), {}, {
      ...ts.sys,
      onUnRecoverableConfigFileDiagnostic: (d) => {
        throw new Error(ts.flattenDiagnosticMessageText(d.messageText, '\n'));
      },
    });
    if (!config) throw new Error('cannot read tsconfig.test.json');
    const options = { ...config.options, noEmit: true };
    const host = ts.createCompilerHost(options);
    const getSourceFile = host.getSourceFile.bind(host);
    host.getSourceFile = (fileName, language, ...rest) =>
      path.resolve(fileName) === virtual ? ts.createSourceFile(fileName, source, language) : getSourceFile(fileName, language, ...rest);
    const fileExists = host.fileExists.bind(host);
    host.fileExists = (fileName) => path.resolve(fileName) === virtual || fileExists(fileName);
    const program = ts.createProgram([virtual], options, host);
    const errors = ts
      .getPreEmitDiagnostics(program)
      .filter((d) => d.file !== undefined && path.resolve(d.file.fileName) === virtual)
      .map((d) => {
        const { line } = d.file!.getLineAndCharacterOfPosition(d.start ?? 0);
        return `${source.split('\n')[line]}  →  ${ts.flattenDiagnosticMessageText(d.messageText, ' ').slice(0, 300)}`;
      });
    expect(errors).toEqual([]);
  }, 60_000);
});
