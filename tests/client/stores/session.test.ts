import { beforeEach, describe, expect, it } from 'vitest'
import { useSessionStore } from '@/stores/session'
import { setupClient, type TestClient } from '../support/client'

let client: TestClient

beforeEach(() => {
  client = setupClient({ service: { sandbox: true } })
})

describe('session', () => {
  it('signIn: uni.login code → POST /api/session, token used on later requests', async () => {
    const session = useSessionStore()
    const answer = await session.signIn()
    expect(client.platform.loginCalls).toBe(1)
    expect(client.service.requests[0]).toMatchObject({ method: 'POST', path: '/api/session', body: { code: 'code-1' } })
    expect(session.openid).toBe('o-device-alice')
    expect(session.token).toBe(answer.token)
    expect(session.validToken()).toBe(answer.token)
    await client.context.api.myMessages()
    expect(client.service.requests.at(-1)).toMatchObject({ path: '/api/me/messages', openid: 'o-device-alice' })
  })

  it('signInAsTestUser: POST /sandbox/code → POST /api/session', async () => {
    const session = useSessionStore()
    await session.signInAsTestUser('bob')
    expect(client.service.requests.map((request) => request.path)).toEqual(['/sandbox/code', '/api/session'])
    expect(session.openid).toBe('o-bob')
    expect(session.testUser).toBe('bob')
  })

  it('survives a restart, and an expired token is not used', async () => {
    await useSessionStore().signIn()
    client = client.restart()
    const session = useSessionStore()
    expect(session.openid).toBe('o-device-alice')
    expect(session.validToken()).toBe(session.token)
    client.time.advance(7 * 24 * 3_600_000)
    expect(session.validToken()).toBeNull()
    expect(session.signedIn).toBe(true)
  })

  it('reads back the session with its test user, and not a stored one that lacks what the service answered', async () => {
    await useSessionStore().signInAsTestUser('bob')
    client = client.restart()
    expect(useSessionStore()).toMatchObject({ openid: 'o-bob', testUser: 'bob' })

    const stored = JSON.parse(client.platform.storage.get('uni-subscribe:session') ?? 'null') as { v: number; data: Record<string, unknown> }
    delete stored.data.openid
    client.platform.storage.set('uni-subscribe:session', JSON.stringify(stored))
    client = client.restart()
    expect(useSessionStore()).toMatchObject({ token: null, openid: null, testUser: null })
  })

  it('ensureSignedIn signs in once on a platform with WeChat login', async () => {
    const session = useSessionStore()
    await expect(session.ensureSignedIn()).resolves.toBe(true)
    await expect(session.ensureSignedIn()).resolves.toBe(true)
    expect(client.platform.loginCalls).toBe(1)
  })

  it('ensureSignedIn on H5 without a session answers false without trying', async () => {
    client = setupClient({ platform: { name: 'h5' } })
    await expect(useSessionStore().ensureSignedIn()).resolves.toBe(false)
    expect(client.platform.loginCalls).toBe(0)
  })

  it('a bad code is an UNAUTHORIZED ApiError and leaves the session empty', async () => {
    client = setupClient({ platform: { loginCode: () => 'invalid' } })
    const session = useSessionStore()
    await expect(session.signIn()).rejects.toMatchObject({ name: 'ApiError', code: 'UNAUTHORIZED', message: 'code: 登录凭证无效或已使用，请重新调用 uni.login 获取' })
    expect(session.token).toBeNull()
  })

  it('signOut forgets the session, also across a restart', async () => {
    await useSessionStore().signIn()
    useSessionStore().signOut()
    client = client.restart()
    expect(useSessionStore().token).toBeNull()
  })

  it('loadServiceInfo tells sandbox mode', async () => {
    const session = useSessionStore()
    await session.loadServiceInfo()
    expect(session.sandbox).toBe(true)
  })
})
