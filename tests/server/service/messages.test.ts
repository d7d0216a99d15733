import Database from 'better-sqlite3'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import type { MessageDetail, MessageOutcome, MyMessage, Preferences } from '../../../src/domain/contract'
import { LEASE_MS } from '../../../server/dispatch/dispatcher'
import {
  ACCOUNT_SECURITY,
  ACTIVITY_DATA,
  ACTIVITY_REMINDER,
  ORDER_DATA,
  ORDER_STATUS,
  SECURITY_DATA,
  adminHeaders,
  errorOf,
  signIn,
  startFakeService,
  type FakeService,
} from '../support/service'

let service: FakeService
let alice: { authorization: string; openid: string }

beforeEach(async () => {
  service = await startFakeService()
  alice = await signIn(service.app, (user) => service.wechat.issueCode(user), 'alice')
})
afterEach(async () => service.close())

/** The person accepts `times` in the dialog: WeChat gets the quota, the service the credits. */
async function accept(templateId: string, times: number, who = alice): Promise<void> {
  for (let i = 0; i < times; i += 1) {
    service.wechat.grant(who.openid, { [templateId]: 'accept' })
    const reply = await service.app.inject({
      method: 'POST',
      url: '/api/consents',
      headers: { authorization: who.authorization },
      payload: { consentId: `consent-${templateId.slice(-6)}-${i}-${who.openid.slice(-4)}`, results: { [templateId]: 'accept' } },
    })
    expect(reply.statusCode).toBe(200)
  }
}

async function setPreferences(preferences: Preferences, who = alice): Promise<void> {
  const reply = await service.app.inject({ method: 'PUT', url: '/api/me/preferences', headers: { authorization: who.authorization }, payload: preferences })
  expect(reply.statusCode, reply.body).toBe(200)
}

async function send(body: Record<string, unknown>) {
  return service.app.inject({ method: 'POST', url: '/api/messages?wait=true', headers: adminHeaders, payload: body })
}

async function sendOrder(extra: Record<string, unknown> = {}): Promise<MessageOutcome> {
  const reply = await send({ touser: alice.openid, templateId: ORDER_STATUS.id, data: ORDER_DATA, page: 'pages/orders/index?id=DD1', ...extra })
  expect(reply.statusCode, reply.body).toBe(202)
  return reply.json<MessageOutcome>()
}

async function detail(id: string): Promise<MessageDetail> {
  const reply = await service.app.inject({ method: 'GET', url: `/api/messages/${id}`, headers: adminHeaders })
  expect(reply.statusCode).toBe(200)
  return reply.json<MessageDetail>()
}

const credits = (templateId = ORDER_STATUS.id): Promise<number> => service.storage.ledger.credits(alice.openid, templateId)

