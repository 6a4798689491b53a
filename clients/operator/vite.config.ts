import { defineConfig } from "vite";

// Preact's JSX through esbuild (no Babel); the build goes to dist/, which core-bus serves at its root.
export default defineConfig({
  esbuild: { jsx: "automatic", jsxImportSource: "preact" },
  // the phone library in a chunk of its own: cached apart from the client, and weighed apart
  build: {
    outDir: "dist", emptyOutDir: true, sourcemap: false, target: "es2022",
    rollupOptions: { output: { manualChunks: (id) => (id.includes("node_modules/jssip") ? "phone" : undefined) } },
  },
  test: { environment: "node", include: ["src/**/*.test.ts"] },
});
