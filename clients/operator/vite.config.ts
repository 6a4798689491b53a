import { defineConfig } from "vite";

// Preact's JSX through esbuild (no Babel); the build goes to dist/, which core-bus serves at its root.
export default defineConfig({
  esbuild: { jsx: "automatic", jsxImportSource: "preact" },
  build: { outDir: "dist", emptyOutDir: true, sourcemap: false, target: "es2022" },
  test: { environment: "node", include: ["src/**/*.test.ts"] },
});