describe('POST /api/messages: sending', () => {
  it('spends one credit, sends, and records the attempt, the msgid and the history', async () => {
    await accept(ORDER_STATUS.id, 2)
    const outcome = await sendOrder()
    expect(outcome).toEqual({ id: expect.any(String), templateId: ORDER_STATUS.id, status: 'sent' })
    expect(await credits()).toBe(1)
    expect(service.wechat.accepted).toEqual([
      {
        touser: alice.openid,
        template_id: ORDER_STATUS.id,
        page: 'pages/orders/index?id=DD1',
        data: {
          character_string1: { value: 'DD20261125001' },
          phrase2: { value: '已发货' },
          thing3: { value: '机械键盘' },
          time4: { value: '2026年11月25日 13:05' },
          thing5: { value: '包裹正在路上' },
        },
        miniprogram_state: 'formal',
      },
    ])
    const message = await detail(outcome.id)
    expect(message).toMatchObject({
      touser: alice.openid,
      templateId: ORDER_STATUS.id,
      status: 'sent',
      msgid: '3000000000',
      urgent: false,
      sentAt: '2026-11-25T05:00:00.000Z',
      attempts: [{ at: '2026-11-25T05:00:00.000Z', errcode: 0, errmsg: 'ok' }],
    })
    expect(message.history.map((change) => change.status)).toEqual(['queued', 'sending', 'sent'])
    expect(message.data).toEqual(service.wechat.accepted[0]!.data)
    expect(message.page).toBe('pages/orders/index?id=DD1')
  })

  it('accepts the catalogue key for templateId and bare values or { value } objects', async () => {
    await accept(ORDER_STATUS.id, 1)
    const outcome = await sendOrder({ templateId: 'order_status', data: { ...ORDER_DATA, thing3: { value: '机械键盘' } } })
    expect(outcome.status).toBe('sent')
    expect((await detail(outcome.id)).templateId).toBe(ORDER_STATUS.id)
  })

  it('without credits fails with NO_CREDIT and never calls WeChat', async () => {
    const outcome = await sendOrder()
    expect(outcome).toEqual({ id: expect.any(String), templateId: ORDER_STATUS.id, status: 'failed', reason: 'NO_CREDIT' })
    expect(service.wechat.sendCalls).toBe(0)
  })

  it('does not consume a long-term subscription', async () => {
    service.wechat.grant(alice.openid, { [ACCOUNT_SECURITY.id]: 'accept' })
    await accept(ACCOUNT_SECURITY.id, 1)
    for (let i = 0; i < 3; i += 1) {
      const reply = await send({ touser: alice.openid, templateId: 'account_security', data: SECURITY_DATA })
      expect(reply.json<MessageOutcome>().status).toBe('sent')
    }
    expect(await credits(ACCOUNT_SECURITY.id)).toBe(1)
  })
})

describe('POST /api/messages: recording what WeChat answered fails', () => {
  // The SQLite engine's own error, as a locked or failing database throws it.
  const databaseLocked = (): Error => new Database.SqliteError('database is locked', 'SQLITE_BUSY')

  function logged(msg: string): { messageIds?: string[]; results?: unknown }[] {
    return service.logs.map((line) => JSON.parse(line) as { msg: string; messageIds?: string[]; results?: unknown }).filter((entry) => entry.msg === msg)
  }

  it('once: logged with the message id, written again, the message sent and never sent twice', async () => {
    await accept(ORDER_STATUS.id, 2)
    const finishSends = vi.spyOn(service.storage.messages, 'finishSends').mockRejectedValueOnce(databaseLocked())
    const outcome = await sendOrder()
    expect(outcome).toEqual({ id: expect.any(String), templateId: ORDER_STATUS.id, status: 'sent' })
    expect(finishSends).toHaveBeenCalledTimes(2)
    expect(service.wechat.sendCalls).toBe(1)
    expect(await detail(outcome.id)).toMatchObject({ status: 'sent', msgid: '3000000000', attempts: [{ errcode: 0 }] })
    expect(await credits()).toBe(1)
    expect(logged('recording the send result failed; writing it again')).toEqual([
      expect.objectContaining({ messageIds: [outcome.id], results: [{ status: 'sent', msgid: '3000000000' }] }),
    ])
  })

  it('twice: logged with the message id and what WeChat answered, answered as still sending, not sent again; INTERRUPTED once its lease runs out', async () => {
    await accept(ORDER_STATUS.id, 2)
    vi.spyOn(service.storage.messages, 'finishSends').mockRejectedValueOnce(databaseLocked()).mockRejectedValueOnce(databaseLocked())
    const reply = await send({ touser: alice.openid, templateId: ORDER_STATUS.id, data: ORDER_DATA })
    expect(reply.statusCode).toBe(202)
    expect(reply.body).not.toContain('database is locked')
    const [row] = service.storage.db.prepare('SELECT id, status FROM messages').all() as { id: string; status: string }[]
    expect(row?.status).toBe('sending')
    expect(reply.json()).toEqual({ id: row?.id, templateId: ORDER_STATUS.id, status: 'sending' })
    expect(logged('send result not recorded: the message stays sending until the next start marks it failed (INTERRUPTED)')).toEqual([
      expect.objectContaining({ messageIds: [row?.id], results: [{ status: 'sent', msgid: '3000000000' }] }),
    ])

    // Still this process's until its lease runs out; then no process holds it and it is in doubt.
    await service.app.scheduler.runOnce()
    expect((await detail(row?.id ?? '')).status).toBe('sending')
    service.manual.advance(LEASE_MS + 1)
    await service.app.scheduler.runOnce()
    expect(await detail(row?.id ?? '')).toMatchObject({ status: 'failed', reason: 'INTERRUPTED' })
    expect(await credits()).toBe(2)
    expect(service.wechat.sendCalls).toBe(1)
  })
})

