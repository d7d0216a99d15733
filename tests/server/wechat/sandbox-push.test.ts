/**
 * The sandbox WeChat's message push: what it posts (signed, encrypted in secure and compatible mode),
 * that it never waits for the answer, and that it tries a push three times in all, as WeChat does.
 * Then the service in sandbox mode, listening: the sandbox's pushes reach it over HTTP.
 */
import { afterEach, describe, expect, it } from 'vitest'
import type { SubscribeResult } from '../../../src/domain/contract'
import { decryptPush, pushSignature } from '../../../server/wechat/push/crypto'
import { createSandboxWeChat, type PushTarget, type SandboxWeChat } from '../../../server/wechat/sandbox'
import { ORDER_DATA, ORDER_STATUS, TEMPLATES, PAGES, adminHeaders, signIn, startSandboxService, type SandboxService } from '../support/service'
import { APP_ID, SECRET, manualClock } from './support'

const TOKEN = 'SandboxToken42'
const AES_KEY = 'abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG'

interface Posted {
  query: URLSearchParams
  body: string
  contentType: string
}

let sandbox: SandboxWeChat | null = null
let service: SandboxService | null = null
afterEach(async () => {
  await sandbox?.close()
  await service?.close()
  sandbox = null
  service = null
})

/** A sandbox whose waits are recorded instead of waited. */
function startSandbox(): { sandbox: SandboxWeChat; waits: number[] } {
  const waits: number[] = []
  sandbox = createSandboxWeChat({ appId: APP_ID, secret: SECRET, templates: [...TEMPLATES], pages: PAGES, clock: manualClock(), pushSleep: async (ms) => void waits.push(ms) })
  return { sandbox, waits }
}

/** A target that answers with `answers` in turn (then success), recording what it got. */
function target(answers: Array<{ statusCode: number; body: string } | 'refused'> = []): PushTarget & { posted: Posted[] } {
  const posted: Posted[] = []
  return {
    posted,
    async post({ query, body, contentType }) {
      posted.push({ query: new URLSearchParams(query), body, contentType })
      const answer = answers.shift() ?? { statusCode: 200, body: 'success' }
      if (answer === 'refused') throw new Error('connect ECONNREFUSED')
      return answer
    },
  }
}

const accept = (...templateIds: string[]): Record<string, SubscribeResult> => Object.fromEntries(templateIds.map((id) => [id, 'accept'])) as Record<string, SubscribeResult>

