/**
 * The compiled mini-program's tab bar has an icon and a selected icon per tab: local PNGs within
 * WeChat's limits (at most 40 KB each; 81 × 81 px, the size WeChat recommends), grey and WeChat green.
 */
import { readFileSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { inflateSync } from 'node:zlib'
import { describe, expect, it } from 'vitest'
import { TAB_PAGES } from '../../src/rules/app-pages'
import { MP_BUILD_DIR } from './support/mini-program'

interface TabBarItem { pagePath: string; text: string; iconPath?: string; selectedIconPath?: string }
const appJson = JSON.parse(readFileSync(join(MP_BUILD_DIR, 'app.json'), 'utf8')) as { tabBar: { list: TabBarItem[] } }

/** Width, height and the colour of the first opaque pixel of an 8-bit RGBA PNG without filters (what the icons are). */
function readPng(path: string): { width: number; height: number; colour: string } {
  const bytes = readFileSync(path)
  expect(bytes.subarray(0, 8)).toEqual(Buffer.from([137, 80, 78, 71, 13, 10, 26, 10]))
  const width = bytes.readUInt32BE(16)
  const height = bytes.readUInt32BE(20)
  const idat = bytes.indexOf('IDAT')
  const raw = inflateSync(bytes.subarray(idat + 4, idat + 4 + bytes.readUInt32BE(idat - 4)))
  for (let i = 0; i + 3 < raw.length; i += 4) {
    const offset = i + Math.floor(i / (width * 4)) + 1
    if (raw[offset + 3]! > 200) return { width, height, colour: raw.subarray(offset, offset + 3).toString('hex') }
  }
  return { width, height, colour: 'none' }
}

describe('the tab bar', () => {
  it('holds the pages the app\'s links open as tab pages (src/rules/app-pages.ts), in its order', () => {
    expect(appJson.tabBar.list.map((item) => item.pagePath)).toEqual(TAB_PAGES)
  })

  it('gives every tab a grey icon and a green selected icon, local, 81 × 81, under 40 KB', () => {
    expect(appJson.tabBar.list.map((item) => item.text)).toEqual(['订单', '订阅中心', '消息记录', '通知设置'])
    for (const item of appJson.tabBar.list) {
      expect(item.iconPath, item.text).toMatch(/^static\/tabbar\/[a-z]+\.png$/)
      expect(item.selectedIconPath, item.text).toMatch(/^static\/tabbar\/[a-z]+-active\.png$/)
      for (const [file, colour] of [[item.iconPath!, '7a7e83'], [item.selectedIconPath!, '07c160']] as const) {
        const path = join(MP_BUILD_DIR, file)
        expect(statSync(path).size).toBeLessThan(40 * 1024)
        expect(readPng(path)).toEqual({ width: 81, height: 81, colour })
      }
    }
  })
})
