/**
 * What a page does after a tap that subscribes or opens settings. The tap handler itself calls the
 * store's `subscribe()` / `openSettings()` FIRST and synchronously (WeChat must still see the tap) and
 * hands the promise it got here; only what follows is shared.
 *
 * - `followSubscribe(pending, describe)`: once the dialog answered, a toast with what the page says
 *   about it (`describe` gets the ids the person accepted), or, when the service refused the consent
 *   for good, why; a `SubscribeError` is toasted with its message. `busy` is true until then.
 * - `followSettings(returned, then)`: back from settings, `then` runs (e.g. the credits read again).
 * - `toastFailure(error, prefix)`: a failure a person can act on, as a toast.
 * An error that is none of these (a bug) is thrown on.
 */
import { ref, type Ref } from 'vue'
import { isAccept } from '@/domain/subscribe-results'
import { isSubscribeError } from '@/rules/subscribe-errors'
import { usePlatform } from '@/context'
import type { SubscriptionsSetting } from '@/platform/types'
import type { SubscribeOutcome } from '@/stores/subscriptions'
import { personMessage } from './use-page-session'

interface UseConsentPromptsReturn {
  /** A dialog's answer is still awaited. */
  busy: Ref<boolean>
  followSubscribe(pending: Promise<SubscribeOutcome>, describe: (accepted: string[], outcome: SubscribeOutcome) => string): Promise<void>
  followSettings(returned: Promise<SubscriptionsSetting>, then?: () => Promise<void>): Promise<void>
  toastFailure(error: unknown, prefix?: string): void
}

export function useConsentPrompts(): UseConsentPromptsReturn {
  const platform = usePlatform()
  const busy = ref(false)

  function toastFailure(error: unknown, prefix = ''): void {
    const message = personMessage(error)
    if (message === null) throw error
    platform.toast({ title: `${prefix}${message}`, icon: 'none' })
  }

  async function followSubscribe(
    pending: Promise<SubscribeOutcome>,
    describe: (accepted: string[], outcome: SubscribeOutcome) => string,
  ): Promise<void> {
    busy.value = true
    try {
      const outcome = await pending
      const accepted = Object.entries(outcome.results).filter(([, result]) => isAccept(result)).map(([id]) => id)
      // The service will never take this consent (refused it, or answered in words the app cannot read).
      const dropped = outcome.flush.dropped.find((gone) => gone.consentId === outcome.consentId)
      if (accepted.length > 0 && dropped !== undefined) {
        platform.toast({ title: `订阅没有记到服务上：${dropped.error.message}`, icon: 'none', duration: 3000 })
        return
      }
      platform.toast({ title: describe(accepted, outcome), icon: 'none' })
    } catch (error) {
      // The store recorded it (the main switch off brings up the guide); the toast says why.
      if (!isSubscribeError(error)) throw error
      platform.toast({ title: error.message, icon: 'none', duration: 3000 })
    } finally {
      busy.value = false
    }
  }

  async function followSettings(returned: Promise<SubscriptionsSetting>, then?: () => Promise<void>): Promise<void> {
    try {
      await returned
      await then?.()
    } catch (error) {
      toastFailure(error)
    }
  }

  return { busy, followSubscribe, followSettings, toastFailure }
}