describe('POST /api/messages: what WeChat answers decides the credit', () => {
  beforeEach(async () => accept(ORDER_STATUS.id, 3))

  it('43101: failed with reason "43101" and the credits set to zero', async () => {
    service.wechat.failNext(43101, 1)
    const outcome = await sendOrder()
    expect(outcome).toEqual({ id: outcome.id, templateId: ORDER_STATUS.id, status: 'failed', reason: '43101' })
    expect(await credits()).toBe(0)
    expect((await detail(outcome.id)).attempts).toEqual([{ at: '2026-11-25T05:00:00.000Z', errcode: 43101, errmsg: 'fake 43101' }])
  })

  it.each([47003, 40037, 41030, 40003])('%i: failed and the credit given back', async (errcode) => {
    service.wechat.failNext(errcode, 1)
    const outcome = await sendOrder()
    expect(outcome.reason).toBe(String(errcode))
    expect(await credits()).toBe(3)
  })

  it('retries exhausted (-1 five times): failed "-1", every attempt recorded, credit given back', async () => {
    service.wechat.failNext(-1, 1, 5)
    const outcome = await sendOrder()
    expect(outcome).toMatchObject({ status: 'failed', reason: '-1' })
    expect((await detail(outcome.id)).attempts.map((attempt) => attempt.errcode)).toEqual([-1, -1, -1, -1, -1])
    expect(await credits()).toBe(3)
  })

  it('an errcode nobody documented keeps the credit spent (never risk a send without consent)', async () => {
    service.wechat.failNext(99999, 1)
    const outcome = await sendOrder()
    expect(outcome.reason).toBe('99999')
    expect(await credits()).toBe(2)
  })

  it('counts messages by status and WeChat answers by errcode in /api/stats', async () => {
    service.wechat.failNext(47003, 1)
    await sendOrder()
    await sendOrder()
    const reply = await service.app.inject({ method: 'GET', url: '/api/stats', headers: adminHeaders })
    // The fake WeChat pushes nothing: no delivery is known.
    expect(reply.json()).toEqual({ byStatus: { failed: 1, sent: 1 }, byErrcode: { '0': 1, '47003': 1 }, byDelivery: { delivered: 0, failed: 0 } })
  })
})

