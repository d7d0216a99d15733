import { fileURLToPath } from 'node:url'
import { defineConfig } from 'vite'
import uniPlugin from '@dcloudio/vite-plugin-uni'
import { contractAsJson } from './scripts/contract-as-json'

// The package is CommonJS with `exports.default`: under ESM the plugin factory sits on `.default`.
type UniFactory = typeof uniPlugin
const uni: UniFactory = (uniPlugin as unknown as { default?: UniFactory }).default ?? uniPlugin

// manifest.json and pages.json live at the top level; src/ holds relative symlinks to them.
// preserveSymlinks keeps Vite from resolving them to paths outside UNI_INPUT_DIR.
export default defineConfig({
  // The contract reaches the app as plain JSON schemas, without TypeBox (see scripts/contract-as-json.ts).
  plugins: [contractAsJson(fileURLToPath(new URL('.', import.meta.url))), uni()],
  resolve: { preserveSymlinks: true },
  server: { host: '127.0.0.1' },
})
