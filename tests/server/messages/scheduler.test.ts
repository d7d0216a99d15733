import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import type { MessageOutcome } from '../../../src/domain/contract'
import { ORDER_DATA, ORDER_STATUS, adminHeaders, signIn, startFakeService, testConfig, type FakeService } from '../support/service'

let service: FakeService

beforeEach(async () => {
  service = await startFakeService({
    config: testConfig({ WECHAT_APPID: 'wx0123456789abcdef', WECHAT_SECRET: 'secret0123456789abcdef', SCHEDULER_INTERVAL_MS: '60000' }),
  })
})
afterEach(async () => {
  vi.useRealTimers()
  await service.close()
})

async function deferredMessage(): Promise<MessageOutcome> {
  const alice = await signIn(service.app, (user) => service.wechat.issueCode(user), 'alice')
  service.wechat.grant(alice.openid, { [ORDER_STATUS.id]: 'accept' })
  await service.app.inject({ method: 'POST', url: '/api/consents', headers: { authorization: alice.authorization }, payload: { consentId: 'consent-sched', results: { [ORDER_STATUS.id]: 'accept' } } })
  await service.app.inject({ method: 'PUT', url: '/api/me/preferences', headers: { authorization: alice.authorization }, payload: { quietHours: { start: '12:00', end: '14:00' }, dailyLimit: 20, mutedCategories: [] } })
  const reply = await service.app.inject({ method: 'POST', url: '/api/messages?wait=true', headers: adminHeaders, payload: { touser: alice.openid, templateId: 'order_status', data: ORDER_DATA } })
  return reply.json<MessageOutcome>()
}

