import { defineConfig } from 'vite';

// The console is served by Bora's API server at /ui (assets embedded in the binary).
// `npm run build -- --outDir <dir> --emptyOutDir` overrides the output directory.
// Dev only: `BORA_URL=http://127.0.0.1:PORT npx vite` proxies /v2 to a running Bora.
export default defineConfig(() => {
  const target = process.env.BORA_URL ?? 'http://127.0.0.1:8989';
  // Bora refuses cross-origin writes; the browser's Origin is the dev server's, so drop it on the way.
  const proxy = {
    '/v2': {
      target,
      changeOrigin: true,
      configure: (p: { on: (ev: string, fn: (req: { removeHeader: (h: string) => void }) => void) => void }) =>
        p.on('proxyReq', (req) => req.removeHeader('origin')),
    },
  };
  return {
    base: '/ui/',
    esbuild: { jsx: 'automatic', jsxImportSource: 'preact' },
    worker: { format: 'es' },
    // Pre-bundle ELK up front so the dev server does not reload the page on first use.
    optimizeDeps: { include: ['elkjs/lib/elk-api.js', 'elkjs/lib/elk-worker.min.js'] },
    build: {
      target: 'es2020',
      sourcemap: false,
      chunkSizeWarningLimit: 2000,
      assetsInlineLimit: 0,
    },
    server: {
      proxy,
    },
    // `npx vite preview` serves the build under the CSP the Bora server sets, to check it holds.
    preview: {
      headers: { 'Content-Security-Policy': "default-src 'self'" },
      proxy,
    },
  };
});
