// Builds the demo page: `vite build apps/demo` (from the repository root) → apps/demo/dist,
// which apps/demo/server.mjs serves. `vite apps/demo` gives a dev server whose /chan
// and /config.json are proxied to a running demo server on DEMO_SERVER (default :5173).
import { defineConfig } from 'vite';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('.', import.meta.url));
const backend = process.env.DEMO_SERVER ?? 'http://127.0.0.1:5173';

export default defineConfig({
  root,
  base: '/',
  publicDir: 'public',
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    target: 'es2022',
    sourcemap: true,
    reportCompressedSize: false,
  },
  server: {
    port: 5174,
    proxy: {
      '/config.json': backend,
      '/chan': { target: backend.replace(/^http/, 'ws'), ws: true },
    },
  },
});