describe('scheduler', () => {
  it('looks on every SCHEDULER_INTERVAL_MS once started, and queues what has come due; the dispatcher sends it', async () => {
    const outcome = await deferredMessage()
    expect(outcome.status).toBe('deferred')
    vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval'] })
    await service.app.scheduler.start()
    expect(service.wechat.sendCalls).toBe(0)

    service.manual.set(new Date('2026-11-25T06:00:00.000Z'))
    const hold = service.wechat.hold()
    await vi.advanceTimersByTimeAsync(59_999)
    expect((await service.storage.messages.get(outcome.id))?.status).toBe('deferred')
    await vi.advanceTimersByTimeAsync(1)
    // The timer's run queued it, and the dispatcher, not the test, reached WeChat.
    await hold.reached
    expect(service.wechat.sendCalls).toBe(1)
    hold.release()
    expect(await service.app.scheduler.runOnce({ settle: true })).toEqual({ processed: 0 })
    expect((await service.storage.messages.get(outcome.id))?.status).toBe('sent')

    await service.app.scheduler.stop()
    await vi.advanceTimersByTimeAsync(600_000)
    expect(service.wechat.sendCalls).toBe(1)
  })

  it('a message that cannot be read does not hold up the others: they go, it is failed and logged by id', async () => {
    const alice = await signIn(service.app, (user) => service.wechat.issueCode(user), 'alice')
    for (let i = 0; i < 10; i += 1) {
      service.wechat.grant(alice.openid, { [ORDER_STATUS.id]: 'accept' })
      await service.app.inject({ method: 'POST', url: '/api/consents', headers: { authorization: alice.authorization }, payload: { consentId: `consent-many-${i}`, results: { [ORDER_STATUS.id]: 'accept' } } })
    }
    await service.app.inject({ method: 'PUT', url: '/api/me/preferences', headers: { authorization: alice.authorization }, payload: { quietHours: { start: '12:00', end: '14:00' }, dailyLimit: 20, mutedCategories: [] } })
    const ids: string[] = []
    for (let i = 0; i < 10; i += 1) {
      const reply = await service.app.inject({ method: 'POST', url: '/api/messages?wait=true', headers: adminHeaders, payload: { touser: alice.openid, templateId: 'order_status', data: ORDER_DATA } })
      ids.push(reply.json<MessageOutcome>().id)
    }
    // The oldest due message, first in the first batch, no longer reads.
    service.storage.db.prepare("UPDATE messages SET data = 'not json' WHERE id = ?").run(ids[0])
    service.manual.set(new Date('2026-11-25T06:00:00.000Z'))

    expect(await service.app.scheduler.runOnce({ settle: true })).toEqual({ processed: 10 })

    const statuses = service.storage.db.prepare('SELECT id, status, reason, detail FROM messages ORDER BY seq').all() as { status: string }[]
    expect(statuses[0]).toEqual({ id: ids[0], status: 'failed', reason: 'INTERNAL', detail: '保存的消息内容无法读取，没有发送' })
    expect(statuses.slice(1).map((row) => row.status)).toEqual(Array<string>(9).fill('sent'))
    expect(service.wechat.sendCalls).toBe(9)
    const logged = service.logs.map((line) => JSON.parse(line) as { msg: string; messageId?: string }).filter((entry) => entry.msg === 'a queued message cannot be read; failed (INTERNAL)')
    expect(logged.map((entry) => entry.messageId)).toEqual([ids[0]])
    // The operator can still open it: what it is and why, its data shown as none.
    const opened = await service.app.inject({ method: 'GET', url: `/api/messages/${ids[0]!}`, headers: adminHeaders })
    expect(opened.statusCode, opened.body).toBe(200)
    expect(opened.json()).toMatchObject({ id: ids[0], status: 'failed', reason: 'INTERNAL', detail: '保存的消息内容无法读取，没有发送', data: {} })
  })

  it('folds the outcome counts per second older than two hours into counts per minute, on every run', async () => {
    const alice = await signIn(service.app, (user) => service.wechat.issueCode(user), 'alice')
    service.wechat.grant(alice.openid, { [ORDER_STATUS.id]: 'accept' })
    await service.app.inject({ method: 'POST', url: '/api/consents', headers: { authorization: alice.authorization }, payload: { consentId: 'consent-fold', results: { [ORDER_STATUS.id]: 'accept' } } })
    service.manual.set(new Date('2026-11-25T05:00:30.000Z'))
    const reply = await service.app.inject({ method: 'POST', url: '/api/messages?wait=true', headers: adminHeaders, payload: { touser: alice.openid, templateId: 'order_status', data: ORDER_DATA } })
    expect(reply.json<MessageOutcome>().status).toBe('sent')
    const bySecond = { from: new Date('2026-11-25T05:00:00.000Z'), to: new Date('2026-11-25T05:01:00.000Z'), bucketMs: 1000 }
    expect(await service.storage.outcomes.overTime(bySecond)).toEqual([{ index: 30, byStatus: { sent: 1 }, byErrcode: { 0: 1 } }])

    // Two hours on, the send's second is not yet older than two hours: it stays.
    service.manual.set(new Date('2026-11-25T07:00:30.000Z'))
    await service.app.scheduler.runOnce()
    expect(await service.storage.outcomes.overTime(bySecond)).toEqual([{ index: 30, byStatus: { sent: 1 }, byErrcode: { 0: 1 } }])
    // A second later it is: folded into its minute, at the minute's start.
    service.manual.set(new Date('2026-11-25T07:00:31.000Z'))
    await service.app.scheduler.runOnce()
    expect(await service.storage.outcomes.overTime(bySecond)).toEqual([{ index: 0, byStatus: { sent: 1 }, byErrcode: { 0: 1 } }])
    expect(await service.storage.outcomes.compact(new Date('2026-11-25T05:01:00.000Z'))).toBe(0)
  })

  it('never runs twice at once: a second call joins the run in progress', async () => {
    await deferredMessage()
    service.manual.set(new Date('2026-11-25T06:00:00.000Z'))
    const first = service.app.scheduler.runOnce()
    const second = service.app.scheduler.runOnce()
    expect(second).toBe(first)
    expect(await first).toEqual({ processed: 1 })
    await service.app.scheduler.runOnce({ settle: true })
    expect(service.wechat.sendCalls).toBe(1)
  })
})