describe('POST /api/messages: refused before anything happens', () => {
  beforeEach(async () => accept(ORDER_STATUS.id, 1))

  it('data that breaks a keyword rule: 400 naming the field and the rule, no credit touched, nothing written', async () => {
    const reply = await send({ touser: alice.openid, templateId: ORDER_STATUS.id, data: { ...ORDER_DATA, thing3: '一'.repeat(21) } })
    expect(errorOf(reply, 400)).toEqual({ code: 'INVALID_DATA', field: 'data.thing3.value', message: 'data.thing3.value: 最多 20 个字符' })
    expect(await credits()).toBe(1)
    expect((await service.storage.messages.stats()).byStatus).toEqual({})
  })

  it('truncate: true shortens a long thing to 17 characters and "..."', async () => {
    const outcome = await sendOrder({ data: { ...ORDER_DATA, thing3: '一'.repeat(25) }, truncate: true })
    expect(outcome.status).toBe('sent')
    expect(service.wechat.accepted[0]!.data.thing3).toEqual({ value: `${'一'.repeat(17)}...` })
  })

  it('a missing keyword and a keyword the template does not have', async () => {
    const { thing3: _dropped, ...withoutThing } = ORDER_DATA
    expect(errorOf(await send({ touser: alice.openid, templateId: ORDER_STATUS.id, data: withoutThing }), 400).field).toBe('data.thing3.value')
    const extra = errorOf(await send({ touser: alice.openid, templateId: ORDER_STATUS.id, data: { ...ORDER_DATA, thing9: 'x' } }), 400)
    expect(extra.field).toBe('data.thing9')
  })

  it('a page that is not in pages.json: 400 naming page', async () => {
    const reply = await send({ touser: alice.openid, templateId: ORDER_STATUS.id, data: ORDER_DATA, page: 'pages/nowhere/index' })
    expect(errorOf(reply, 400)).toMatchObject({ code: 'INVALID_PAGE', field: 'page' })
    expect(service.wechat.sendCalls).toBe(0)
  })

  it('an unknown template: 400 naming templateId', async () => {
    const reply = await send({ touser: alice.openid, templateId: 'nope', data: ORDER_DATA })
    expect(errorOf(reply, 400)).toMatchObject({ code: 'UNKNOWN_TEMPLATE', field: 'templateId' })
  })

  it('wrong types are not coerced', async () => {
    const reply = await send({ touser: alice.openid, templateId: ORDER_STATUS.id, data: ORDER_DATA, urgent: 'yes' })
    expect(errorOf(reply, 400)).toEqual({ code: 'VALIDATION_FAILED', field: 'urgent', message: 'urgent: 应为布尔值（true 或 false）' })
    const touser = await send({ touser: 12345, templateId: ORDER_STATUS.id, data: ORDER_DATA })
    expect(errorOf(touser, 400)).toMatchObject({ field: 'touser', message: 'touser: 应为字符串' })
  })
})

describe('idempotencyKey', () => {
  it('returns the same message and sends once, also for concurrent requests', async () => {
    await accept(ORDER_STATUS.id, 5)
    const replies = await Promise.all(Array.from({ length: 10 }, () => send({ touser: alice.openid, templateId: ORDER_STATUS.id, data: ORDER_DATA, idempotencyKey: 'order-DD1-shipped' })))
    const ids = new Set(replies.map((reply) => reply.json<MessageOutcome>().id))
    expect(ids.size).toBe(1)
    expect(service.wechat.sendCalls).toBe(1)
    expect(await credits()).toBe(4)
    const later = await send({ idempotencyKey: 'order-DD1-shipped', data: ORDER_DATA, templateId: ORDER_STATUS.id, touser: alice.openid })
    expect(later.statusCode).toBe(202)
    expect(later.json()).toEqual({ id: [...ids][0], templateId: ORDER_STATUS.id, status: 'sent' })
    expect(service.wechat.sendCalls).toBe(1)
  })

  it('the same key with another request answers 422 naming the key; nothing is written or sent for it', async () => {
    await accept(ORDER_STATUS.id, 5)
    const first = await sendOrder({ idempotencyKey: 'campaign-7' })
    const bob = await signIn(service.app, (user) => service.wechat.issueCode(user), 'bob')
    const reused = await send({ touser: bob.openid, templateId: ORDER_STATUS.id, data: ORDER_DATA, page: 'pages/orders/index?id=DD1', idempotencyKey: 'campaign-7' })
    expect(errorOf(reused, 422)).toEqual({
      code: 'IDEMPOTENCY_KEY_REUSED',
      field: 'idempotencyKey',
      message: 'idempotencyKey: 「campaign-7」已用于另一条内容不同的消息；同一个键只能重发完全相同的请求，新消息请换一个键',
    })
    const otherPage = await send({ touser: alice.openid, templateId: ORDER_STATUS.id, data: ORDER_DATA, idempotencyKey: 'campaign-7' })
    expect(errorOf(otherPage, 422)).toMatchObject({ code: 'IDEMPOTENCY_KEY_REUSED' })
    // The same request with its keys in another order is the same request.
    const reordered = await send({ idempotencyKey: 'campaign-7', page: 'pages/orders/index?id=DD1', data: { ...ORDER_DATA }, templateId: ORDER_STATUS.id, touser: alice.openid })
    expect(reordered.json()).toEqual(first)
    expect(service.storage.db.prepare('SELECT COUNT(*) AS n FROM messages').get()).toEqual({ n: 1 })
    expect(service.wechat.sendCalls).toBe(1)
  })
})

