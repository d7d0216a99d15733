/**
 * The two targets of the WeChat contract suite: what the send pipeline and the restart tests see
 * of WeChat through the `WeChatClient` interface.
 *
 * - `sandbox`: the real client (server/wechat/client.ts, undici) against the sandbox WeChat on
 *   loopback (server/wechat/sandbox.ts), with a token store in memory and retries that do not wait.
 * - `fake`: the in-process fake WeChatClient of tests/server/support/fake-wechat.ts.
 *
 * Both are told what the person answered in the subscribe dialog with `grant`, and know a test
 * user's openid and login codes as WeChat would.
 */
import { randomBytes } from 'node:crypto'
import { Pool } from 'undici'
import type { SubscribeResult } from '../../../src/domain/contract'
import { createManualClock, type ManualClock } from '../../../server/clock'
import { createWeChatClient } from '../../../server/wechat/client'
import { createMemoryTokenStore } from '../../../server/wechat/memory-token-store'
import { createSandboxWeChat } from '../../../server/wechat/sandbox'
import type { WeChatClient } from '../../../server/wechat/types'
import { NOON_SHANGHAI, PAGES } from '../../server/support/service'
import { createFakeWeChat } from '../../server/support/fake-wechat'
import { TEMPLATES } from '../../support/templates'

export interface WeChatDriver {
  readonly client: WeChatClient
  readonly clock: ManualClock
  /** The openid WeChat knows test user `user` by (registers the user). */
  openidFor(user: string): string
  /** A login code for test user `user`, as `wx.login` gives one. */
  issueCode(user: string): string
  /** What the person answered in the subscribe dialog; the quota left per template id. */
  grant(openid: string, results: Record<string, SubscribeResult>): Record<string, number>
  close(): Promise<void>
}

export interface WeChatTarget {
  name: 'sandbox' | 'fake'
  start(): Promise<WeChatDriver>
}

export const sandboxWeChat: WeChatTarget = {
  name: 'sandbox',
  async start() {
    const clock = createManualClock(NOON_SHANGHAI)
    const credentials = { appId: 'wx5a4db0c0ffee0000', secret: randomBytes(16).toString('hex') }
    const sandbox = createSandboxWeChat({ ...credentials, templates: [...TEMPLATES], pages: PAGES, clock })
    const url = await sandbox.listen()
    const pool = new Pool(url, { connections: 4 })
    const client = createWeChatClient({
      baseUrl: url,
      ...credentials,
      dispatcher: pool,
      tokenStore: createMemoryTokenStore(clock),
      clock,
      retry: { sleep: async () => {}, random: () => 0 },
    })
    return {
      client,
      clock,
      openidFor: (user) => sandbox.openidFor(user),
      issueCode: (user) => sandbox.issueCode(user),
      grant: (openid, results) => sandbox.grant(openid, results),
      async close() {
        await pool.close()
        await sandbox.close()
      },
    }
  },
}

export const fakeWeChat: WeChatTarget = {
  name: 'fake',
  async start() {
    const clock = createManualClock(NOON_SHANGHAI)
    const fake = createFakeWeChat({ templates: TEMPLATES, pages: PAGES, clock })
    return {
      client: fake,
      clock,
      openidFor: (user) => fake.openidFor(user),
      issueCode: (user) => fake.issueCode(user),
      grant: (openid, results) => fake.grant(openid, results),
      close: async () => {},
    }
  },
}

export const WECHAT_TARGETS: readonly WeChatTarget[] = [sandboxWeChat, fakeWeChat]
