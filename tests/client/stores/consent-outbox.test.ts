/**
 * The outbox: an accepted consent is never lost (storage first, kept while offline / 5xx / signed out,
 * survives a restart) and never counted twice (the consentId is stable across replays).
 */
import { beforeEach, describe, expect, it, vi } from 'vitest'
import { PlatformError } from '@/platform/errors'
import { useConsentOutboxStore } from '@/stores/consent-outbox'
import { useSessionStore } from '@/stores/session'
import { useSubscriptionsStore } from '@/stores/subscriptions'
import { useTemplatesStore } from '@/stores/templates'
import { settle, setupClient, storeSlot, type TestClient } from '../support/client'
import { RETIRED_TEMPLATE_ID, templateByKey } from '../../support/templates'

const ORDER = templateByKey('order_status').id
const OPENID = 'o-device-alice'

let client: TestClient

beforeEach(async () => {
  client = setupClient()
  await useSessionStore().signIn()
  await useTemplatesStore().load()
})

function consentPosts(): number {
  return client.service.requests.filter((request) => request.path === '/api/consents').length
}

describe('offline, then back', () => {
  it('keeps the consent, retries with backoff on the timer, and delivers it once the service is back', async () => {
    client.service.offline = true
    const store = useSubscriptionsStore()
    const outbox = useConsentOutboxStore()

    const outcome = await client.platform.tap(() => store.subscribe([ORDER]))
    expect(outcome.reported).toBe(false)
    expect(outcome.flush.stoppedBy?.code).toBe('OFFLINE')
    expect(store.stateOf(ORDER)).toMatchObject({ status: 'accept', credits: null })
    expect(outbox.entries).toHaveLength(1)
    expect(outbox.entries[0]).toMatchObject({ consentId: outcome.consentId, attempts: 1, lastError: { code: 'OFFLINE' } })
    expect(client.time.scheduled).toEqual([2_000])

    // Still offline at the first retry: the next waits twice as long.
    client.time.advance(2_000)
    await settle()
    expect(outbox.entries[0]?.attempts).toBe(2)
    expect(client.time.scheduled).toEqual([4_000])

    client.service.offline = false
    client.time.advance(4_000)
    await settle()
    expect(outbox.entries).toEqual([])
    expect(client.time.scheduled).toEqual([])
    expect(store.stateOf(ORDER).credits).toBe(1)
    expect(client.service.credits(OPENID, ORDER)).toBe(1)
  })

  it('counts every accept still waiting (acceptWithAudio too) as a credit the service does not know yet', async () => {
    client.service.offline = true
    const shipping = templateByKey('shipping').id
    client.platform.answers = { [ORDER]: 'acceptWithAudio', [shipping]: 'reject' }
    await client.platform.tap(() => useSubscriptionsStore().subscribe([ORDER, shipping]))
    await client.platform.tap(() => useSubscriptionsStore().subscribe([ORDER]))
    expect(useConsentOutboxStore().pendingAccepts).toEqual({ [ORDER]: 2 })
    expect(useConsentOutboxStore().pendingCount).toBe(2)
  })

  it('a 5xx keeps the consent queued like offline', async () => {
    client.service.failNext('/api/consents', 503)
    const outcome = await client.platform.tap(() => useSubscriptionsStore().subscribe([ORDER]))
    expect(outcome.reported).toBe(false)
    expect(outcome.flush.stoppedBy).toMatchObject({ code: 'UNAVAILABLE', status: 503 })
    expect(useConsentOutboxStore().entries).toHaveLength(1)
    const report = await useConsentOutboxStore().flush()
    expect(report.acknowledged.map((ack) => ack.consentId)).toEqual([outcome.consentId])
    expect(client.service.credits(OPENID, ORDER)).toBe(1)
  })
})

describe('restart', () => {
  it('the outbox survives a restart (new pinia, same storage) and is delivered after it', async () => {
    client.service.offline = true
    const outcome = await client.platform.tap(() => useSubscriptionsStore().subscribe([ORDER]))
    useConsentOutboxStore().stopRetrying()

    client = client.restart()
    client.service.offline = false
    const outbox = useConsentOutboxStore()
    expect(outbox.entries.map((entry) => entry.consentId)).toEqual([outcome.consentId])
    expect(outbox.entries[0]?.results).toEqual({ [ORDER]: 'accept' })

    const subscriptions = useSubscriptionsStore()
    const report = await outbox.flush()
    expect(report.acknowledged).toEqual([{ consentId: outcome.consentId, credits: { [ORDER]: 1 } }])
    expect(subscriptions.stateOf(ORDER).credits).toBe(1)
    expect(client.service.credits(OPENID, ORDER)).toBe(1)
  })

  it('ignores a corrupt outbox entry and keeps the readable ones', () => {
    storeSlot(client, 'consent-outbox', {
      entries: [
        { consentId: 'good-consent-1', openid: OPENID, results: { [ORDER]: 'accept' }, createdAt: 1, attempts: 0, lastError: null },
        { consentId: 'bad', openid: OPENID, results: { [ORDER]: 'maybe' }, createdAt: 1, attempts: 0 },
        // Whose it is must be known: an entry that does not name its person is not read.
        { consentId: 'nobody-s-consent', results: { [ORDER]: 'accept' }, createdAt: 1, attempts: 0, lastError: null },
      ],
      dropped: [],
    })
    client = client.restart()
    expect(useConsentOutboxStore().entries.map((entry) => entry.consentId)).toEqual(['good-consent-1'])
  })
})

