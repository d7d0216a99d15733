import { afterEach, describe, expect, it } from 'vitest'
import { pageFiles, pagePathOf, preloadScript } from '../../../scripts/preload-start-page'

const SRC = '/repo/src'

/** A Rollup bundle as Vite hands it to transformIndexHtml: the entry, two pages, a shared chunk and a helper. */
const BUNDLE: Record<string, unknown> = {
  'assets/index-AAAA1111.js': { type: 'chunk', fileName: 'assets/index-AAAA1111.js', facadeModuleId: '/repo/src/main.ts', isEntry: true, isDynamicEntry: false, imports: [], viteMetadata: { importedCss: new Set(['assets/index-AAAA1111.css']) } },
  'assets/pages-orders-orders.BBBB2222.js': {
    type: 'chunk',
    fileName: 'assets/pages-orders-orders.BBBB2222.js',
    facadeModuleId: '/repo/src/pages/orders/index.vue',
    isEntry: false,
    isDynamicEntry: true,
    imports: ['assets/index-AAAA1111.js', 'assets/PageGate.CCCC3333.js'],
    viteMetadata: { importedCss: new Set(['assets/orders-DDDD4444.css']) },
  },
  'assets/pages-subscriptions-subscriptions.EEEE5555.js': {
    type: 'chunk',
    fileName: 'assets/pages-subscriptions-subscriptions.EEEE5555.js',
    facadeModuleId: '/repo/src/pages/subscriptions/index.vue',
    isEntry: false,
    isDynamicEntry: true,
    imports: ['assets/index-AAAA1111.js', 'assets/PageGate.CCCC3333.js'],
    viteMetadata: { importedCss: new Set() },
  },
  'assets/PageGate.CCCC3333.js': {
    type: 'chunk',
    fileName: 'assets/PageGate.CCCC3333.js',
    facadeModuleId: '/repo/src/components/PageGate.vue',
    isEntry: false,
    isDynamicEntry: false,
    imports: ['assets/index-AAAA1111.js', 'assets/helper.FFFF6666.js'],
    viteMetadata: { importedCss: new Set(['assets/PageGate-GGGG7777.css']) },
  },
  'assets/helper.FFFF6666.js': { type: 'chunk', fileName: 'assets/helper.FFFF6666.js', facadeModuleId: null, isEntry: false, isDynamicEntry: false, imports: [], viteMetadata: { importedCss: new Set() } },
  // A dynamic import that is no page (the H5 stand-in dialog): not listed.
  'assets/components-h5-SubscribeDialog.HHHH8888.js': { type: 'chunk', fileName: 'assets/components-h5-SubscribeDialog.HHHH8888.js', facadeModuleId: '/repo/src/components/h5/SubscribeDialog.vue', isEntry: false, isDynamicEntry: true, imports: [] },
  'assets/orders-DDDD4444.css': { type: 'asset', fileName: 'assets/orders-DDDD4444.css' },
}

describe('preloading the opened page in index.html', () => {
  afterEach(() => {
    document.head.innerHTML = ''
    location.hash = ''
  })

  it('names pages by their pages.json path', () => {
    expect(pagePathOf('/repo/src/pages/orders/index.vue', SRC)).toBe('pages/orders/index')
    expect(pagePathOf('/repo/src/pages/console/users/detail.vue?vue&type=script', SRC)).toBe('pages/console/users/detail')
    expect(pagePathOf('/repo/src/components/PageGate.vue', SRC)).toBeNull()
  })

  it('lists each page with its chunk, the chunks it imports (not the entry) and their CSS', () => {
    expect(pageFiles(BUNDLE, SRC)).toEqual({
      'pages/orders/index': ['assets/pages-orders-orders.BBBB2222.js', 'assets/orders-DDDD4444.css', 'assets/PageGate.CCCC3333.js', 'assets/PageGate-GGGG7777.css', 'assets/helper.FFFF6666.js'],
      'pages/subscriptions/index': ['assets/pages-subscriptions-subscriptions.EEEE5555.js', 'assets/PageGate.CCCC3333.js', 'assets/PageGate-GGGG7777.css', 'assets/helper.FFFF6666.js'],
    })
  })

  function run(hash: string): Array<[string, string]> {
    location.hash = hash
    const script = preloadScript(pageFiles(BUNDLE, SRC), 'pages/orders/index')
    new Function(script.replace(/^<script>/, '').replace(/<\/script>$/, ''))()
    return Array.from(document.head.querySelectorAll('link'), (link) => [link.rel, link.getAttribute('href') ?? ''])
  }

  it('asks for the files of the page the address opens, modules as modulepreload and CSS as style', () => {
    expect(run('#/pages/subscriptions/index?from=notice')).toEqual([
      ['modulepreload', './assets/pages-subscriptions-subscriptions.EEEE5555.js'],
      ['modulepreload', './assets/PageGate.CCCC3333.js'],
      ['preload', './assets/PageGate-GGGG7777.css'],
      ['modulepreload', './assets/helper.FFFF6666.js'],
    ])
  })

  it('takes the first page for an address without a page, and nothing for a page it does not know', () => {
    expect(run('').map(([, href]) => href)[0]).toBe('./assets/pages-orders-orders.BBBB2222.js')
    document.head.innerHTML = ''
    expect(run('#/pages/nope')).toEqual([])
  })
})
