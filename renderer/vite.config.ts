// Vite config for the renderer. `berth serve` and the desktop app build it on demand (core/gui/renderer-build.ts)
// into renderer/dist (gitignored); relative asset paths so the same build loads from file:// in Electron.
import { defineConfig, type Plugin } from 'vite';
import vue from '@vitejs/plugin-vue';
import { fileURLToPath } from 'node:url';

const monacoEsm = fileURLToPath(new URL('../node_modules/monaco-editor/esm/', import.meta.url));

/**
 * The editor edits YAML only: Monaco's TypeScript, CSS, HTML and JSON language services (and their
 * workers, ~10 MB) are replaced by empty modules. Basic syntax highlighting of other languages stays
 * (small lazy chunks).
 */
const UNUSED_MONACO_FEATURES = /languages\/features\/(typescript|css|html|json)\/register\.js$/;
const EMPTY = '\0berth-empty-module';
const monacoYamlOnly: Plugin = {
  name: 'berth-monaco-yaml-only',
  enforce: 'pre',
  resolveId(id, importer) {
    return importer?.includes('monaco-editor') && UNUSED_MONACO_FEATURES.test(id) ? EMPTY : undefined;
  },
  load(id) {
    return id === EMPTY ? 'export {};' : undefined;
  },
};

export default defineConfig({
  root: fileURLToPath(new URL('.', import.meta.url)),
  base: './',
  plugins: [vue(), monacoYamlOnly],
  // Every component is <script setup>: Vue's Options API and production devtools hooks are dead
  // weight on the first-paint path (the entry bundle is parsed and run before anything shows).
  define: {
    __VUE_OPTIONS_API__: 'false',
    __VUE_PROD_DEVTOOLS__: 'false',
    __VUE_PROD_HYDRATION_MISMATCH_DETAILS__: 'false',
  },
  resolve: {
    // monaco-yaml's worker imports monaco-editor/esm/…, which monaco-editor's package exports map hides.
    alias: [{ find: /^monaco-editor\/esm\/(.*)$/, replacement: `${monacoEsm}$1` }],
  },
  // Module workers: Monaco's and monaco-yaml's workers split into chunks.
  worker: { format: 'es' },
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    target: 'es2022',
    sourcemap: false,
    // No inline scripts/styles: the CSP allows only 'self'.
    assetsInlineLimit: 0,
    modulePreload: { polyfill: false },
  },
});
