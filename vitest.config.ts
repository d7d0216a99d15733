import { fileURLToPath } from 'node:url'
import { defineConfig, type Plugin, type TestProjectInlineConfiguration } from 'vitest/config'
import vue from '@vitejs/plugin-vue'
import { initPreContext, preJs, preHtml } from '@dcloudio/uni-cli-shared'
import { serversInstalled } from './tests/support/servers'

const root = fileURLToPath(new URL('.', import.meta.url))

/** uni's own tags: compiled by uni to mini-program tags or H5 components, custom elements under jsdom. */
const UNI_TAGS = new Set([
  'view', 'text', 'button', 'image', 'scroll-view', 'swiper', 'swiper-item', 'navigator', 'input',
  'textarea', 'switch', 'slider', 'picker', 'picker-view', 'checkbox', 'checkbox-group', 'radio',
  'radio-group', 'label', 'form', 'icon', 'progress', 'rich-text', 'block', 'page-meta', 'cover-view',
])

/**
 * Applies uni's conditional compilation (`#ifdef H5` … `#endif`) the way `uni build` does, so tests
 * run the same branch the H5 build ships. Tests of the mp-weixin branch import its module directly.
 */
function uniConditionalCompilation(platform: string): Plugin {
  initPreContext(platform, undefined, undefined, false)
  return {
    name: 'uni-subscribe:conditional-compilation',
    enforce: 'pre',
    transform(code, id) {
      const file = id.split('?')[0]
      if (!file.startsWith(root) || file.includes('/node_modules/')) return null
      if (!code.includes('#if')) return null
      if (file.endsWith('.vue')) return { code: preHtml(preJs(code, file), file), map: null }
      if (/\.[cm]?[jt]s$/.test(file)) return { code: preJs(code, file), map: null }
      return null
    },
  }
}

/**
 * Vitest starts a Vite server in middleware mode for the root and one per project. Vite 5.2.8 (pinned
 * for uni) gives each a standalone HMR WebSocket server on port 24678 and starts it whatever
 * `server.hmr` says (vitest already sets `hmr: false`, and `ws: false`, which only later Vite versions
 * honour), so every server after the first printed "WebSocket server error: Port is already in use".
 * Tests use no HMR: this keeps that socket from listening, as `server.ws: false` does in later Vite.
 */
function noHmrWebSocket(): Plugin {
  return {
    name: 'uni-subscribe:no-hmr-websocket',
    configureServer(server) {
      server.ws.listen = () => {}
    },
  }
}

/**
 * The `multi` project (tests/multi: PostgreSQL, Redis, several service processes) runs where Debian's
 * postgresql and redis-server are installed, as `.ci/run` does. Elsewhere the run says so plainly, and
 * REQUIRE_DB_SERVERS=1 (set by .ci/run) turns their absence into a failure.
 */
function multiInstanceProject(): TestProjectInlineConfiguration[] {
  const installed = serversInstalled()
  const missing = [!installed.postgres && 'postgresql', !installed.redis && 'redis-server'].filter(Boolean)
  if (missing.length > 0) {
    const message = `tests/multi were NOT run: ${missing.join(' and ')} not installed (apt-get install postgresql redis-server)`
    if (process.env.REQUIRE_DB_SERVERS === '1') throw new Error(message)
    console.warn(`\n  ⚠ ${message}\n`)
    return []
  }
  return [
    {
      extends: true,
      test: {
        name: 'multi',
        environment: 'node',
        include: ['tests/multi/**/*.test.ts'],
        globalSetup: ['tests/support/servers.global.ts'],
        testTimeout: 60_000,
        hookTimeout: 120_000,
      },
    },
  ]
}

const alias = {
  '@': fileURLToPath(new URL('./src', import.meta.url)),
  // The real package calls vue.injectHook, which exists only in uni's patched Vue.
  '@dcloudio/uni-app': fileURLToPath(new URL('./tests/support/uni-app.ts', import.meta.url)),
}

export default defineConfig({
  // Every project `extends: true`, so this reaches each project's Vite server too.
  plugins: [noHmrWebSocket()],
  test: {
    projects: [
      {
        extends: true,
        plugins: [
          uniConditionalCompilation('h5'),
          vue({ template: { compilerOptions: { isCustomElement: (tag) => UNI_TAGS.has(tag) } } }),
        ],
        resolve: { alias },
        define: { 'process.env.UNI_PLATFORM': JSON.stringify('h5') },
        test: {
          name: 'client',
          environment: 'jsdom',
          include: ['tests/client/**/*.test.ts', 'src/**/*.test.ts'],
        },
      },
      {
        extends: true,
        test: {
          name: 'server',
          environment: 'node',
          // tests/contract: the same scenarios against the real service and the doubles of the other tests.
          include: ['tests/server/**/*.test.ts', 'server/**/*.test.ts', 'tests/contract/**/*.test.ts'],
          // Many of these start the service, a sandbox WeChat or a process of their own: 5 s was met
          // by a loaded 2-core machine with nothing wrong.
          testTimeout: 20_000,
        },
      },
      {
        // The compiled mini-program (dist/build/mp-weixin) under WeChat's miniprogram-simulate.
        extends: true,
        test: {
          name: 'mp',
          environment: 'jsdom',
          include: ['tests/mp/**/*.test.ts'],
          globalSetup: ['tests/mp/support/global-setup.ts'],
          testTimeout: 30_000,
          hookTimeout: 120_000,
        },
      },
      {
        // Browser journeys: headless Chromium against the built H5 app and the real service on loopback.
        // The journeys live in one file, so they run one after another (fileParallelism is not a
        // per-project option in vitest 3).
        extends: true,
        test: {
          name: 'e2e',
          environment: 'node',
          include: ['tests/e2e/**/*.test.ts'],
          globalSetup: ['tests/e2e/support/global-setup.ts'],
          testTimeout: 60_000,
          hookTimeout: 120_000,
        },
      },
      ...multiInstanceProject(),
    ],
  },
})
