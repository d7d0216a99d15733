/**
 * The demo seed against a real sandbox service (the real undici client, the sandbox WeChat on
 * loopback, SQLite): its users exist in the sandbox, every credit is one the sandbox counted too, it
 * gets past the sign-in limit, a second run keeps what is there, and the first start seeds only an
 * empty database. After a restart the new sandbox is told the database's users and credits again.
 */
import type { AddressInfo } from 'node:net'
import { afterEach, describe, expect, it } from 'vitest'
import type { SegmentReach, UserDetail, UserList } from '../../../src/domain/contract'
import { demoPerson } from '../../../server/demo/people'
import { SeedError, seedDemo, seedOnFirstStart, type SeedTransport } from '../../../server/demo/seed'
import { httpTransport, injectTransport } from '../../../server/demo/transports'
import {
  ADMIN_KEY,
  ORDER_DATA,
  ORDER_STATUS,
  TEMPLATES,
  adminHeaders,
  removeDatabase,
  startFakeService,
  startSandboxService,
  tempDatabasePath,
  type SandboxService,
} from '../support/service'

const running: { close(): Promise<void> }[] = []
const databases: string[] = []
afterEach(async () => {
  for (const service of running.splice(0)) await service.close()
  for (const path of databases.splice(0)) removeDatabase(path)
})

async function sandboxService(databasePath?: string): Promise<SandboxService> {
  const service = await startSandboxService({ ...(databasePath !== undefined && { databasePath, keepDatabase: true }) })
  running.push(service)
  return service
}

async function demoUsers(service: SandboxService): Promise<UserDetail[]> {
  const list = await service.app.inject({ method: 'GET', url: '/api/users?tag=demo&limit=500', headers: adminHeaders })
  const details = await Promise.all(
    list.json<UserList>().items.map(async (user) =>
      (await service.app.inject({ method: 'GET', url: `/api/users/${user.openid}`, headers: adminHeaders })).json<UserDetail>(),
    ),
  )
  return details
}

/** Every credit of every demo user, as the ledger has it and as the sandbox WeChat has it. */
function creditsBothWays(service: SandboxService, users: UserDetail[]) {
  const ledger = users.map((user) => TEMPLATES.map((template) => user.credits[template.id] ?? 0))
  const sandbox = users.map((user) => TEMPLATES.map((template) => service.sandbox.quota(user.openid, template.id)))
  return { ledger, sandbox }
}

