import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { parseMiniProgramPagesJson, readMiniProgramPages } from '../../../server/messages/pages'

function pagesFile(text: string): string {
  const path = join(mkdtempSync(join(tmpdir(), 'pages-json-')), 'pages.json')
  writeFileSync(path, text)
  return path
}

describe('the mini-program pages of pages.json', () => {
  it("are the repository's five pages: the console (#ifdef H5) is none of them", () => {
    expect(readMiniProgramPages()).toEqual([
      'pages/orders/index',
      'pages/subscriptions/index',
      'pages/messages/index',
      'pages/preferences/index',
      'pages/messages/detail',
    ])
  })

  it('leave out an #ifdef H5 block and keep #ifdef MP-WEIXIN and #ifndef H5 ones, comments and dangling commas removed', () => {
    const path = pagesFile(`{
      // the tab pages
      "pages": [
        { "path": "pages/a/index", "style": { "navigationBarTitleText": "A // not a comment" } },
        /* #ifdef MP-WEIXIN */
        { "path": "pages/mp-only/index" },
        /* #endif */
        // #ifndef H5
        { "path": "pages/not-h5/index" },
        // #endif
        // #ifdef H5 || APP-PLUS
        { "path": "pages/console/index" },
        // #endif
      ],
      "subPackages": [
        { "root": "shop/", "pages": [
          { "path": "list" }
          // #ifdef H5
          , { "path": "admin" }
          // #endif
        ] }
      ]
    }`)
    expect(readMiniProgramPages(path)).toEqual(['pages/a/index', 'pages/mp-only/index', 'pages/not-h5/index', 'shop/list'])
  })

  it('keep a nested block only when every enclosing condition holds', () => {
    const json = parseMiniProgramPagesJson(`{ "pages": [
      { "path": "p/one" }
      // #ifdef MP
      , { "path": "p/mp" }
      // #ifdef H5
      , { "path": "p/never" }
      // #endif
      // #endif
    ] }`)
    expect(json).toEqual({ pages: [{ path: 'p/one' }, { path: 'p/mp' }] })
  })

  it('refuse a block without its #endif, and an #endif without a block', () => {
    expect(() => parseMiniProgramPagesJson('{ "pages": [\n// #ifdef H5\n{ "path": "x" }\n] }', 'pages.json')).toThrow('pages.json：#ifdef / #ifndef 缺少 #endif')
    expect(() => parseMiniProgramPagesJson('{ "pages": [\n{ "path": "x" }\n// #endif\n] }', 'pages.json')).toThrow('pages.json：多余的 #endif')
  })
})
