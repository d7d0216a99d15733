/**
 * How a page gets to its data: signed in, then loaded.
 *
 * - mp-weixin: signs in on its own (`uni.login` → POST /api/session) and loads.
 * - H5, service in sandbox mode: asks for a test user's name first (the page shows `SignInCard`).
 * - H5 otherwise: there is no WeChat login in a browser; the page says so.
 * A 401 while loading (the token expired on the service) signs out and goes round once more.
 * Errors the person can act on (no network, the service refusing) become `loadError` in Chinese;
 * anything else is a bug and is thrown on.
 *
 * It owns the page's lifecycle: `onLoad` enters; each later `onShow` (back from settings, another
 * tab) runs `refresh` once the page is ready. When the person signed in changes (退出登录 / 切换用户
 * on H5, on this page or another tab's), the page enters again: the sign-in card, or the new
 * person's data. Call it during the page's setup.
 */
import { ref, watch, type Ref } from 'vue'
import { onLoad, onShow } from '@dcloudio/uni-app'
import { isApiError } from '@/api/errors'
import { isPlatformError } from '@/platform/errors'
import { isSubscribeError } from '@/rules/subscribe-errors'
import { useSessionStore } from '@/stores/session'

export type PageAccess =
  /** Signing in or loading for the first time. */
  | 'checking'
  | 'ready'
  /** H5 in sandbox mode, not signed in: ask for a test user. */
  | 'sign-in'
  /** H5 without the sandbox: nothing to sign in with. */
  | 'preview-only'

interface UsePageSessionReturn {
  access: Ref<PageAccess>
  /** Why the last load failed, for the person; null when it did not. */
  loadError: Ref<string | null>
  /** Signs in if needed, then runs the page's load. Call it from onLoad/onShow. */
  enter(): Promise<void>
  /** H5 sandbox: a sign-in is under way (the sign-in card's button waits). */
  signingIn: Ref<boolean>
  /** Why the last sign-in failed, in Chinese; null when it did not. */
  signInError: Ref<string | null>
  /** H5 sandbox: signs in as the named test user, then loads. A failure the person can act on becomes `signInError`. */
  signIn(name: string): Promise<void>
  /** Runs the page's refresh; a failure the person can act on becomes `loadError` (刷新失败：…). */
  refresh(): Promise<void>
}

interface UsePageSessionOptions {
  /** What a later show (and `refresh()`) re-reads; default: the whole `load`. */
  refresh?: () => Promise<void>
  /** Re-read on every show after the first; default true. */
  refreshOnShow?: boolean
}

/** The message of an error a person can do something about, or null for a bug. */
export function personMessage(error: unknown): string | null {
  if (isApiError(error) || isPlatformError(error) || isSubscribeError(error)) return error.message
  return null
}

export function usePageSession(load: () => Promise<void>, options: UsePageSessionOptions = {}): UsePageSessionReturn {
  const session = useSessionStore()
  const access = ref<PageAccess>('checking')
  const loadError = ref<string | null>(null)

  /** The person this page loaded for. */
  let enteredAs: string | null = null

  async function loadSignedIn(retryAfterUnauthorized: boolean): Promise<void> {
    enteredAs = session.openid
    try {
      await load()
      loadError.value = null
      access.value = 'ready'
    } catch (error) {
      if (isApiError(error) && error.code === 'UNAUTHORIZED' && retryAfterUnauthorized) {
        enteredAs = null
        session.signOut()
        return enterOnce(false)
      }
      const message = personMessage(error)
      if (message === null) throw error
      loadError.value = `加载失败：${message}`
      // What the page already holds (cached in the stores) stays on screen.
      access.value = 'ready'
    }
  }

  /** This page is signing in or loading: a change of person it makes itself is not news to it. */
  let entering = 0

  async function enterOnce(retryAfterUnauthorized: boolean): Promise<void> {
    entering += 1
    try {
      await enterSignedIn(retryAfterUnauthorized)
    } finally {
      entering -= 1
    }
  }

  async function enterSignedIn(retryAfterUnauthorized: boolean): Promise<void> {
    let signedIn: boolean
    try {
      signedIn = await session.ensureSignedIn()
      if (!signedIn) {
        enteredAs = null
        const info = await session.loadServiceInfo()
        access.value = info.sandbox ? 'sign-in' : 'preview-only'
        return
      }
    } catch (error) {
      const message = personMessage(error)
      if (message === null) throw error
      loadError.value = `登录失败：${message}`
      access.value = 'checking'
      return
    }
    await loadSignedIn(retryAfterUnauthorized)
  }

  const signingIn = ref(false)
  const signInError = ref<string | null>(null)

  async function signIn(name: string): Promise<void> {
    signingIn.value = true
    signInError.value = null
    try {
      await session.signInAsTestUser(name)
      await loadSignedIn(true)
    } catch (error) {
      const message = personMessage(error)
      if (message === null) throw error
      signInError.value = `登录失败：${message}`
    } finally {
      signingIn.value = false
    }
  }

  async function refresh(): Promise<void> {
    try {
      await (options.refresh ?? load)()
      loadError.value = null
    } catch (error) {
      const message = personMessage(error)
      if (message === null) throw error
      loadError.value = `刷新失败：${message}`
    }
  }

  const enter = (): Promise<void> => enterOnce(true)
  let loaded = false
  // Someone signed out or in elsewhere (this page's own sign-in loads by itself).
  watch(
    () => session.openid,
    (openid) => {
      if (loaded && entering === 0 && !signingIn.value && openid !== enteredAs) void enter()
    },
    { flush: 'sync' },
  )
  onLoad(() => {
    loaded = true
    void enter()
  })
  if (options.refreshOnShow ?? true) {
    onShow(() => {
      // The first show comes right after onLoad, which loads.
      if (loaded && access.value === 'ready') void refresh()
    })
  }

  return { access, loadError, enter, signingIn, signInError, signIn, refresh }
}