describe('the demo seed', () => {
  it('makes sandbox test users demo-00001… with their tags, attributes and credits, which the sandbox WeChat counts alike', async () => {
    const service = await sandboxService()
    const report = await seedDemo(injectTransport(service.app), { users: 30, adminKey: ADMIN_KEY })
    const users = await demoUsers(service)
    expect(users).toHaveLength(30)
    expect(report.created).toBe(30)
    expect(report.kept).toBe(0)

    // The users are the sandbox's own test users, signed in.
    const first = users.find((user) => user.openid === service.sandbox.openidFor('demo-00001'))!
    const person = demoPerson(1, TEMPLATES)
    expect(first).toMatchObject({ tags: [...person.tags].sort(), attributes: person.attributes, lastActiveAt: '2026-11-25T05:00:00.000Z' })
    expect(person.attributes).toEqual({ nickname: expect.stringMatching(/^\p{Script=Han}{2,3}$/u), city: expect.any(String), level: expect.any(Number), orderCount: expect.any(Number) })

    const { ledger, sandbox } = creditsBothWays(service, users)
    expect(sandbox).toEqual(ledger)
    const total = ledger.flat().reduce((sum, credits) => sum + credits, 0)
    expect(total).toBeGreaterThan(30)
    // Each accept gave one credit (no template is accepted long-term twice by one person).
    expect(report.credits).toBe(total)

    // The mix makes reach meaningful: some eligible, some without credit.
    const segment = await service.app.inject({ method: 'POST', url: '/api/segments', headers: adminHeaders, payload: { name: '演示', filter: { tagsAll: ['demo'] } } })
    const reach = await service.app.inject({ method: 'GET', url: `/api/segments/${segment.json<{ id: string }>().id}/reach?template=order_status`, headers: adminHeaders })
    const counts = reach.json<SegmentReach>()
    expect(counts.users).toBe(30)
    expect(counts.eligible).toBeGreaterThan(0)
    expect(counts.notEligible.NO_CREDIT).toBeGreaterThan(0)
    expect(counts.eligible + counts.deferred + counts.notEligible.NO_CREDIT + counts.notEligible.MUTED_CATEGORY + counts.notEligible.DAILY_LIMIT).toBe(30)

    // A message to a demo user with credits goes out: the sandbox knows them and has their quota.
    const withCredit = users.find((user) => (user.credits[ORDER_STATUS.id] ?? 0) > 0 && user.preferences.quietHours === null)!
    const sent = await service.app.inject({ method: 'POST', url: '/api/messages?wait=true', headers: adminHeaders, payload: { touser: withCredit.openid, templateId: ORDER_STATUS.id, data: ORDER_DATA } })
    expect(sent.json()).toMatchObject({ status: 'sent' })
  })

  it('run again, keeps the demo users there and adds only the missing ones', async () => {
    const service = await sandboxService()
    await seedDemo(injectTransport(service.app), { users: 10, adminKey: ADMIN_KEY })
    const creditsOf = (users: UserDetail[]) => new Map(users.map((user) => [user.openid, user.credits]))
    const before = creditsOf(await demoUsers(service))
    expect(await seedDemo(injectTransport(service.app), { users: 12, adminKey: ADMIN_KEY })).toMatchObject({ created: 2, kept: 10 })
    const users = await demoUsers(service)
    expect(users).toHaveLength(12)
    const after = creditsOf(users)
    for (const [openid, credits] of before) expect(after.get(openid)).toEqual(credits)
    const { ledger, sandbox } = creditsBothWays(service, users)
    expect(sandbox).toEqual(ledger)
  })

  it('gets through the per-address sign-in limit over HTTP (the sign-ins carry the admin key), rate limits on', async () => {
    const service = await sandboxService()
    await service.app.listen({ port: 0, host: '127.0.0.1' })
    const { port } = service.app.server.address() as AddressInfo
    // 25 sign-ins from one address in a minute: beyond RATE_LIMIT_SIGN_INS_PER_MINUTE's 20.
    const report = await seedDemo(httpTransport(`http://127.0.0.1:${String(port)}`), { users: 25, adminKey: ADMIN_KEY })
    expect(report.created).toBe(25)
    const users = await demoUsers(service)
    const { ledger, sandbox } = creditsBothWays(service, users)
    expect(sandbox).toEqual(ledger)
  })

  it('refuses a service that talks to real WeChat, where demo-00001 is nobody', async () => {
    const service = await startFakeService()
    running.push(service)
    await expect(seedDemo(injectTransport(service.app), { users: 1, adminKey: ADMIN_KEY })).rejects.toThrow(SeedError)
    await expect(seedDemo(injectTransport(service.app), { users: 1, adminKey: ADMIN_KEY })).rejects.toThrow('演示数据只能在沙箱模式下生成')
  })

  it('stops at the first answer that is not a 2xx of the contract’s shape, naming the request', async () => {
    const service = await sandboxService()
    const wrongKey: SeedTransport = injectTransport(service.app)
    await expect(seedDemo(wrongKey, { users: 1, adminKey: 'not-the-admin-key-0123' })).rejects.toThrow(/^GET \/api\/users\?q=.* → 403/)
  })
})

describe('on the first start', () => {
  it('seeds an empty database, and nothing once there is any user', async () => {
    const service = await sandboxService()
    const transport = injectTransport(service.app)
    expect(await seedOnFirstStart(transport, { users: 5, adminKey: ADMIN_KEY })).toMatchObject({ created: 5, kept: 0 })
    expect(await seedOnFirstStart(transport, { users: 8, adminKey: ADMIN_KEY })).toBeNull()
    expect(await demoUsers(service)).toHaveLength(5)
  })

  it('leaves a database with users alone, even if none of them is a demo user', async () => {
    const service = await sandboxService()
    await service.app.inject({ method: 'PUT', url: '/api/users/op-own', headers: adminHeaders, payload: { tags: ['vip'] } })
    expect(await seedOnFirstStart(injectTransport(service.app), { users: 5, adminKey: ADMIN_KEY })).toBeNull()
    expect(await demoUsers(service)).toHaveLength(0)
  })
})

describe('after a restart in sandbox mode', () => {
  it('the new sandbox WeChat is told the users and credits of the database, so sends to them go out', async () => {
    const databasePath = tempDatabasePath()
    databases.push(databasePath)
    const before = await sandboxService(databasePath)
    await seedDemo(injectTransport(before.app), { users: 12, adminKey: ADMIN_KEY })
    await before.close()
    running.splice(running.indexOf(before), 1)

    const after = await sandboxService(databasePath)
    const users = await demoUsers(after)
    expect(users).toHaveLength(12)
    const { ledger, sandbox } = creditsBothWays(after, users)
    expect(sandbox).toEqual(ledger)
    expect(ledger.flat().some((credits) => credits > 0)).toBe(true)

    // Nobody signed in since the restart: the sandbox knows them from the database.
    const withCredit = users.find((user) => (user.credits[ORDER_STATUS.id] ?? 0) > 0 && user.preferences.quietHours === null)!
    const sent = await after.app.inject({ method: 'POST', url: '/api/messages?wait=true', headers: adminHeaders, payload: { touser: withCredit.openid, templateId: ORDER_STATUS.id, data: ORDER_DATA } })
    expect(sent.json()).toMatchObject({ status: 'sent' })
    expect(after.logs.some((line) => line.includes('sandbox WeChat told the users and credits of the database again'))).toBe(true)
  })
})
