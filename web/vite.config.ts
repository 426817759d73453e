import { defineConfig } from 'vite';
import react from '@vitejs/plugin-react';

// The dashboard is built into web/dist and served by `lineguard serve` at / (pages) and /assets/ (hashed files).
export default defineConfig({
  root: import.meta.dirname,
  base: '/',
  plugins: [react()],
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    assetsDir: 'assets',
    sourcemap: false,
    chunkSizeWarningLimit: 600,
  },
});
