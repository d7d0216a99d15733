import type { Template } from '../../../src/domain/contract'
import type { Clock } from '../../../server/wechat/types'

/** A clock the test moves by hand. */
export interface ManualClock extends Clock {
  advance(ms: number): void
  set(at: Date): void
}

export function manualClock(start = new Date('2026-03-01T02:00:00Z')): ManualClock {
  let at = start.getTime()
  return {
    now: () => new Date(at),
    advance: (ms) => {
      at += ms
    },
    set: (date) => {
      at = date.getTime()
    },
  }
}

export const APP_ID = 'wx0123456789abcdef'
export const SECRET = 'sandbox-secret-0123456789abcdef0'
export const PAGES = ['pages/orders/index', 'pages/subscriptions/index', 'pages/messages/index', 'pages/preferences/index']

export const ORDER_STATUS: Template = {
  id: 'Kp3vQx9LmN2rT8sWfB4yHj6uEc1dZa7oGi5kXq0Vb3M',
  key: 'order_status',
  title: '订单状态通知',
  kind: 'one-time',
  category: 'order',
  keywords: [
    { name: 'character_string1', type: 'character_string', label: '订单号' },
    { name: 'phrase2', type: 'phrase', label: '订单状态' },
    { name: 'thing3', type: 'thing', label: '商品名称' },
  ],
}

export const ACCOUNT_SECURITY: Template = {
  id: 'Zr8cLw2NnQ5tY1pXsV7bMk4jHf9gDa3eUo6iRq0Te2W',
  key: 'account_security',
  title: '账户安全提醒',
  kind: 'long-term',
  category: 'security',
  keywords: [
    { name: 'thing1', type: 'thing', label: '提醒内容' },
    { name: 'enum2', type: 'enum', label: '风险等级', enumValues: ['低', '中', '高'] },
  ],
}

export const ORDER_DATA = {
  character_string1: { value: 'DD20260301001' },
  phrase2: { value: '已发货' },
  thing3: { value: '机械键盘' },
}
