/**
 * The session with the send service: bearer token, openid, expiry. Persisted.
 *
 * mp-weixin: `signIn()` = `uni.login` → POST /api/session { code }.
 * H5 in sandbox mode: `signInAsTestUser(name)` = POST /sandbox/code { user } → POST /api/session.
 * Actions throw `ApiError` / `PlatformError`; they never toast or navigate.
 */
import { defineStore } from 'pinia'
import { computed, ref } from 'vue'
import { SessionResponse, type ServiceInfo } from '@/domain/contract'
import { useClientContext } from '@/context'
import { isRecord, isString, persistedSlot } from '@/platform/persisted'
import { hasShape } from '@/rules/shape'
import { useConsentOutboxStore } from './consent-outbox'

/** The service's session answer, and the test user it was made for (H5 sandbox). */
interface StoredSession extends SessionResponse {
  testUser: string | null
}

function parseSession(data: unknown): StoredSession | null {
  const testUser = isRecord(data) ? data.testUser : null
  if (!hasShape(SessionResponse, data) || Number.isNaN(Date.parse(data.expiresAt))) return null
  const { token, openid, expiresAt } = data
  return { token, openid, expiresAt, testUser: isString(testUser) ? testUser : null }
}

export const useSessionStore = defineStore('session', () => {
  const context = useClientContext()
  const slot = persistedSlot(context.platform.storage, 'session', { version: 1, parse: parseSession })
  const stored = slot.load()

  // state
  const token = ref<string | null>(stored?.token ?? null)
  const openid = ref<string | null>(stored?.openid ?? null)
  /** ISO time the token stops working. */
  const expiresAt = ref<string | null>(stored?.expiresAt ?? null)
  /** The sandbox test user's name when signed in that way (H5). */
  const testUser = ref<string | null>(stored?.testUser ?? null)
  /** GET /api/info, once loaded. */
  const serviceInfo = ref<ServiceInfo | null>(null)

  // getters
  /** A token is held (it may have expired since: `validToken()` checks the clock). */
  const signedIn = computed(() => token.value !== null)
  const sandbox = computed(() => serviceInfo.value?.sandbox ?? false)

  function persist(): void {
    if (token.value === null || openid.value === null || expiresAt.value === null) {
      slot.clear()
      return
    }
    slot.save({ token: token.value, openid: openid.value, expiresAt: expiresAt.value, testUser: testUser.value })
  }

  /** The token when it has not expired yet, else null. */
  function validToken(): string | null {
    if (token.value === null || expiresAt.value === null) return null
    return Date.parse(expiresAt.value) > context.clock.now() ? token.value : null
  }

  function accept(session: SessionResponse, asTestUser: string | null): SessionResponse {
    // The openid last: stores and pages follow it synchronously and find the session complete.
    token.value = session.token
    expiresAt.value = session.expiresAt
    testUser.value = asTestUser
    openid.value = session.openid
    persist()
    // Consents that waited for a session can go now; flush() reports, it never rejects.
    void useConsentOutboxStore().flush()
    return session
  }

  /** mp-weixin: `uni.login` → POST /api/session. */
  async function signIn(): Promise<SessionResponse> {
    const code = await context.platform.login()
    return accept(await context.api.createSession(code), null)
  }

  /** H5 sandbox: sign in as a named test user (`^[A-Za-z0-9_-]{1,32}$`). */
  async function signInAsTestUser(name: string): Promise<SessionResponse> {
    const { code } = await context.api.sandboxCode(name)
    return accept(await context.api.createSession(code), name)
  }

  /** Signs in with `uni.login` when there is no valid token and the platform can; true when signed in after. */
  async function ensureSignedIn(): Promise<boolean> {
    if (validToken() !== null) return true
    if (context.platform.name === 'h5') return false
    await signIn()
    return true
  }

  function signOut(): void {
    token.value = null
    expiresAt.value = null
    testUser.value = null
    openid.value = null
    persist()
  }

  /** GET /api/info: whether the service runs its sandbox WeChat. */
  async function loadServiceInfo(): Promise<ServiceInfo> {
    const info = await context.api.info()
    serviceInfo.value = info
    return info
  }

  return {
    token,
    openid,
    expiresAt,
    testUser,
    serviceInfo,
    signedIn,
    sandbox,
    validToken,
    signIn,
    signInAsTestUser,
    ensureSignedIn,
    signOut,
    loadServiceInfo,
  }
})