describe('preferences', () => {
  it('are the defaults until saved, then what was saved; bad values are refused naming the field', async () => {
    const initial = await service.app.inject({ method: 'GET', url: '/api/me/preferences', headers: { authorization: alice.authorization } })
    expect(initial.json()).toEqual({ quietHours: null, dailyLimit: 20, mutedCategories: [] })
    await setPreferences({ quietHours: { start: '22:00', end: '08:00' }, dailyLimit: 3, mutedCategories: ['marketing'] })
    const saved = await service.app.inject({ method: 'GET', url: '/api/me/preferences', headers: { authorization: alice.authorization } })
    expect(saved.json()).toEqual({ quietHours: { start: '22:00', end: '08:00' }, dailyLimit: 3, mutedCategories: ['marketing'] })

    const bad = await service.app.inject({
      method: 'PUT',
      url: '/api/me/preferences',
      headers: { authorization: alice.authorization },
      payload: { quietHours: { start: '25:00', end: '08:00' }, dailyLimit: 3, mutedCategories: [] },
    })
    expect(errorOf(bad, 400)).toEqual({ code: 'VALIDATION_FAILED', field: 'quietHours.start', message: 'quietHours.start: 格式不正确' })
    const tooMany = await service.app.inject({
      method: 'PUT',
      url: '/api/me/preferences',
      headers: { authorization: alice.authorization },
      payload: { quietHours: null, dailyLimit: 1000, mutedCategories: [] },
    })
    expect(errorOf(tooMany, 400)).toMatchObject({ field: 'dailyLimit', message: 'dailyLimit: 不能大于 100' })
  })

  it('a muted category skips the message (MUTED_CATEGORY) without touching credits', async () => {
    await accept(ACTIVITY_REMINDER.id, 1)
    await setPreferences({ quietHours: null, dailyLimit: 20, mutedCategories: ['marketing'] })
    const reply = await send({ touser: alice.openid, templateId: 'activity_reminder', data: ACTIVITY_DATA })
    // Sent by catalogue key, answered with the template's id.
    expect(reply.json()).toEqual({ id: expect.any(String), templateId: ACTIVITY_REMINDER.id, status: 'skipped', reason: 'MUTED_CATEGORY' })
    expect(await credits(ACTIVITY_REMINDER.id)).toBe(1)
    expect(service.wechat.sendCalls).toBe(0)
  })

  it('the daily limit skips what is over it (DAILY_LIMIT), counted per local day', async () => {
    await accept(ORDER_STATUS.id, 5)
    await setPreferences({ quietHours: null, dailyLimit: 2, mutedCategories: [] })
    const outcomes = [await sendOrder(), await sendOrder(), await sendOrder()]
    expect(outcomes.map((outcome) => outcome.status)).toEqual(['sent', 'sent', 'skipped'])
    expect(outcomes[2]!.reason).toBe('DAILY_LIMIT')
    expect(await credits()).toBe(3)
    // 2026-11-26 00:00 in Shanghai: a new day.
    service.manual.set(new Date('2026-11-25T16:00:00.000Z'))
    expect((await sendOrder()).status).toBe('sent')
  })

  it('a daily limit of 0 means no messages at all', async () => {
    await accept(ORDER_STATUS.id, 1)
    await setPreferences({ quietHours: null, dailyLimit: 0, mutedCategories: [] })
    expect(await sendOrder()).toMatchObject({ status: 'skipped', reason: 'DAILY_LIMIT' })
  })
})

