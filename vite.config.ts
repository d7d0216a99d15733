import { fileURLToPath } from 'node:url'
import { defineConfig } from 'vite'
import uniPlugin from '@dcloudio/vite-plugin-uni'
import { contractAsJson } from './scripts/contract-as-json'
import { preloadStartPage } from './scripts/preload-start-page'
import { readMiniProgramPages } from './server/messages/pages'

// The package is CommonJS with `exports.default`: under ESM the plugin factory sits on `.default`.
type UniFactory = typeof uniPlugin
const uni: UniFactory = (uniPlugin as unknown as { default?: UniFactory }).default ?? uniPlugin

// manifest.json and pages.json live at the top level; src/ holds relative symlinks to them.
// preserveSymlinks keeps Vite from resolving them to paths outside UNI_INPUT_DIR.
/**
 * H5: uni's runtime features the app does not use, turned off (uni sets them with `define`; these win):
 * the runtime's messages in languages other than 简体中文, wxs, long-press, nvue (about 1 KB). Vue's Options
 * API stays on: uni's page lifecycle needs it (with it off, no page's onLoad ever runs).
 */
const H5_FEATURES_OFF: Record<string, boolean> = {
  __UNI_FEATURE_I18N_EN__: false,
  __UNI_FEATURE_I18N_ES__: false,
  __UNI_FEATURE_I18N_FR__: false,
  __UNI_FEATURE_I18N_ZH_HANT__: false,
  __UNI_FEATURE_WXS__: false,
  __UNI_FEATURE_LONGPRESS__: false,
  __UNI_FEATURE_NVUE__: false,
}

export default defineConfig({
  // The contract reaches the app as plain JSON schemas, without TypeBox (see scripts/contract-as-json.ts).
  plugins: [
    contractAsJson(fileURLToPath(new URL('.', import.meta.url))),
    uni(),
    // After uni's own config hook, so these values are the ones defined.
    // H5: the opened page's chunks are asked for beside the entry chunk, not after it has run.
    ...(process.env.UNI_PLATFORM === 'h5' ? [preloadStartPage(fileURLToPath(new URL('./src', import.meta.url)), () => readMiniProgramPages()[0]!)] : []),
    { name: 'uni-subscribe:h5-features-off', enforce: 'post', config: () => (process.env.UNI_PLATFORM === 'h5' ? { define: H5_FEATURES_OFF } : {}) },
  ],
  resolve: { preserveSymlinks: true },
  server: { host: '127.0.0.1' },
})
