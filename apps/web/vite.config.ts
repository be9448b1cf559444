import tailwindcss from '@tailwindcss/vite';
import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';
import { bundleReport } from './build/bundle-report.ts';

// 127.0.0.1, not localhost: the API listens on IPv4 loopback, and localhost may resolve to ::1.
const API = process.env.API_PROXY_TARGET ?? `http://127.0.0.1:${process.env.PORT || 8000}`;

// `npm run dev` (repo root): Vite on :3000 with hot reload, the API proxied from $PORT (one origin
// for cookies). For the split-origin setup instead, build or run with VITE_API_URL=http://localhost:8000.
export default defineConfig(({ command }) => {
  // A build is always for production: with NODE_ENV=development in the shell, Vite would bundle
  // React's development build (twice the size, dev-only warnings) and `npm start` would serve it.
  if (command === 'build') process.env.NODE_ENV = 'production';
  return {
    plugins: [react(), tailwindcss(), bundleReport()],
    server: {
      port: 3000,
      strictPort: true,
      proxy: { '/api': API, '/health': API, '/dev/': API },
    },
    build: { outDir: 'dist', emptyOutDir: true, sourcemap: false },
  };
});
