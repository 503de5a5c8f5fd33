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
if (process.send) {
  const shutdown = async () => {
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