describe('what the sandbox WeChat posts', () => {
  it('secure mode (the default with a key): signature, msg_signature over Encrypt, only ToUserName and Encrypt, for its AppID', async () => {
    const { sandbox } = startSandbox()
    const to = target()
    sandbox.push.connect(to, { token: TOKEN, aesKey: AES_KEY })
    const openid = sandbox.openidFor('alice')
    sandbox.grant(openid, { [ORDER_STATUS.id]: 'accept', [TEMPLATES[1]!.id]: 'reject' })
    await sandbox.push.settled()
    const [{ query, body, contentType }] = to.posted as [Posted]
    expect(contentType).toBe('text/xml')
    expect(query.get('encrypt_type')).toBe('aes')
    expect(query.get('openid')).toBe(openid)
    const timestamp = query.get('timestamp')!
    const nonce = query.get('nonce')!
    expect(query.get('signature')).toBe(pushSignature(TOKEN, timestamp, nonce))
    const encrypted = /<Encrypt><!\[CDATA\[(.+)\]\]><\/Encrypt>/.exec(body)![1]!
    expect(query.get('msg_signature')).toBe(pushSignature(TOKEN, timestamp, nonce, encrypted))
    expect(body).toMatch(/^<xml><ToUserName><!\[CDATA\[gh_[0-9a-f]{12}\]\]><\/ToUserName><Encrypt>/)
    const inner = decryptPush(AES_KEY, encrypted)
    expect(inner.appId).toBe(APP_ID)
    expect(inner.message).toContain('<Event><![CDATA[subscribe_msg_popup_event]]></Event>')
    expect(inner.message).toContain(`<List><TemplateId><![CDATA[${ORDER_STATUS.id}]]></TemplateId><SubscribeStatusString><![CDATA[accept]]></SubscribeStatusString><PopupScene>0</PopupScene></List>`)
    expect(inner.message).toContain(`<TemplateId><![CDATA[${TEMPLATES[1]!.id}]]></TemplateId><SubscribeStatusString><![CDATA[reject]]></SubscribeStatusString>`)
  })

  it('compatible mode posts the plaintext beside Encrypt; plaintext mode only the plaintext; JSON when asked', async () => {
    const { sandbox } = startSandbox()
    const openid = sandbox.openidFor('alice')
    const compatible = target()
    sandbox.push.connect(compatible, { token: TOKEN, aesKey: AES_KEY, mode: 'compatible', format: 'json' })
    sandbox.grant(openid, accept(ORDER_STATUS.id))
    await sandbox.push.settled()
    const posted = JSON.parse(compatible.posted[0]!.body) as Record<string, unknown>
    expect(posted).toMatchObject({ FromUserName: openid, MsgType: 'event', Event: 'subscribe_msg_popup_event', List: { TemplateId: ORDER_STATUS.id, SubscribeStatusString: 'accept' } })
    expect(JSON.parse(decryptPush(AES_KEY, posted.Encrypt as string).message)).toMatchObject({ List: { TemplateId: ORDER_STATUS.id } })

    const plain = target()
    sandbox.push.connect(plain, { token: TOKEN, aesKey: null })
    sandbox.grant(openid, accept(ORDER_STATUS.id))
    await sandbox.push.settled()
    expect(plain.posted[0]!.query.has('encrypt_type')).toBe(false)
    expect(plain.posted[0]!.body).toContain('<FromUserName>')
  })

  it('one person\'s dialogs never share a CreateTime, even with the clock standing still', async () => {
    const { sandbox } = startSandbox()
    const to = target()
    sandbox.push.connect(to, { token: TOKEN, aesKey: null })
    const openid = sandbox.openidFor('alice')
    for (let i = 0; i < 3; i += 1) sandbox.grant(openid, accept(ORDER_STATUS.id))
    await sandbox.push.settled()
    const times = sandbox.push.history().map((record) => record.createTime)
    expect(times).toEqual([times[0], times[0]! + 1, times[0]! + 2])
  })

  it('turning a template off drops the quota and pushes a change event (reject)', async () => {
    const { sandbox } = startSandbox()
    const to = target()
    sandbox.push.connect(to, { token: TOKEN, aesKey: null })
    const openid = sandbox.openidFor('alice')
    sandbox.grant(openid, accept(ORDER_STATUS.id))
    expect(sandbox.turnOff(openid, [ORDER_STATUS.id])).toEqual({ [ORDER_STATUS.id]: 0 })
    await sandbox.push.settled()
    expect(to.posted[1]!.body).toContain('<Event><![CDATA[subscribe_msg_change_event]]></Event><SubscribeMsgChangeEvent><List>')
    expect(to.posted[1]!.body).toContain('<SubscribeStatusString><![CDATA[reject]]></SubscribeStatusString>')
  })
})

