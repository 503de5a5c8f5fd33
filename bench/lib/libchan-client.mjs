// The libchan side of the network suites (ws, unix): one top-level channel to a bench
// server (bench/lib/libchan-serve.mjs), requests that carry a fresh `Ret`, and a close
// that ends the channel and then the session gracefully.
import { pipe } from '../../packages/core/dist/index.js';

/** Opens the channel on `session` (already connected). */
export async function libchanClient(session) {
  const tx = await session.openSender();
  return {
    session,
    tx,
    /**
     * Sends `build(ret)` with a fresh reply channel `ret`; resolves with the one reply.
     * The caller writes the request as an object literal ({ i, ret }), as an application
     * would: built with a spread ({ ...value, ret }), V8 (Node 20) gives each request an
     * object map of its own, which cost ~7 µs per request/reply here (2026-11-26).
     */
    async request(build) {
      const [replies, ret] = pipe();
      await tx.send(build(ret));
      return replies.receive();
    },
    async close() {
      await tx.close();
      await session.close();
    },
  };
}
