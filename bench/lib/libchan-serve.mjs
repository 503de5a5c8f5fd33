// The libchan bench server's behaviour, shared by every transport it is served over
// (bench/servers/libchan-ws.mjs, bench/servers/unix-libchan.mjs). Every top-level channel a
// client opens is read with `for await`; what each message is decides what happens:
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

function fail(where, error) {
  // The client ending its session (or going away) ends its channels: not worth a line.
  if (error?.name === 'SessionClosedError') return;
  // Anything else here is a library bug the suite must see: print it (the client will time out or error).
  process.stderr.write(`libchan bench server: ${where}: ${error?.stack ?? error}\n`);
}

async function reply(ret, value) {
  try {
    await ret.send(value);
    await ret.close();
  } catch (error) {
    fail('reply', error);
  }
}

async function readBody(body, ret) {
  try {
    let bytes = 0;
    for await (const chunk of body) bytes += chunk.byteLength;
    await reply(ret, bytes);
    return bytes;
  } catch (error) {
    fail('byte stream', error);
    return 0;
  }
}

export function serve(session) {
  const totals = { count: 0, bytes: 0 };
  const channel = async (rx) => {
    let replies;
    try {
      for await (const m of rx) {
        if (m !== null && typeof m === 'object' && m.ret !== undefined) {
          if (m.sync === true) void reply(m.ret, { ...totals });
          else if (m.body !== undefined) totals.bytes += await readBody(m.body, m.ret);
          else void reply(m.ret, m.i);
        } else if (m !== null && typeof m === 'object' && m.echo !== undefined && replies !== undefined) {
          replies.send(m.echo).catch((error) => fail('echo', error));
        } else if (m !== null && typeof m === 'object' && m.replies !== undefined) {
          replies = m.replies;
        } else totals.count++;
      }
    } catch (error) {
      fail('channel', error);
    }
  };
  (async () => {
    try {
      for await (const rx of session.incoming()) void channel(rx);
    } catch (error) {
      fail('incoming', error);
    }
  })();
  session.closed.catch(() => {});
}

