/** What the scenarios send: templates from the shipped catalogue and keyword values that pass their rules. */
import { randomBytes } from 'node:crypto'
import { rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import type { Template } from '../../src/domain/contract'
import { loadCatalogue } from '../../server/templates/catalogue'
import { PROJECT_ROOT } from './server-control'

const CATALOGUE: Template[] = loadCatalogue(resolve(PROJECT_ROOT, 'config/templates.json'))

export function catalogueTemplate(key: string): Template {
  const found = CATALOGUE.find((template) => template.key === key)
  if (!found) throw new Error(`config/templates.json 里没有 key 为 "${key}" 的模板，基准测试需要它`)
  return found
}

/** One-time: each send spends a credit (the service) and a quota (WeChat). */
export const ORDER_STATUS = catalogueTemplate('order_status')
export const ORDER_DATA: Record<string, string> = {
  character_string1: 'DD20261125001',
  phrase2: '已发货',
  thing3: '机械键盘',
  time4: '2026年11月25日 13:05',
  thing5: '包裹正在路上',
}

/** Long-term: once accepted, WeChat takes any number of sends, so a client benchmark needs no quota bookkeeping. */
export const ACCOUNT_SECURITY = catalogueTemplate('account_security')
export const SECURITY_DATA: Record<string, { value: string }> = {
  thing1: { value: '新设备登录' },
  time2: { value: '2026年11月25日 13:05' },
  enum3: { value: '中' },
}

export interface TempDatabase {
  path: string
  remove(): void
}

export function tempDatabase(): TempDatabase {
  const path = join(tmpdir(), `uni-subscribe-bench-${randomBytes(6).toString('hex')}.db`)
  return {
    path,
    remove() {
      for (const suffix of ['', '-wal', '-shm']) rmSync(`${path}${suffix}`, { force: true })
    },
  }
}
