/**
 * The H5 stand-in dialog, mounted for real under jsdom (its own Vue app on document.body), talking to
 * the contract-checked FakeService in sandbox mode.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { sandboxLinkFrom } from '@/api/client'
import { createH5Platform } from '@/platform/h5'
import { createDomSubscribeUi } from '@/platform/h5-ui'
import type { Platform, PlatformStorage } from '@/platform/types'
import { useSessionStore } from '@/stores/session'
import { settle, setupClient, type TestClient } from '../support/client'
import { RETIRED_TEMPLATE_ID, templateByKey } from '../../support/templates'

const ORDER = templateByKey('order_status').id
const SHIPPING = templateByKey('shipping').id
const LONG_TERM = templateByKey('account_security').id
const OPENID = 'o-alice'

let client: TestClient
let storage: Map<string, string>

function mapStorage(map: Map<string, string>): PlatformStorage {
  return {
    get: (key) => map.get(key) ?? null,
    set: (key, value) => void map.set(key, value),
    remove: (key) => void map.delete(key),
  }
}

function h5Platform(): Platform {
  return createH5Platform({
    sandbox: () => sandboxLinkFrom(client.context.api),
    ui: createDomSubscribeUi(),
    owner: () => useSessionStore().openid,
    storage: mapStorage(storage),
    base: client.platform,
  })
}

/** Where the stand-in keeps alice's WeChat settings. */
function aliceSettingsKey(): string {
  return `uni-subscribe:h5-wechat-settings@${useSessionStore().openid ?? ''}`
}

function dialog(): HTMLElement | null {
  return document.querySelector<HTMLElement>('[data-testid="subscribe-dialog"]')
}

function sheet(): HTMLElement | null {
  return document.querySelector<HTMLElement>('[data-testid="settings-sheet"]')
}

function click(root: ParentNode | null, selector: string): void {
  const element = root?.querySelector<HTMLElement>(selector)
  if (!element) throw new Error(`nothing matches ${selector}`)
  element.click()
}

async function signIn(sandbox = true): Promise<void> {
  client = setupClient({ service: { sandbox } })
  storage = new Map()
  if (sandbox) await useSessionStore().signInAsTestUser('alice')
}

beforeEach(async () => {
  await signIn()
})

afterEach(() => {
  document.body.innerHTML = ''
})

