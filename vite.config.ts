import { defineConfig } from 'vite'
import uniPlugin from '@dcloudio/vite-plugin-uni'

// The package is CommonJS with `exports.default`: under ESM the plugin factory sits on `.default`.
type UniFactory = typeof uniPlugin
const uni: UniFactory = (uniPlugin as unknown as { default?: UniFactory }).default ?? uniPlugin

// manifest.json and pages.json live at the top level; src/ holds relative symlinks to them.
// preserveSymlinks keeps Vite from resolving them to paths outside UNI_INPUT_DIR.
export default defineConfig({
  plugins: [uni()],
  resolve: { preserveSymlinks: true },
  server: { host: '127.0.0.1' },
})