describe('replays are counted once', () => {
  it('an answer lost on the way back is replayed with the same consentId and adds nothing', async () => {
    const handler = client.platform.requestHandler
    let loseNextAnswer = true
    client.platform.requestHandler = async (request) => {
      const answer = await handler(request)
      if (request.url.endsWith('/api/consents') && loseNextAnswer) {
        loseNextAnswer = false
        // The service counted it, the phone never heard back.
        throw new PlatformError('TIMEOUT', 'request:fail timeout')
      }
      return answer
    }
    const outcome = await client.platform.tap(() => useSubscriptionsStore().subscribe([ORDER]))
    expect(outcome.reported).toBe(false)
    expect(client.service.credits(OPENID, ORDER)).toBe(1)

    const report = await useConsentOutboxStore().flush()
    expect(report.acknowledged).toEqual([{ consentId: outcome.consentId, credits: { [ORDER]: 1 } }])
    expect(consentPosts()).toBe(2)
    expect(client.service.requests.filter((r) => r.path === '/api/consents').map((r) => (r.body as { consentId: string }).consentId)).toEqual([
      outcome.consentId,
      outcome.consentId,
    ])
    expect(client.service.credits(OPENID, ORDER)).toBe(1)
    expect(useSubscriptionsStore().stateOf(ORDER).credits).toBe(1)
  })

  it('flushes running at once post each consent once', async () => {
    client.service.offline = true
    await client.platform.tap(() => useSubscriptionsStore().subscribe([ORDER]))
    client.service.offline = false
    const outbox = useConsentOutboxStore()
    const before = consentPosts()
    const [first, second] = await Promise.all([outbox.flush(), outbox.flush()])
    expect(first).toBe(second)
    expect(consentPosts() - before).toBe(1)
    expect(client.service.credits(OPENID, ORDER)).toBe(1)
  })
})

describe('signed out, other 4xx', () => {
  it('signed out, there is no one to count a consent for: subscribing is refused before WeChat is asked, nothing is queued', async () => {
    useSessionStore().signOut()
    const attempt = client.platform.tap(() => useSubscriptionsStore().subscribe([ORDER]))
    await expect(attempt).rejects.toMatchObject({ name: 'SubscribeError', code: 'SIGNED_OUT', message: '请先登录，再订阅消息' })
    expect(client.platform.subscribeCalls).toEqual([])
    expect(useConsentOutboxStore().entries).toEqual([])
    expect(consentPosts()).toBe(0)
  })

  it('keeps a consent while the session is refused (401) and sends it after the next sign-in', async () => {
    client.service.failNext('/api/consents', 401, { code: 'UNAUTHORIZED', message: '请先登录' })
    const outcome = await client.platform.tap(() => useSubscriptionsStore().subscribe([ORDER]))
    expect(outcome.flush.stoppedBy).toMatchObject({ code: 'UNAUTHORIZED' })
    expect(client.time.scheduled).toEqual([])
    expect(useConsentOutboxStore().entries.map((entry) => entry.consentId)).toEqual([outcome.consentId])

    await useSessionStore().signIn()
    await settle()
    expect(useConsentOutboxStore().entries).toEqual([])
    expect(client.service.credits(OPENID, ORDER)).toBe(1)
  })

  it('drops a consent the service refuses (400) and records why', async () => {
    const outbox = useConsentOutboxStore()
    outbox.enqueue({ [RETIRED_TEMPLATE_ID]: 'accept' }, OPENID)
    const report = await outbox.flush()
    expect(report.dropped).toHaveLength(1)
    expect(report.dropped[0]?.error).toMatchObject({ code: 'UNKNOWN_TEMPLATE', status: 400, message: `results.${RETIRED_TEMPLATE_ID}: 没有这个模板 ID` })
    expect(outbox.entries).toEqual([])
    expect(outbox.dropped.map((gone) => gone.results)).toEqual([{ [RETIRED_TEMPLATE_ID]: 'accept' }])
    expect(client.time.scheduled).toEqual([])
  })

  it('a 2xx answer of the wrong shape drops it too, recorded, and is not posted again', async () => {
    vi.spyOn(console, 'warn').mockImplementation(() => {})
    const handler = client.platform.requestHandler
    client.platform.requestHandler = async (request) => {
      const answer = await handler(request)
      return request.url.endsWith('/api/consents') ? { statusCode: 200, data: { credits: { [ORDER]: 'one' } } } : answer
    }
    const outcome = await client.platform.tap(() => useSubscriptionsStore().subscribe([ORDER]))
    expect(outcome.reported).toBe(false)
    const outbox = useConsentOutboxStore()
    expect(outbox.entries).toEqual([])
    expect(outbox.dropped[0]).toMatchObject({ consentId: outcome.consentId, error: { code: 'BAD_RESPONSE', status: 200, message: '服务返回的数据不完整，请稍后重试' } })
    expect(client.time.scheduled).toEqual([])
    vi.restoreAllMocks()
  })

  it('a template the service no longer knows drops only that answer: the others are still counted, once', async () => {
    const outbox = useConsentOutboxStore()
    const entry = outbox.enqueue({ [ORDER]: 'accept', [RETIRED_TEMPLATE_ID]: 'accept' }, OPENID)
    const report = await outbox.flush()
    expect(report.acknowledged).toEqual([{ consentId: entry.consentId, credits: { [ORDER]: 1 } }])
    expect(report.dropped.map((gone) => [gone.consentId, gone.results, gone.error.code])).toEqual([
      [entry.consentId, { [RETIRED_TEMPLATE_ID]: 'accept' }, 'UNKNOWN_TEMPLATE'],
    ])
    expect(outbox.entries).toEqual([])
    expect(client.service.credits(OPENID, ORDER)).toBe(1)
    expect(useSubscriptionsStore().stateOf(ORDER).credits).toBe(1)
    // Posted again under the same consent id, without the refused template.
    expect(client.service.requests.filter((r) => r.path === '/api/consents').map((r) => r.body)).toEqual([
      { consentId: entry.consentId, results: { [ORDER]: 'accept', [RETIRED_TEMPLATE_ID]: 'accept' } },
      { consentId: entry.consentId, results: { [ORDER]: 'accept' } },
    ])
  })
})