describe('the stand-in subscription dialog', () => {
  it('lists the template titles ticked, with 允许 / 取消 and "总是保持以上选择"', async () => {
    const answered = h5Platform().requestSubscribe([ORDER, SHIPPING])
    await settle()
    const shown = dialog()
    expect(shown).not.toBeNull()
    expect(shown?.textContent).toContain('订单状态通知')
    expect(shown?.textContent).toContain('发货通知')
    expect(shown?.textContent).toContain('总是保持以上选择')
    const boxes = Array.from(shown?.querySelectorAll('[role="checkbox"][data-template-id]') ?? [])
    expect(boxes.map((box) => box.getAttribute('aria-checked'))).toEqual(['true', 'true'])
    expect(shown?.querySelector('[data-testid="dialog-allow"]')?.textContent).toBe('允许')
    expect(shown?.querySelector('[data-testid="dialog-cancel"]')?.textContent).toBe('取消')
    click(shown, '[data-testid="dialog-allow"]')
    await expect(answered).resolves.toEqual({ [ORDER]: 'accept', [SHIPPING]: 'accept' })
    expect(dialog()).toBeNull()
  })

  it('reports what was accepted to the sandbox WeChat with the session bearer', async () => {
    const answered = h5Platform().requestSubscribe([ORDER, SHIPPING])
    await settle()
    click(dialog(), `[data-template-id="${SHIPPING}"]`)
    click(dialog(), '[data-testid="dialog-allow"]')
    await expect(answered).resolves.toEqual({ [ORDER]: 'accept', [SHIPPING]: 'reject' })
    const grant = client.service.requests.find((request) => request.path === '/sandbox/subscriptions')
    expect(grant).toMatchObject({ method: 'POST', openid: OPENID, body: { results: { [ORDER]: 'accept', [SHIPPING]: 'reject' } } })
    expect(client.service.sandboxQuota(OPENID, ORDER)).toBe(1)
    expect(client.service.sandboxQuota(OPENID, SHIPPING)).toBe(0)
  })

  it('取消 answers reject for every template', async () => {
    const answered = h5Platform().requestSubscribe([ORDER, SHIPPING])
    await settle()
    click(dialog(), '[data-testid="dialog-cancel"]')
    await expect(answered).resolves.toEqual({ [ORDER]: 'reject', [SHIPPING]: 'reject' })
  })

  it('after 允许 with "总是保持以上选择" no dialog shows and the same answer returns, also after a restart', async () => {
    const platform = h5Platform()
    const first = platform.requestSubscribe([ORDER, SHIPPING])
    await settle()
    click(dialog(), `[data-template-id="${SHIPPING}"]`)
    click(dialog(), '[data-testid="always-keep"]')
    click(dialog(), '[data-testid="dialog-allow"]')
    await expect(first).resolves.toEqual({ [ORDER]: 'accept', [SHIPPING]: 'reject' })

    const second = platform.requestSubscribe([ORDER, SHIPPING])
    await settle()
    expect(dialog()).toBeNull()
    await expect(second).resolves.toEqual({ [ORDER]: 'accept', [SHIPPING]: 'reject' })
    // A kept accept still feeds WeChat one more send, as WeChat's own kept choice does.
    expect(client.service.sandboxQuota(OPENID, ORDER)).toBe(2)
    await expect(platform.getSubscriptionsSetting()).resolves.toEqual({ mainSwitch: true, itemSettings: { [ORDER]: 'accept', [SHIPPING]: 'reject' } })

    const afterRestart = h5Platform().requestSubscribe([ORDER])
    await settle()
    expect(dialog()).toBeNull()
    await expect(afterRestart).resolves.toEqual({ [ORDER]: 'accept' })
  })

  it('asks in the dialog only for the templates without a kept choice', async () => {
    storage.set(aliceSettingsKey(), JSON.stringify({ v: 1, data: { mainSwitch: true, itemSettings: { [ORDER]: 'reject' } } }))
    const answered = h5Platform().requestSubscribe([ORDER, SHIPPING])
    await settle()
    expect(dialog()?.textContent).not.toContain('订单状态通知')
    expect(dialog()?.textContent).toContain('发货通知')
    click(dialog(), '[data-testid="dialog-allow"]')
    await expect(answered).resolves.toEqual({ [ORDER]: 'reject', [SHIPPING]: 'accept' })
  })
})

describe('the stand-in keeps each person\'s WeChat settings', () => {
  it('carol does not get alice\'s kept choice or main switch; alice finds hers again', async () => {
    storage.set(aliceSettingsKey(), JSON.stringify({ v: 1, data: { mainSwitch: false, itemSettings: { [ORDER]: 'accept' } } }))
    const platform = h5Platform()
    await expect(platform.getSubscriptionsSetting()).resolves.toEqual({ mainSwitch: false, itemSettings: { [ORDER]: 'accept' } })
    await useSessionStore().signInAsTestUser('carol')
    await expect(platform.getSubscriptionsSetting()).resolves.toEqual({ mainSwitch: true, itemSettings: {} })
    await useSessionStore().signInAsTestUser('alice')
    await expect(platform.getSubscriptionsSetting()).resolves.toEqual({ mainSwitch: false, itemSettings: { [ORDER]: 'accept' } })
  })

  it('drops settings an earlier version kept for nobody in particular', async () => {
    storage.set('uni-subscribe:h5-wechat-settings', JSON.stringify({ v: 1, data: { mainSwitch: false, itemSettings: { [ORDER]: 'reject' } } }))
    const platform = h5Platform()
    expect(storage.has('uni-subscribe:h5-wechat-settings')).toBe(false)
    await expect(platform.getSubscriptionsSetting()).resolves.toEqual({ mainSwitch: true, itemSettings: {} })
  })
})

