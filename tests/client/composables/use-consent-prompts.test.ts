import { beforeEach, describe, expect, it } from 'vitest'
import { ApiError } from '@/api/errors'
import { useConsentPrompts } from '@/composables/use-consent-prompts'
import { SubscribeError } from '@/rules/subscribe-errors'
import type { SubscribeOutcome } from '@/stores/subscriptions'
import { setupClient, type TestClient } from '../support/client'

let client: TestClient

beforeEach(() => {
  client = setupClient()
})

function answered(results: SubscribeOutcome['results']): SubscribeOutcome {
  return { results, consentId: 'consent-0001-device', reported: true, flush: { acknowledged: [], dropped: [], remaining: 0, stoppedBy: null } }
}

describe('after a subscribe tap', () => {
  it('says what the page makes of the accepted ids (every accept counts), and is busy until the answer', async () => {
    const prompts = useConsentPrompts()
    let answer: (outcome: SubscribeOutcome) => void = () => {}
    const following = prompts.followSubscribe(new Promise((resolve) => (answer = resolve)), (accepted) => `accepted ${accepted.join(',')}`)
    expect(prompts.busy.value).toBe(true)
    answer(answered({ A: 'accept', B: 'acceptWithAudio', C: 'reject', D: 'filter', E: 'ban' }))
    await following
    expect(prompts.busy.value).toBe(false)
    expect(client.platform.toasts).toEqual([{ title: 'accepted A,B', icon: 'none' }])
  })

  it('a SubscribeError is toasted with its message, a little longer', async () => {
    const prompts = useConsentPrompts()
    await prompts.followSubscribe(Promise.reject(new SubscribeError('APP_BANNED')), () => 'never')
    expect(client.platform.toasts).toEqual([{ title: '本小程序暂时不能发送订阅消息', icon: 'none', duration: 3000 }])
    expect(prompts.busy.value).toBe(false)
  })

  it('a bug is thrown on, not toasted', async () => {
    const prompts = useConsentPrompts()
    await expect(prompts.followSubscribe(Promise.reject(new TypeError('boom')), () => 'never')).rejects.toThrow('boom')
    expect(client.platform.toasts).toEqual([])
  })
})

describe('after a settings tap', () => {
  it('runs what follows once back; a failure a person can act on is toasted', async () => {
    const prompts = useConsentPrompts()
    const setting = { mainSwitch: true, itemSettings: {} }
    const ran: string[] = []
    await prompts.followSettings(Promise.resolve(setting), async () => {
      ran.push('then')
    })
    expect(ran).toEqual(['then'])
    await prompts.followSettings(Promise.resolve(setting), () => Promise.reject(new ApiError('OFFLINE', { status: null, message: '网络连接失败，请检查网络后重试' })))
    await prompts.followSettings(Promise.reject(new SubscribeError('NOT_IN_TAP')))
    expect(client.platform.toasts.map((toast) => toast.title)).toEqual(['网络连接失败，请检查网络后重试', '订阅需要你亲自点按按钮才能发起，请再点一次'])
    await expect(prompts.followSettings(Promise.reject(new RangeError('bug')))).rejects.toThrow('bug')
  })

  it('toastFailure puts the page\'s words before the message', () => {
    useConsentPrompts().toastFailure(new ApiError('TIMEOUT', { status: null, message: '服务响应超时，请稍后重试' }), '没能打开订阅：')
    expect(client.platform.toasts).toEqual([{ title: '没能打开订阅：服务响应超时，请稍后重试', icon: 'none' }])
  })
})
