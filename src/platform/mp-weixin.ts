/**
 * The WeChat mini-program platform: every call goes to uni (→ wx).
 * `requestSubscribe` and `openSubscriptionsSetting` call uni synchronously, inside the caller's tap.
 */
import { subscribeResultFrom } from '@/domain/subscribe-results'
import { keptChoiceOf, type KeptChoice } from '@/rules/prompt-policy'
import { subscribeErrorFromWeChat } from '@/rules/subscribe-errors'
import { PlatformError } from './errors'
import type { Platform, SubscribeAnswers, SubscriptionsSetting } from './types'
import { errMsgOf, uniModal, uniOpenPage, uniRequest, uniStopPullDownRefresh, uniStorage, uniToast } from './uni-common'

/**
 * `{ errMsg: 'requestSubscribeMessage:ok', [id]: 'accept' | … }` → the answers for the ids asked. Every
 * `accept…` is kept as it came; an answer of no known form as `unrecognized:…` (never dropped).
 */
function answersFrom(success: unknown, tmplIds: readonly string[]): SubscribeAnswers {
  const answers: SubscribeAnswers = {}
  if (typeof success !== 'object' || success === null) return answers
  const record: Record<string, unknown> = { ...success }
  for (const id of tmplIds) {
    if (Object.prototype.hasOwnProperty.call(record, id)) answers[id] = subscribeResultFrom(record[id])
  }
  return answers
}

/** An `itemSettings` entry: a kept choice (any `accept…` is accept), or null (`filter`, or nothing WeChat documents). */
function keptChoice(value: unknown): KeptChoice | null {
  return keptChoiceOf(subscribeResultFrom(value))
}

/** getSetting's `subscriptionsSetting` → ours. Missing (old base library) reads as: switch on, nothing kept. */
function settingFrom(subscriptionsSetting: unknown): SubscriptionsSetting {
  const setting: SubscriptionsSetting = { mainSwitch: true, itemSettings: {} }
  if (typeof subscriptionsSetting !== 'object' || subscriptionsSetting === null) return setting
  const record: Record<string, unknown> = { ...subscriptionsSetting }
  if (typeof record.mainSwitch === 'boolean') setting.mainSwitch = record.mainSwitch
  const items = record.itemSettings
  if (typeof items === 'object' && items !== null) {
    for (const [id, value] of Object.entries(items)) {
      const choice = keptChoice(value)
      if (choice !== null) setting.itemSettings[id] = choice
    }
  }
  return setting
}

function getSubscriptionsSetting(): Promise<SubscriptionsSetting> {
  return new Promise((resolve, reject) => {
    uni.getSetting({
      withSubscriptions: true,
      success: (result) => resolve(settingFrom(result.subscriptionsSetting)),
      fail: (failure) => reject(subscribeErrorFromWeChat(failure)),
    })
  })
}

export function createMpWeixinPlatform(): Platform {
  return {
    name: 'mp-weixin',

    requestSubscribe(tmplIds) {
      // The executor runs synchronously: uni.requestSubscribeMessage is called before this returns.
      return new Promise((resolve, reject) => {
        uni.requestSubscribeMessage({
          tmplIds: [...tmplIds],
          success: (result) => resolve(answersFrom(result, tmplIds)),
          fail: (failure) => reject(subscribeErrorFromWeChat(failure)),
        })
      })
    },

    getSubscriptionsSetting,

    openSubscriptionsSetting() {
      const returned = new Promise<void>((resolve, reject) => {
        uni.openSetting({
          withSubscriptions: true,
          success: () => resolve(),
          fail: (failure) => reject(subscribeErrorFromWeChat(failure)),
        })
      })
      // Read again on return: the person may have changed the switch or a kept choice.
      return returned.then(getSubscriptionsSetting)
    },

    login() {
      return new Promise((resolve, reject) => {
        uni.login({
          provider: 'weixin',
          success: (result) => {
            if (typeof result.code === 'string' && result.code !== '') resolve(result.code)
            else reject(new PlatformError('LOGIN_FAILED', result.errMsg))
          },
          fail: (failure) => reject(new PlatformError('LOGIN_FAILED', errMsgOf(failure))),
        })
      })
    },

    request: uniRequest,
    storage: uniStorage,
    toast: uniToast,
    modal: uniModal,
    stopPullDownRefresh: uniStopPullDownRefresh,
    openPage: uniOpenPage,
  }
}
