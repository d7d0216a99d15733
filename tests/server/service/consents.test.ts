import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import {
  ACCOUNT_SECURITY,
  ACTIVITY_REMINDER,
  ORDER_STATUS,
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

async function consent(authorization: string, consentId: string, results: Record<string, string>) {
  return service.app.inject({
    method: 'POST',
    url: '/api/consents',
    headers: { authorization },
    payload: { consentId, results },
  })
}

describe('POST /api/consents', () => {
  it('adds one credit per accept of a one-time template and records every answer', async () => {
    const first = await consent(alice.authorization, 'consent-0001', {
      [ORDER_STATUS.id]: 'accept',
      [ACTIVITY_REMINDER.id]: 'reject',
    })
    expect(first.statusCode).toBe(200)
    expect(first.json()).toEqual({ credits: { [ORDER_STATUS.id]: 1, [ACTIVITY_REMINDER.id]: 0 } })

    const second = await consent(alice.authorization, 'consent-0002', { [ORDER_STATUS.id]: 'acceptWithAudio' })
    expect(second.json()).toEqual({ credits: { [ORDER_STATUS.id]: 2 } })

    const list = await service.app.inject({ method: 'GET', url: '/api/me/subscriptions', headers: { authorization: alice.authorization } })
    expect(list.statusCode).toBe(200)
    expect(list.json()).toEqual(
      expect.arrayContaining([
        { templateId: ORDER_STATUS.id, credits: 2, lastResult: 'acceptWithAudio', updatedAt: '2026-11-25T05:00:00.000Z' },
        { templateId: ACTIVITY_REMINDER.id, credits: 0, lastResult: 'reject', updatedAt: '2026-11-25T05:00:00.000Z' },
      ]),
    )
  })

  it('counts every accept… answer (the 强提醒 acceptWithAlert, acceptWithForcePush) and keeps it as it came', async () => {
    const alert = await consent(alice.authorization, 'consent-0001', { [ORDER_STATUS.id]: 'acceptWithAlert' })
    expect(alert.statusCode).toBe(200)
    expect(alert.json()).toEqual({ credits: { [ORDER_STATUS.id]: 1 } })
    const forcePush = await consent(alice.authorization, 'consent-0002', { [ORDER_STATUS.id]: 'acceptWithForcePush', [ACCOUNT_SECURITY.id]: 'acceptWithAlert' })
    expect(forcePush.json()).toEqual({ credits: { [ORDER_STATUS.id]: 2, [ACCOUNT_SECURITY.id]: 1 } })
    const list = await service.app.inject({ method: 'GET', url: '/api/me/subscriptions', headers: { authorization: alice.authorization } })
    expect(list.json()).toEqual(
      expect.arrayContaining([
        { templateId: ORDER_STATUS.id, credits: 2, lastResult: 'acceptWithForcePush', updatedAt: '2026-11-25T05:00:00.000Z' },
        { templateId: ACCOUNT_SECURITY.id, credits: 1, lastResult: 'acceptWithAlert', updatedAt: '2026-11-25T05:00:00.000Z' },
      ]),
    )
  })

  it('records an unrecognized answer as such, with no credit; a word that is neither is refused naming it', async () => {
    await consent(alice.authorization, 'consent-0001', { [ORDER_STATUS.id]: 'accept' })
    const odd = await consent(alice.authorization, 'consent-0002', { [ORDER_STATUS.id]: 'unrecognized:maybeLater', [ACCOUNT_SECURITY.id]: 'unrecognized:42' })
    expect(odd.statusCode).toBe(200)
    expect(odd.json()).toEqual({ credits: { [ORDER_STATUS.id]: 1, [ACCOUNT_SECURITY.id]: 0 } })
    const list = await service.app.inject({ method: 'GET', url: '/api/me/subscriptions', headers: { authorization: alice.authorization } })
    expect(list.json()).toEqual(
      expect.arrayContaining([{ templateId: ORDER_STATUS.id, credits: 1, lastResult: 'unrecognized:maybeLater', updatedAt: '2026-11-25T05:00:00.000Z' }]),
    )
    const refused = await consent(alice.authorization, 'consent-0003', { [ORDER_STATUS.id]: 'maybeLater' })
    expect(errorOf(refused, 400)).toMatchObject({ code: 'VALIDATION_FAILED', field: `results.${ORDER_STATUS.id}` })
  })

  it('keeps credits earned before when a later answer is reject, ban or filter', async () => {
    await consent(alice.authorization, 'consent-0001', { [ORDER_STATUS.id]: 'accept' })
    await consent(alice.authorization, 'consent-0002', { [ORDER_STATUS.id]: 'accept' })
    const rejected = await consent(alice.authorization, 'consent-0003', { [ORDER_STATUS.id]: 'reject' })
    expect(rejected.json()).toEqual({ credits: { [ORDER_STATUS.id]: 2 } })
    const banned = await consent(alice.authorization, 'consent-0004', { [ORDER_STATUS.id]: 'ban' })
    expect(banned.json()).toEqual({ credits: { [ORDER_STATUS.id]: 2 } })
    const filtered = await consent(alice.authorization, 'consent-0005', { [ORDER_STATUS.id]: 'filter' })
    expect(filtered.json()).toEqual({ credits: { [ORDER_STATUS.id]: 2 } })
  })

  it('marks a long-term template subscribed (1, not consumed) and unsubscribes it on reject', async () => {
    const accepted = await consent(alice.authorization, 'consent-0001', { [ACCOUNT_SECURITY.id]: 'accept' })
    expect(accepted.json()).toEqual({ credits: { [ACCOUNT_SECURITY.id]: 1 } })
    const again = await consent(alice.authorization, 'consent-0002', { [ACCOUNT_SECURITY.id]: 'accept' })
    expect(again.json()).toEqual({ credits: { [ACCOUNT_SECURITY.id]: 1 } })
    const rejected = await consent(alice.authorization, 'consent-0003', { [ACCOUNT_SECURITY.id]: 'reject' })
    expect(rejected.json()).toEqual({ credits: { [ACCOUNT_SECURITY.id]: 0 } })
  })

  it('answers a replayed consentId with the first answer and adds nothing', async () => {
    const first = await consent(alice.authorization, 'consent-replay', { [ORDER_STATUS.id]: 'accept' })
    await consent(alice.authorization, 'consent-later', { [ORDER_STATUS.id]: 'accept' })
    const replay = await consent(alice.authorization, 'consent-replay', { [ORDER_STATUS.id]: 'accept' })
    expect(replay.statusCode).toBe(200)
    expect(replay.json()).toEqual(first.json())
    expect(await service.storage.ledger.credits(alice.openid, ORDER_STATUS.id)).toBe(2)
  })

  it('counts a consentId once when 20 copies arrive at the same moment', async () => {
    const replies = await Promise.all(
      Array.from({ length: 20 }, () => consent(alice.authorization, 'consent-burst', { [ORDER_STATUS.id]: 'accept' })),
    )
    expect(replies.map((reply) => reply.statusCode)).toEqual(Array(20).fill(200))
    expect(new Set(replies.map((reply) => reply.body))).toEqual(new Set([JSON.stringify({ credits: { [ORDER_STATUS.id]: 1 } })]))
    expect(await service.storage.ledger.credits(alice.openid, ORDER_STATUS.id)).toBe(1)
  })

  it('keeps consentIds per person: the same id from another person is their own consent', async () => {
    const bob = await signIn(service.app, (user) => service.wechat.issueCode(user), 'bob')
    await consent(alice.authorization, 'consent-shared', { [ORDER_STATUS.id]: 'accept' })
    const bobs = await consent(bob.authorization, 'consent-shared', { [ORDER_STATUS.id]: 'accept' })
    expect(bobs.json()).toEqual({ credits: { [ORDER_STATUS.id]: 1 } })
    expect(await service.storage.ledger.credits(alice.openid, ORDER_STATUS.id)).toBe(1)
  })

  it('refuses an unknown template id with 400 naming it, and changes nothing', async () => {
    const reply = await consent(alice.authorization, 'consent-unknown', { [ORDER_STATUS.id]: 'accept', 'no-such-template': 'accept' })
    const error = errorOf(reply, 400)
    expect(error.code).toBe('UNKNOWN_TEMPLATE')
    expect(error.field).toBe('results.no-such-template')
    expect(error.message).toContain('no-such-template')
    expect(await service.storage.ledger.credits(alice.openid, ORDER_STATUS.id)).toBe(0)
    // The client's outbox posts the rest again under the same consentId: it counts, once.
    const rest = await consent(alice.authorization, 'consent-unknown', { [ORDER_STATUS.id]: 'accept' })
    expect(rest.json()).toEqual({ credits: { [ORDER_STATUS.id]: 1 } })
    await consent(alice.authorization, 'consent-unknown', { [ORDER_STATUS.id]: 'accept' })
    expect(await service.storage.ledger.credits(alice.openid, ORDER_STATUS.id)).toBe(1)
  })

  it('refuses answers WeChat never gives, a short consentId and empty results', async () => {
    const wrongAnswer = errorOf(await consent(alice.authorization, 'consent-0001', { [ORDER_STATUS.id]: 'maybe' }), 400)
    expect(wrongAnswer).toMatchObject({ code: 'VALIDATION_FAILED', field: `results.${ORDER_STATUS.id}` })
    expect(wrongAnswer.message).toContain('"accept"')

    const shortId = errorOf(await consent(alice.authorization, 'short', { [ORDER_STATUS.id]: 'accept' }), 400)
    expect(shortId).toEqual({ code: 'VALIDATION_FAILED', field: 'consentId', message: 'consentId: 至少 8 个字符' })

    const empty = errorOf(await consent(alice.authorization, 'consent-0001', {}), 400)
    expect(empty.field).toBe('results')
  })

  it('needs a session', async () => {
    const reply = await service.app.inject({
      method: 'POST',
      url: '/api/consents',
      payload: { consentId: 'consent-0001', results: { [ORDER_STATUS.id]: 'accept' } },
    })
    expect(errorOf(reply, 401).code).toBe('UNAUTHORIZED')
  })
})
