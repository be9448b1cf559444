import { defineConfig } from 'vite';

// `npm run dev`: Vite on :3000 with hot reload, the API proxied from :8000.
export default defineConfig({
  server: {
    port: 3000,
    proxy: {
      '/api': 'http://localhost:8000',
      '/health': 'http://localhost:8000',
      '/dev/mail': 'http://localhost:8000',
    },
  },
  build: { outDir: 'dist', emptyOutDir: true },
});