describe('WeChat errors from the stand-in', () => {
  it('main switch off → 20004 with WeChat errMsg and no dialog', async () => {
    storage.set(aliceSettingsKey(), JSON.stringify({ v: 1, data: { mainSwitch: false, itemSettings: {} } }))
    const answered = h5Platform().requestSubscribe([ORDER])
    await expect(answered).rejects.toMatchObject({
      code: 'MAIN_SWITCH_OFF',
      errCode: 20004,
      errMsg: 'requestSubscribeMessage:fail The main switch is switched off',
    })
    expect(dialog()).toBeNull()
  })

  it('mixed kinds → 20002, unknown template → 20001, more than 3 → 20003, none → 10001', async () => {
    const platform = h5Platform()
    await expect(platform.requestSubscribe([ORDER, LONG_TERM])).rejects.toMatchObject({ code: 'KINDS_MIXED', errCode: 20002 })
    await expect(platform.requestSubscribe([RETIRED_TEMPLATE_ID])).rejects.toMatchObject({ code: 'TEMPLATE_NOT_FOUND', errCode: 20001 })
    await expect(platform.requestSubscribe(['A', 'B', 'C', 'D'])).rejects.toMatchObject({ code: 'TOO_MANY_TEMPLATES', errCode: 20003 })
    await expect(platform.requestSubscribe([])).rejects.toMatchObject({ code: 'EMPTY_TEMPLATE_IDS', errCode: 10001 })
  })

  it('the service unreachable → 10002, like a failed template list', async () => {
    client.service.offline = true
    await expect(h5Platform().requestSubscribe([ORDER])).rejects.toMatchObject({ code: 'TEMPLATE_LIST_NETWORK', errCode: 10002 })
  })

  it('outside sandbox mode it says that subscribing happens in the mini-program', async () => {
    await signIn(false)
    await expect(h5Platform().requestSubscribe([ORDER])).rejects.toMatchObject({
      name: 'SubscribeError',
      code: 'UNSUPPORTED',
      message: '订阅消息只能在微信小程序里订阅，网页预览不支持',
    })
    expect(dialog()).toBeNull()
  })

  it('has no WeChat login', async () => {
    await expect(h5Platform().login()).rejects.toMatchObject({ code: 'LOGIN_UNSUPPORTED', message: '网页预览不能用微信登录，请以测试用户身份登录' })
  })
})

describe('the stand-in settings sheet', () => {
  it('switches the main switch off and on again', async () => {
    const platform = h5Platform()
    const off = platform.openSubscriptionsSetting()
    await settle()
    expect(sheet()?.textContent).toContain('接收订阅消息')
    expect(sheet()?.querySelector('[data-testid="main-switch"]')?.getAttribute('aria-checked')).toBe('true')
    click(sheet(), '[data-testid="main-switch"]')
    click(sheet(), '[data-testid="settings-back"]')
    await expect(off).resolves.toEqual({ mainSwitch: false, itemSettings: {} })
    expect(sheet()).toBeNull()
    await expect(platform.requestSubscribe([ORDER])).rejects.toMatchObject({ errCode: 20004 })

    const on = platform.openSubscriptionsSetting()
    await settle()
    click(sheet(), '[data-testid="main-switch"]')
    click(sheet(), '[data-testid="settings-back"]')
    await expect(on).resolves.toEqual({ mainSwitch: true, itemSettings: {} })
    const answered = platform.requestSubscribe([ORDER])
    await settle()
    click(dialog(), '[data-testid="dialog-allow"]')
    await expect(answered).resolves.toEqual({ [ORDER]: 'accept' })
  })

  it('lists kept choices by title and lets the person turn a kept reject into accept', async () => {
    storage.set(aliceSettingsKey(), JSON.stringify({ v: 1, data: { mainSwitch: true, itemSettings: { [ORDER]: 'reject' } } }))
    const platform = h5Platform()
    const changed = platform.openSubscriptionsSetting()
    await settle()
    const row = sheet()?.querySelector(`[data-template-id="${ORDER}"]`)
    expect(row?.textContent).toContain('订单状态通知')
    expect(row?.textContent).toContain('拒绝')
    click(sheet(), `[data-template-id="${ORDER}"]`)
    click(sheet(), '[data-testid="settings-back"]')
    await expect(changed).resolves.toEqual({ mainSwitch: true, itemSettings: { [ORDER]: 'accept' } })
    await expect(platform.requestSubscribe([ORDER])).resolves.toEqual({ [ORDER]: 'accept' })
  })
})
