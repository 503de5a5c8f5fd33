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
    /** Sends `value` with a fresh reply channel `ret`; resolves with the one reply. */
    async request(value) {
      const [replies, ret] = pipe();
      await tx.send({ ...value, ret });
      return replies.receive();
    },
    async close() {
      await tx.close();
      await session.close();
    },
  };
}
