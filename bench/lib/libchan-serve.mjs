// The libchan bench servers' shared pieces: the accept loop, replies on a `Ret`, and the
// request behaviour most suites use (`serve`). Used by bench/servers/libchan-ws.mjs,
// bench/servers/unix-libchan.mjs, bench/servers/libchan-webtransport.mjs (its own
// channel behaviour, the same loop and replies) and the broadcast page (in Chromium, so
// errors go to a `report` callback there instead of stderr).
//
// `serve`: every top-level channel a client opens is read with `for await`; what each
// message is decides what happens:
//
//   { sync: true, ret }    ret.send({ count, bytes }) (the session's totals so far), then close
//   { body, ret }          body (a ReadableStream) is read to the end; ret.send(byteCount), close
//   { i, ret }             ret.send(i), close: request/reply with a fresh `Ret` channel
//   { replies }            replies (a Sender) becomes this channel's long-lived reply channel
//   { echo }               replies.send(echo): request/reply over two long-lived channels
//   anything else          counted (one-way messages)
//
// Messages on one channel arrive in order, so a sync sent after N messages on that channel is
// answered after all N were received.

/**
 * The default error report (Node): a line on stderr. The client ending its session (or
 * going away, or aborting it) ends its channels: not worth a line. Anything else is a
 * library bug the suite must see (the client will time out or error).
 */
export function printError(where, error) {
  process.stderr.write(`libchan bench server: ${where}: ${error?.stack ?? error}\n`);
}

/** `report`, minus the errors of a session that ended. */
function reporter(report) {
  return (where, error) => {
    if (error?.name !== 'SessionClosedError') report(where, error);
  };
}

/** Sends `value` on `ret` and closes it; a failure is reported. */
export async function reply(ret, value, report = printError) {
  try {
    await ret.send(value);
    await ret.close();
  } catch (error) {
    reporter(report)('reply', error);
  }
}

/** Runs `channel(rx)` for every top-level channel the peer opens. */
export function acceptEach(session, channel, report = printError) {
  (async () => {
    for await (const rx of session.incoming()) void channel(rx);
  })().catch((error) => reporter(report)('incoming', error));
  session.closed.catch(() => {});
}

export function serve(session, report = printError) {
  const fail = reporter(report);
  const totals = { count: 0, bytes: 0 };
  const readBody = async (body, ret) => {
    try {
      let bytes = 0;
      for await (const chunk of body) bytes += chunk.byteLength;
      await reply(ret, bytes, report);
      return bytes;
    } catch (error) {
      fail('byte stream', error);
      return 0;
    }
  };
  acceptEach(
    session,
    async (rx) => {
      let replies;
      try {
        for await (const m of rx) {
          if (m !== null && typeof m === 'object' && m.ret !== undefined) {
            if (m.sync === true) void reply(m.ret, { ...totals }, report);
            else if (m.body !== undefined) totals.bytes += await readBody(m.body, m.ret);
            else void reply(m.ret, m.i, report);
          } else if (m !== null && typeof m === 'object' && m.echo !== undefined && replies !== undefined) {
            replies.send(m.echo).catch((error) => fail('echo', error));
          } else if (m !== null && typeof m === 'object' && m.replies !== undefined) {
            replies = m.replies;
          } else totals.count++;
        }
      } catch (error) {
        fail('channel', error);
      }
    },
    report,
  );
}
