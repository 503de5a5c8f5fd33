// A libchan sink for the webtransport suite, over WebTransport (`listenWebTransport`,
// @fails-components, HTTP/2 in Node; argument `wt`) or over WebSocket (`listenWebSocket`;
// argument `ws`). Both serve sessions the same way. Every top-level channel
// a client opens is read with `for await`; what each message is decides what happens:
//
//   Uint8Array             its bytes are added to the channel's count
//   { sync: true, ret }    ret.send(bytes counted on this channel since its last sync), close
//   { stall: true }        the channel is never read again: its stream window fills and
//                          the client's sender blocks (the head-of-line case)
//
// Messages on one channel arrive in order, so a sync sent after a channel's chunks is
// answered after all of them were received.
//
//   const wt = await spawnServer(new URL('../servers/libchan-webtransport.mjs', import.meta.url), { args: ['wt'] });
//   wt.info → { url, http3, certificateHash: { algorithm, value: number[] } }
//   const ws = await spawnServer(…, { args: ['ws'] });   ws.info → { url }
import { listenWebTransport } from '../../packages/transport-webtransport/dist/node.js';
import { listenWebSocket } from '../../packages/transport-ws/dist/node.js';
import { acceptEach, printError, reply } from '../lib/libchan-serve.mjs';
import { onClose, ready } from '../lib/server.mjs';

function serve(session) {
  const channel = async (rx) => {
    let bytes = 0;
    try {
      for await (const m of rx) {
        if (m instanceof Uint8Array) bytes += m.byteLength;
        else if (m !== null && typeof m === 'object' && m.sync === true) {
          void reply(m.ret, bytes);
          bytes = 0;
        } else if (m !== null && typeof m === 'object' && m.stall === true) {
          // Never read this channel again (it is dropped when the session ends).
          return new Promise(() => {});
        } else printError('channel', new Error(`unexpected message ${String(m)}`));
      }
    } catch (error) {
      // The client ending its session (or aborting it, as the head-of-line rounds do) ends its channels.
      if (error?.name !== 'SessionClosedError') printError('channel', error);
    }
  };
  acceptEach(session, channel);
}

// One transport per child: `wt` (default) or `ws` as the first argument.
const which = process.argv[2] ?? 'wt';
if (which === 'wt') {
  const wt = await listenWebTransport({ port: 0, host: '127.0.0.1', path: '/chan', closeTimeoutMs: 1000 }, (session) => serve(session));
  ready({
    url: wt.url,
    http3: wt.http3,
    certificateHash: { algorithm: wt.certificateHash.algorithm, value: [...wt.certificateHash.value] },
  });
  onClose(() => wt.close());
} else if (which === 'ws') {
  const ws = await listenWebSocket({ port: 0, host: '127.0.0.1', closeTimeoutMs: 1000 }, (session) => serve(session));
  ready({ url: ws.url });
  onClose(() => ws.close());
} else throw new Error(`unknown transport ${which} (wt or ws)`);
