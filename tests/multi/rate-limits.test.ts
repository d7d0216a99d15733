/**
 * Request limits across instances: with REDIS_URL the per-person and per-address counts are in Redis,
 * so two instances behind one address let a person through as often as one would, not twice as often.
 * Two real service processes, one PostgreSQL database, one Redis; WeChat is the sandbox in this process.
 */
import { afterEach, describe, expect, inject, it } from 'vitest'
import { createSandboxWeChat, type SandboxWeChat } from '../../server/wechat/sandbox'
import { systemClock } from '../../server/wechat/types'
import { PAGES } from '../server/support/service'
import { startServiceProcess, type ServiceProcess } from '../server/support/service-process'
import { createDatabase, uniquePrefix } from '../support/servers'
import { templateByKey, TEMPLATES } from '../support/templates'

const APP_ID = 'wxc0ffee0000000078'
const SECRET = 'ratelimitstestsecret0123456789ab'
const ADMIN_KEY = 'rate-limits-test-admin-key-0123456789'
const ORDER_STATUS = templateByKey('order_status')
const json = { 'content-type': 'application/json' }

let sandbox: SandboxWeChat | undefined
const running: ServiceProcess[] = []

afterEach(async () => {
  for (const service of running.splice(0)) await service.kill()
  await sandbox?.close()
})

describe('request limits with REDIS_URL, two instances', () => {
  it('count a person\'s writes and an address\'s sign-ins once for the cluster', async () => {
    const wechat = createSandboxWeChat({ appId: APP_ID, secret: SECRET, templates: TEMPLATES, pages: PAGES, clock: systemClock })
    sandbox = wechat
    await wechat.listen()
    const env = {
      DATABASE_URL: await createDatabase(inject('postgresUrl'), 'limits'),
      REDIS_URL: inject('redisUrl'),
      REDIS_PREFIX: uniquePrefix('limits'),
      WECHAT_APPID: APP_ID,
      WECHAT_SECRET: SECRET,
      WECHAT_API_BASE: wechat.url,
      ADMIN_API_KEY: ADMIN_KEY,
      LOG_LEVEL: 'warn',
      PG_POOL_MAX: '4',
      RATE_LIMIT_WRITES_PER_MINUTE: '4',
      RATE_LIMIT_SIGN_INS_PER_MINUTE: '3',
    }
    const [a, b] = await Promise.all([startServiceProcess(env), startServiceProcess(env)])
    running.push(a!, b!)
    const on = (n: number): ServiceProcess => (n % 2 === 0 ? a! : b!)

    // Sign-ins from one address: 3 a minute for the cluster, whichever instance answers.
    const signIns: number[] = []
    let token = ''
    for (let i = 0; i < 4; i += 1) {
      const response = await fetch(`${on(i).url}/api/session`, { method: 'POST', headers: json, body: JSON.stringify({ code: wechat.issueCode('limited') }) })
      signIns.push(response.status)
      if (response.status === 200) token = ((await response.json()) as { token: string }).token
    }
    expect(signIns).toEqual([200, 200, 200, 429])

    // One person's consents, alternating instances: the fifth is refused, whichever instance it reaches.
    const person = { ...json, authorization: `Bearer ${token}` }
    const answers: Array<{ status: number; code?: string; retryAfter: string | null }> = []
    for (let c = 0; c < 6; c += 1) {
      const response = await fetch(`${on(c).url}/api/consents`, {
        method: 'POST',
        headers: person,
        body: JSON.stringify({ consentId: `limited-${c}`, results: { [ORDER_STATUS.id]: 'accept' } }),
      })
      const body = (await response.json()) as { error?: { code: string } }
      answers.push({ status: response.status, ...(body.error && { code: body.error.code }), retryAfter: response.headers.get('retry-after') })
    }
    expect(answers.map((answer) => answer.status)).toEqual([200, 200, 200, 200, 429, 429])
    expect(answers.slice(4).map((answer) => answer.code)).toEqual(['RATE_LIMITED', 'RATE_LIMITED'])
    expect(Number(answers[4]!.retryAfter)).toBeGreaterThan(0)
    expect(Number(answers[4]!.retryAfter)).toBeLessThanOrEqual(60)

    // Nothing refused was counted: the person holds exactly the four credits that went through.
    const user = (await (await fetch(`${a!.url}/api/users/${wechat.openidFor('limited')}`, { headers: { authorization: `Bearer ${ADMIN_KEY}` } })).json()) as {
      credits: Record<string, number>
    }
    expect(user.credits[ORDER_STATUS.id]).toBe(4)
  }, 60_000)
})
