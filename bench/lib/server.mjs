// The server side of spawnServer() (see child.mjs): import this only from a module
// that runs in a child process forked by spawnServer().

/** In a server module: tells the parent it is listening (e.g. `ready({ port })`). */
export function ready(info) {
  if (!process.send) throw new Error('ready() must run in a process started by spawnServer()');
  process.send({ type: 'ready', info });
}

/**
 * In a server module: runs `callback` when the parent calls `close()` (or disconnects),
 * then exits. Without it the child exits immediately on close.
 */
export function onClose(callback) {
  closeCallback = callback;
}

let closeCallback;
/** The longest a child lingers after its parent asked it to close (or went away). */
const HARD_EXIT_MS = 3_000;
if (process.send) {
  let shuttingDown = false;
  const shutdown = async () => {
    if (shuttingDown) return;
    shuttingDown = true;
    // A graceful close that hangs (a peer that never finishes) must not keep the child alive.
    setTimeout(() => process.exit(0), HARD_EXIT_MS).unref();
    try {
      await closeCallback?.();
    } finally {
      process.exit(0);
    }
  };
  process.on('message', (msg) => {
    if (msg?.type === 'close') void shutdown();
  });
  process.on('disconnect', () => void shutdown());
}

/**
 * In a server module: a `ws` WebSocketServer as this child's server. `ready({ port })` once
 * it listens; on close, its clients are terminated and it closes.
 */
export function serveWebSocketServer(wss) {
  wss.on('listening', () => ready({ port: wss.address().port }));
  onClose(
    () =>
      new Promise((resolve) => {
        for (const client of wss.clients) client.terminate();
        wss.close(() => resolve());
      }),
  );
}
