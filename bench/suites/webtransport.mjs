// libchan over WebTransport against libchan over WebSocket (the baseline), with N
// concurrent top-level channels (issue "transport-webtransport"). The client runs in this
// suite's process; each server runs in its own child process (bench/servers/
// libchan-webtransport.mjs, argument `wt` or `ws`), 127.0.0.1.
//
// In Node, WebTransport is @fails-components' implementation. Without its quiche add-on
// (not installed here) both ends use its HTTP/2 mapping of WebTransport: pure JS, over one
// TLS/TCP connection, not QUIC. The listener's self-signed certificate is accepted through
// `serverCertificateHashes`, as in packages/transport-webtransport/test/helpers.ts.
//
//   N channels   N = 1, 8, 64. Each round sends TOTAL bytes (64 MiB) as 64 KiB Uint8Array
//                messages, split evenly over N channels opened once per case; every channel
//                runs `for (…) await tx.send(chunk)` concurrently with the others, then sends
//                `{ sync: true, ret }` and waits for the server's byte count for that channel
//                (checked). A round ends when every channel's count is back.
//                Rows: aggregate MiB/s (TOTAL ÷ round time) and per-channel MiB/s (the median
//                over channels of that channel's bytes ÷ the time its count came back).
//   head-of-line N = 8: channel 0 sends `{ stall: true }`, after which the server never reads
//                it; the client keeps sending on it until its sends block (the stream window
//                is full, nothing moved for STALL_QUIET_MS). Then the other 7 channels stream
//                TOTAL_HOL bytes per round as above. Rows: the 7 channels' aggregate MiB/s.
//                The stalled channel stays blocked for the whole case; its session is aborted
//                at the end.
//
// Own round loop (warm-up + timed rounds from the run's --warmup/--rounds) so that each round
// gives both an aggregate and a per-channel number; report.record() makes the rows.
import WebSocket from 'ws';
import { pipe } from '../../packages/core/dist/index.js';
import { connectWebSocket } from '../../packages/transport-ws/dist/node.js';
import { connectWebTransport } from '../../packages/transport-webtransport/dist/node.js';
import { spawnServer } from '../lib/child.mjs';
import { withTimeout as sharedWithTimeout } from '../lib/measure.mjs';

export const name = 'webtransport';

const CHUNK = 64 * 1024;
const MiB = 1024 * 1024;
const CHANNEL_COUNTS = [1, 8, 64];
/** A round (or a connection, or a close) that takes longer than this is a hang: fail with what hung. */
const ROUND_TIMEOUT_MS = 20_000;
/** The stalled channel counts as blocked once no send has completed for this long. */
const STALL_QUIET_MS = 500;

const serverUrl = new URL('../servers/libchan-webtransport.mjs', import.meta.url);

const withTimeout = (promise, what, ms = ROUND_TIMEOUT_MS) => sharedWithTimeout('webtransport', promise, what, ms);

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

const transports = {
  ws: {
    label: 'WebSocket',
    connect: (info) => connectWebSocket(info.url, { WebSocket }),
  },
  wt: {
    label: 'WebTransport (@fails-components, HTTP/2)',
    connect: (info) =>
      connectWebTransport(info.url, {
        serverCertificateHashes: [{ algorithm: info.certificateHash.algorithm, value: Uint8Array.from(info.certificateHash.value) }],
      }),
  },
};

async function sync(tx) {
  const [replies, ret] = pipe();
  await tx.send({ sync: true, ret });
  return replies.receive();
}

/**
 * One round: `bytesPerChannel` on each of `senders`, concurrently, each followed by a sync.
 * Returns { ms, perChannel: MiB/s of each channel }.
 */
async function round(senders, bytesPerChannel, chunk, what) {
  const t0 = performance.now();
  const done = await withTimeout(
    Promise.all(
      senders.map(async (tx, k) => {
        for (let sent = 0; sent < bytesPerChannel; sent += CHUNK) await tx.send(chunk);
        const got = await sync(tx);
        if (got !== bytesPerChannel) throw new Error(`${what}: channel ${k}: server counted ${got} of ${bytesPerChannel} bytes`);
        return performance.now() - t0;
      }),
    ),
    what,
  );
  const ms = performance.now() - t0;
  return { ms, perChannel: done.map((t) => bytesPerChannel / MiB / (t / 1e3)) };
}

async function runRounds(report, bytesPerChannel, senders, chunk, what) {
  const { warmup, rounds } = report.options;
  const total = bytesPerChannel * senders.length;
  const aggregate = [];
  const perChannel = [];
  const slowest = [];
  for (let i = 0; i < warmup + rounds; i++) {
    globalThis.gc?.();
    const r = await round(senders, bytesPerChannel, chunk, what);
    if (i < warmup) continue;
    aggregate.push(total / MiB / (r.ms / 1e3));
    perChannel.push(median(r.perChannel));
    slowest.push(Math.min(...r.perChannel));
  }
  return { aggregate, perChannel, slowest };
}

