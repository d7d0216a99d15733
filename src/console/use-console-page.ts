/**
 * What every console page does: it needs a live operator session (else it goes to sign-in), loads
 * what it shows each time it shows, maybe again on an interval while it shows, and turns errors into
 * plain Chinese. A session the service refuses (expired: 401; no longer known: 403) ends here and
 * the sign-in page says why. Pages decide toasts and navigation; this composable is theirs.
 */
import { onHide, onShow, onUnload } from '@dcloudio/uni-app'
import { ref, type Ref } from 'vue'
import { isApiError } from '@/api/errors'
import { useConsole } from './context'
import { EXPIRED_MESSAGE, useOperatorSessionStore } from './stores/operator-session'

export const SIGN_IN_PAGE = '/pages/console/sign-in'

export interface UseConsolePageOptions {
  /** What the page shows, read each time it shows. */
  load: () => Promise<void>
  /** Reads again every this many ms while the page shows (and `keepRefreshing` says so). */
  refreshMs?: number
  keepRefreshing?: () => boolean
}

export interface UseConsolePageReturn {
  /** True until the first load ended. */
  loading: Ref<boolean>
  /** What went wrong in the last load, in Chinese; null when it worked. */
  error: Ref<string | null>
  reload(): Promise<void>
  /** Runs an operator's action; on failure toasts its message and resolves false. */
  act(action: () => Promise<void>, done?: string): Promise<boolean>
}

/** An error as the operator reads it. */
export function errorText(error: unknown): string {
  if (isApiError(error)) return error.message
  return '出了点问题，请稍后重试'
}

export function useConsolePage(options: UseConsolePageOptions): UseConsolePageReturn {
  const { platform, timers } = useConsole()
  const session = useOperatorSessionStore()
  const loading = ref(true)
  const error = ref<string | null>(null)
  let cancelRefresh: (() => void) | null = null
  let showing = false

  /** True when `failure` ended the session (and the page went to sign-in). */
  function signedOut(failure: unknown): boolean {
    if (!isApiError(failure) || (failure.status !== 401 && failure.status !== 403)) return false
    session.end(failure.status === 401 ? EXPIRED_MESSAGE : '登录已失效，请重新输入管理密钥登录')
    platform.restart(SIGN_IN_PAGE)
    return true
  }

  async function reload(): Promise<void> {
    try {
      await options.load()
      error.value = null
    } catch (failure) {
      if (!signedOut(failure)) error.value = errorText(failure)
    } finally {
      loading.value = false
    }
  }

  function scheduleRefresh(): void {
    cancelRefresh?.()
    cancelRefresh = null
    if (options.refreshMs === undefined || !showing) return
    cancelRefresh = timers.schedule(() => {
      if (!showing) return
      if (options.keepRefreshing !== undefined && !options.keepRefreshing()) return scheduleRefresh()
      void reload().then(scheduleRefresh)
    }, options.refreshMs)
  }

  function stop(): void {
    showing = false
    cancelRefresh?.()
    cancelRefresh = null
  }

  onShow(() => {
    if (session.validToken() === null) {
      platform.restart(SIGN_IN_PAGE)
      return
    }
    showing = true
    void reload().then(scheduleRefresh)
  })
  onHide(stop)
  onUnload(stop)

  return {
    loading,
    error,
    reload,
    async act(action, done) {
      try {
        await action()
        if (done !== undefined) platform.toast({ title: done, icon: 'success' })
        return true
      } catch (failure) {
        if (!signedOut(failure)) platform.toast({ title: errorText(failure), icon: 'none', duration: 3000 })
        return false
      }
    },
  }
}
