import { sampleKeywordValues, templateByKey } from '../../support/templates'
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

export const ORDER_STATUS = templateByKey('order_status')
export const ACCOUNT_SECURITY = templateByKey('account_security')

export const ORDER_DATA = sampleKeywordValues('order_status')
export const SECURITY_DATA = sampleKeywordValues('account_security')