describe('how the sandbox WeChat posts', () => {
  it('never waits for the service: the dialog\'s answer is back before the push is', async () => {
    const { sandbox } = startSandbox()
    let release = (): void => {}
    const held = new Promise<void>((resolve) => {
      release = resolve
    })
    const answered: string[] = []
    sandbox.push.connect(
      {
        async post() {
          await held
          answered.push('push answered')
          return { statusCode: 200, body: 'success' }
        },
      },
      { token: TOKEN, aesKey: null },
    )
    const openid = sandbox.openidFor('alice')
    expect(sandbox.grant(openid, accept(ORDER_STATUS.id))).toEqual({ [ORDER_STATUS.id]: 1 })
    expect(sandbox.push.history()).toEqual([expect.objectContaining({ outcome: 'pending' })])
    release()
    await sandbox.push.settled()
    expect(answered).toEqual(['push answered'])
    expect(sandbox.push.history()).toEqual([expect.objectContaining({ outcome: 'answered', attempts: 1 })])
  })

  it('a push not answered success is tried again after 1 s and 2 s: three attempts in all, then given up', async () => {
    const { sandbox, waits } = startSandbox()
    const openid = sandbox.openidFor('alice')
    sandbox.push.connect(target(['refused', { statusCode: 500, body: '' }]), { token: TOKEN, aesKey: null })
    sandbox.grant(openid, accept(ORDER_STATUS.id))
    await sandbox.push.settled()
    expect(sandbox.push.history()[0]).toMatchObject({ outcome: 'answered', attempts: 3 })
    expect(waits).toEqual([1_000, 2_000])

    const failing = target([{ statusCode: 200, body: 'not success' }, 'refused', { statusCode: 503, body: '' }])
    sandbox.push.connect(failing, { token: TOKEN, aesKey: null })
    sandbox.grant(openid, accept(ORDER_STATUS.id))
    await sandbox.push.settled()
    expect(sandbox.push.history()[1]).toMatchObject({ outcome: 'given-up', attempts: 3 })
    expect(failing.posted).toHaveLength(3)
  })

  it('a service that disconnects (stops) is not waited for: a push waiting to be tried again is given up at once', async () => {
    sandbox = createSandboxWeChat({ appId: APP_ID, secret: SECRET, templates: [...TEMPLATES], pages: PAGES, clock: manualClock(), pushSleep: () => new Promise(() => {}) })
    const openid = sandbox.openidFor('alice')
    sandbox.push.connect(target(['refused']), { token: TOKEN, aesKey: null })
    sandbox.grant(openid, accept(ORDER_STATUS.id))
    await sandbox.push.disconnect()
    expect(sandbox.push.history()[0]).toMatchObject({ outcome: 'given-up', attempts: 1 })
  })

  it('nothing is pushed while no service is connected', async () => {
    const { sandbox } = startSandbox()
    const openid = sandbox.openidFor('alice')
    sandbox.grant(openid, accept(ORDER_STATUS.id))
    await sandbox.push.settled()
    expect(sandbox.push.history()).toEqual([])
  })
})

describe('the service in sandbox mode, listening', () => {
  it('receives the sandbox\'s pushes over HTTP: the dialog\'s credit through the popup event, delivery after the send', async () => {
    service = await startSandboxService()
    await service.app.listen({ port: 0, host: '127.0.0.1' })
    const alice = await signIn(service.app, (user) => service!.sandbox.issueCode(user), 'alice')
    const granted = await service.app.inject({ method: 'POST', url: '/sandbox/subscriptions', headers: { authorization: alice.authorization }, payload: { results: { [ORDER_STATUS.id]: 'accept' } } })
    expect(granted.json()).toEqual({ quota: { [ORDER_STATUS.id]: 1 } })
    await service.settled()
    expect(await service.storage.ledger.credits(alice.openid, ORDER_STATUS.id)).toBe(1)

    service.sandbox.setFaults({ failDeliveries: { errorCode: 10_005, errorStatus: 'fail:user refuse', count: 1 } })
    const send = await service.app.inject({ method: 'POST', url: '/api/messages?wait=true', headers: adminHeaders, payload: { touser: alice.openid, templateId: 'order_status', data: ORDER_DATA } })
    expect(send.json()).toMatchObject({ status: 'sent' })
    await service.settled()
    const detail = await service.app.inject({ method: 'GET', url: `/api/messages/${send.json<{ id: string }>().id}`, headers: adminHeaders })
    expect(detail.json()).toMatchObject({ delivery: { status: 'failed', errorCode: 10_005, errorStatus: 'fail:user refuse' } })
    expect(service.sandbox.push.history().map((record) => [record.event, record.outcome, record.attempts])).toEqual([
      ['subscribe_msg_popup_event', 'answered', 1],
      ['subscribe_msg_sent_event', 'answered', 1],
    ])
  })
})