export async function run(report) {
  const started = performance.now();
  const chunk = new Uint8Array(CHUNK);
  for (let i = 0; i < CHUNK; i++) chunk[i] = i * 31;
  // The chunk is never written to after this, so sending the same one every time is safe.

  const servers = {};
  try {
    servers.ws = await spawnServer(serverUrl, { args: ['ws'] });
    servers.wt = await spawnServer(serverUrl, { args: ['wt'] });
    const slowNotes = [];

    for (const n of CHANNEL_COUNTS) {
      const total = Math.ceil(report.scale(64 * MiB) / (CHUNK * n)) * CHUNK * n;
      const group = `${n} channel${n === 1 ? '' : 's'}, ${total / MiB} MiB/round`;
      for (const key of ['ws', 'wt']) {
        const t = transports[key];
        const what = `${t.label}, ${n} channels`;
        const session = await withTimeout(t.connect(servers[key].info), `${t.label}: connect`);
        try {
          const senders = await withTimeout(Promise.all(Array.from({ length: n }, () => session.openSender())), `${what}: openSender`);
          const r = await runRounds(report, total / n, senders, chunk, what);
          const common = { group, unit: 'MiB/s', baseline: key === 'ws' };
          report.record(`${t.label}: ${n} × await tx.send(64 KiB)`, { ...common, metric: 'aggregate', samples: r.aggregate });
          report.record(`${t.label}: ${n} × await tx.send(64 KiB)`, { ...common, metric: 'per channel (median)', samples: r.perChannel });
          if (n > 1) slowNotes.push(`${t.label}, N=${n}: slowest channel ${median(r.slowest).toFixed(1)} MiB/s (median over rounds)`);
          await withTimeout(Promise.all(senders.map((tx) => tx.close())), `${what}: close senders`);
          await withTimeout(session.close(), `${what}: session close`);
        } catch (error) {
          session.abort(error);
          throw error;
        }
      }
    }

    // Head-of-line: one of 8 channels stalled at the receiver, 7 streaming.
    const streaming = 7;
    const totalHol = Math.ceil(report.scale(32 * MiB) / (CHUNK * streaming)) * CHUNK * streaming;
    const group = `8 channels, 1 never read, ${totalHol / MiB} MiB/round on the other 7`;
    const stallNotes = [];
    for (const key of ['ws', 'wt']) {
      const t = transports[key];
      const what = `${t.label}, head-of-line`;
      const session = await withTimeout(t.connect(servers[key].info), `${t.label}: connect`);
      try {
        const [stalled, ...senders] = await withTimeout(Promise.all(Array.from({ length: 1 + streaming }, () => session.openSender())), `${what}: openSender`);
        await stalled.send({ stall: true });
        let stalledBytes = 0;
        let lastProgress = performance.now();
        void (async () => {
          try {
            for (;;) {
              await stalled.send(chunk);
              stalledBytes += CHUNK;
              lastProgress = performance.now();
            }
          } catch {
            /* the session is aborted at the end of the case */
          }
        })();
        const waitStart = performance.now();
        while (performance.now() - lastProgress < STALL_QUIET_MS) {
          if (performance.now() - waitStart > ROUND_TIMEOUT_MS) throw new Error(`${what}: the stalled channel never blocked (${stalledBytes} bytes sent)`);
          await new Promise((resolve) => setTimeout(resolve, 50));
        }
        const blockedAt = stalledBytes;
        const r = await runRounds(report, totalHol / streaming, senders, chunk, what);
        report.record(`${t.label}: 7 streaming, 1 stalled`, { group, unit: 'MiB/s', baseline: key === 'ws', metric: 'aggregate (7 ch.)', samples: r.aggregate });
        stallNotes.push(
          `${t.label}: the stalled channel's sends blocked after ${(blockedAt / MiB).toFixed(2)} MiB; ${(stalledBytes / MiB).toFixed(2)} MiB had been sent on it when the case ended`,
        );
      } finally {
        session.abort(new Error('head-of-line case done'));
      }
    }

    report.note(
      'Client in the suite process, each server in its own child process, 127.0.0.1. 64 KiB Uint8Array messages; default session options ' +
        '(1 MiB stream window, 16 MiB session window). WebTransport is @fails-components in Node over its HTTP/2 mapping ' +
        `(listener http3: ${servers.wt.info.http3}), pure JS over one TCP connection, not QUIC.`,
    );
    for (const line of [...slowNotes, ...stallNotes]) report.note(line);
    report.note(`Suite time: ${((performance.now() - started) / 1e3).toFixed(1)} s.`);
  } finally {
    await Promise.all(Object.values(servers).map((s) => s.close()));
  }
}
