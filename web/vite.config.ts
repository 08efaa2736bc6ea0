import { defineConfig } from "vite";

// Built assets go into the Python package, which serves them at "/".
export default defineConfig({
  base: "/",
  build: {
    outDir: "../src/tradewire/api/static/dist",
    emptyOutDir: true,
    sourcemap: false,
    chunkSizeWarningLimit: 1000,
  },
  server: { proxy: { "/api": "http://127.0.0.1:8000", "/ws": { target: "ws://127.0.0.1:8000", ws: true } } },
});