describe('each consent belongs to the person who answered it (H5 sandbox, switching test users)', () => {
  async function answerOfflineAs(name: string): Promise<string> {
    await useSessionStore().signInAsTestUser(name)
    client.service.offline = true
    const outcome = await client.platform.tap(() => useSubscriptionsStore().subscribe([ORDER]))
    useConsentOutboxStore().stopRetrying()
    client.service.offline = false
    return outcome.consentId
  }

  beforeEach(async () => {
    client = setupClient({ service: { sandbox: true } })
    await useSessionStore().signInAsTestUser('alice')
    await useTemplatesStore().load()
    useSessionStore().signOut()
  })

  it("A's waiting consent is not sent under B's session; it goes when A signs in again", async () => {
    const consentId = await answerOfflineAs('alice')
    const outbox = useConsentOutboxStore()
    expect(outbox.entries.map((entry) => entry.consentId)).toEqual([consentId])
    expect(outbox.pendingAccepts).toEqual({ [ORDER]: 1 })

    useSessionStore().signOut()
    await useSessionStore().signInAsTestUser('bob')
    const report = await outbox.flush()
    expect(report).toMatchObject({ acknowledged: [], remaining: 0, stoppedBy: null })
    expect(consentPosts()).toBe(0)
    expect(client.service.credits('o-bob', ORDER)).toBe(0)
    expect(outbox.pendingAccepts).toEqual({})
    expect(outbox.pendingCount).toBe(0)

    // Still stored for alice, across a restart too.
    client = client.restart()
    expect(useConsentOutboxStore().entries.map((entry) => [entry.consentId, entry.openid])).toEqual([[consentId, 'o-alice']])

    useSessionStore().signOut()
    await useSessionStore().signInAsTestUser('alice')
    await settle()
    expect(useConsentOutboxStore().entries).toEqual([])
    expect(client.service.credits('o-alice', ORDER)).toBe(1)
    expect(client.service.credits('o-bob', ORDER)).toBe(0)
  })

  it('B answering while A waits: only B\'s consent is posted for B', async () => {
    const aliceConsent = await answerOfflineAs('alice')
    useSessionStore().signOut()
    await useSessionStore().signInAsTestUser('bob')
    const outcome = await client.platform.tap(() => useSubscriptionsStore().subscribe([ORDER]))
    expect(outcome.reported).toBe(true)
    const posted = client.service.requests.filter((r) => r.path === '/api/consents')
    expect(posted.map((r) => [(r.body as { consentId: string }).consentId, r.openid])).toEqual([[outcome.consentId, 'o-bob']])
    expect(client.service.credits('o-bob', ORDER)).toBe(1)
    expect(client.service.credits('o-alice', ORDER)).toBe(0)
    expect(useConsentOutboxStore().entries.map((entry) => entry.consentId)).toEqual([aliceConsent])
  })

  it('an entry that does not name the person who answered is not read back, and posted for no one', async () => {
    storeSlot(client, 'consent-outbox', { entries: [{ consentId: 'unnamed-consent-1', results: { [ORDER]: 'accept' }, createdAt: 1, attempts: 0, lastError: null }], dropped: [] })
    client = client.restart()
    expect(useConsentOutboxStore().entries).toEqual([])

    await useSessionStore().signInAsTestUser('carol')
    await settle()
    expect(consentPosts()).toBe(0)
    expect(client.service.credits('o-carol', ORDER)).toBe(0)
  })
})
