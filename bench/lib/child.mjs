// Servers (or peers) in a child process, so a network benchmark measures a real
// client ↔ server hop and the two ends do not share one event loop.
//
// Parent (a suite):
//   const server = await spawnServer(new URL('../servers/ws-echo.mjs', import.meta.url), { args: ['--port', '0'] });
//   const url = `ws://127.0.0.1:${server.info.port}`;
//   … measure …
//   await server.close();
//
// Child (the server module):
//   import { ready, onClose } from '../lib/server.mjs';
//   const wss = new WebSocketServer({ port: 0 });
//   wss.on('listening', () => ready({ port: wss.address().port }));
//   onClose(() => wss.close());   // optional: graceful shutdown when the parent asks
//
// Every child is killed when the benchmark process exits, even on a crash.
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const live = new Set();
let exitHookInstalled = false;

function installExitHook() {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on('exit', () => {
    for (const child of live) {
      try {
        child.kill('SIGKILL');
      } catch {
        /* already gone */
      }
    }
  });
}

/**
 * Forks `module` (a path or file URL) and resolves once it calls `ready(info)`.
 * @param {string | URL} module
 * @param {{ args?: string[], env?: Record<string, string>, execArgv?: string[], timeoutMs?: number, stdio?: 'inherit' | 'ignore' }} [options]
 * @returns {Promise<{ info: any, child: import('node:child_process').ChildProcess, close(): Promise<void> }>}
 */
export function spawnServer(module, options = {}) {
  installExitHook();
  const path = module instanceof URL || String(module).startsWith('file:') ? fileURLToPath(module) : String(module);
  const timeoutMs = options.timeoutMs ?? 10_000;
  const child = fork(path, options.args ?? [], {
    env: { ...process.env, ...options.env },
    execArgv: options.execArgv ?? [],
    stdio: options.stdio === 'ignore' ? ['ignore', 'ignore', 'ignore', 'ipc'] : ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  live.add(child);
  const exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  exited.then(() => live.delete(child));

  const close = async (graceMs = 2_000) => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    if (child.connected) child.send({ type: 'close' });
    else child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
    await exited;
    clearTimeout(timer);
  };

  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${path}: not ready within ${timeoutMs} ms`));
    }, timeoutMs);
    child.on('message', (msg) => {
      if (msg?.type === 'ready') {
        clearTimeout(timer);
        resolve({ info: msg.info ?? {}, child, close });
      }
    });
    exited.then(({ code, signal }) => {
      clearTimeout(timer);
      reject(new Error(`${path} exited before ready (code ${code}, signal ${signal})`));
    });
  });
}