describe('quiet hours', () => {
  beforeEach(async () => {
    await accept(ORDER_STATUS.id, 2)
    // 12:00–14:00 in Shanghai covers the test's 13:00.
    await setPreferences({ quietHours: { start: '12:00', end: '14:00' }, dailyLimit: 20, mutedCategories: [] })
  })

  it('defer a message until they end, and the scheduler sends it then', async () => {
    const outcome = await sendOrder()
    expect(outcome).toEqual({ id: outcome.id, templateId: ORDER_STATUS.id, status: 'deferred', deliverAfter: '2026-11-25T06:00:00.000Z' })
    expect(await credits()).toBe(2)

    service.manual.set(new Date('2026-11-25T05:59:00.000Z'))
    expect(await service.app.scheduler.runOnce({ settle: true })).toEqual({ processed: 0 })
    expect(service.wechat.sendCalls).toBe(0)

    service.manual.set(new Date('2026-11-25T06:00:00.000Z'))
    expect(await service.app.scheduler.runOnce({ settle: true })).toEqual({ processed: 1 })
    const message = await detail(outcome.id)
    expect(message).toMatchObject({ status: 'sent', sentAt: '2026-11-25T06:00:00.000Z' })
    expect(message.history.map((change) => change.status)).toEqual(['queued', 'deferred', 'queued', 'sending', 'sent'])
    expect(await credits()).toBe(1)

    const mine = await service.app.inject({ method: 'GET', url: '/api/me/messages', headers: { authorization: alice.authorization } })
    expect(mine.json<MyMessage[]>().map(withoutContent)).toEqual([
      { id: outcome.id, templateId: ORDER_STATUS.id, status: 'sent', createdAt: '2026-11-25T05:00:00.000Z', sentAt: '2026-11-25T06:00:00.000Z' },
    ])
  })

  it('do not hold an urgent message', async () => {
    expect((await sendOrder({ urgent: true })).status).toBe('sent')
  })

  it('do not hold a message that could never go: without a credit it fails NO_CREDIT at once', async () => {
    const bob = await signIn(service.app, (user) => service.wechat.issueCode(user), 'bob')
    await setPreferences({ quietHours: { start: '12:00', end: '14:00' }, dailyLimit: 20, mutedCategories: [] }, bob)
    const reply = await send({ touser: bob.openid, templateId: ORDER_STATUS.id, data: ORDER_DATA })
    expect(reply.json()).toEqual({ id: reply.json<MessageOutcome>().id, templateId: ORDER_STATUS.id, status: 'failed', reason: 'NO_CREDIT' })
  })

  it('are checked again when the time comes: longer quiet hours defer it again', async () => {
    const outcome = await sendOrder()
    await setPreferences({ quietHours: { start: '12:00', end: '15:30' }, dailyLimit: 20, mutedCategories: [] })
    service.manual.set(new Date('2026-11-25T06:00:00.000Z'))
    await service.app.scheduler.runOnce({ settle: true })
    expect(await detail(outcome.id)).toMatchObject({ status: 'deferred', deliverAfter: '2026-11-25T07:30:00.000Z' })
  })
})

/** A listed message without its content (checked on its own: the notice's labels and values). */
const withoutContent = ({ content: _content, ...row }: MyMessage): Omit<MyMessage, 'content'> => row
const orderContent = ORDER_STATUS.keywords.map((keyword) => ({ name: keyword.name, label: keyword.label, value: ORDER_DATA[keyword.name] }))

describe('GET /api/me/messages', () => {
  it('lists only the caller’s messages, newest first, with reasons and deliverAfter', async () => {
    const bob = await signIn(service.app, (user) => service.wechat.issueCode(user), 'bob')
    await accept(ORDER_STATUS.id, 1)
    const first = await sendOrder()
    service.manual.advance(1000)
    const second = await sendOrder()
    await send({ touser: bob.openid, templateId: ORDER_STATUS.id, data: ORDER_DATA })
    const reply = await service.app.inject({ method: 'GET', url: '/api/me/messages', headers: { authorization: alice.authorization } })
    expect(reply.json<MyMessage[]>().map((message) => message.content)).toEqual([orderContent, orderContent])
    expect(reply.json<MyMessage[]>().map(withoutContent)).toEqual([
      { id: second.id, templateId: ORDER_STATUS.id, status: 'failed', reason: 'NO_CREDIT', createdAt: '2026-11-25T05:00:01.000Z' },
      { id: first.id, templateId: ORDER_STATUS.id, status: 'sent', createdAt: '2026-11-25T05:00:00.000Z', sentAt: '2026-11-25T05:00:00.000Z' },
    ])
  })
})
