/**
 * A typed in-process WeChatClient that answers as WeChat does after the real client's retries: a
 * quota per openid × template fed by `grant` (as the subscribe dialog feeds WeChat), kept by the
 * sandbox WeChat's own quota (server/wechat/sandbox/quota.ts, the ledger's credit rules), 43101
 * without quota, 47003 for values that break a keyword rule, 41030 for an unknown page, 40037 for an
 * unknown template, 40003 for an unknown openid, msgids as strings; a login code is good once (40029
 * unknown, 40163 used). `failNext` scripts the final answer of the next sends (e.g. -1 after retries
 * exhausted); `hold` keeps sends in flight until released, as a process that dies mid-call would
 * leave them. Template management answers from the sandbox WeChat's own public library
 * (server/wechat/sandbox/library.ts), WeChat's errcodes as WeChatErrors. tests/contract/wechat.contract.test.ts
 * proves it against the real client and the sandbox WeChat.
 */
import type { SubscribeResult, Template } from '../../../src/domain/contract'
import { validateMessageData } from '../../../src/domain/keywords'
import {
  WeChatError,
  type Clock,
  type Code2SessionResult,
  type SendOutcome,
  type SubscribeMessage,
  type WeChatClient,
  type WeChatTemplate,
} from '../../../server/wechat/types'
import type { WeChatAnswer } from '../../../server/wechat/sandbox/answers'
import { createSandboxLibrary } from '../../../server/wechat/sandbox/library'
import { createSandboxQuota } from '../../../server/wechat/sandbox/quota'
import { templateList } from '../../../server/wechat/sandbox/send'

/** The fields of an answer with errcode 0; a WeChatError for any other. */
function answered(answer: WeChatAnswer): Record<string, unknown> {
  if (answer.errcode !== 0) throw new WeChatError(answer.errcode, answer.errmsg)
  return answer
}

const listOf = (answer: WeChatAnswer): Array<Record<string, unknown>> => answered(answer).data as Array<Record<string, unknown>>

export interface FakeWeChat extends WeChatClient {
  issueCode(user: string): string
  openidFor(user: string): string
  /** What the person answered in the subscribe dialog; returns the quota left per template id. */
  grant(openid: string, results: Record<string, SubscribeResult>): Record<string, number>
  quota(openid: string, templateId: string): number
  /** The next `count` sends end with `errcode` (after the client's retries), using `attempts` calls each. */
  failNext(errcode: number, count: number, attempts?: number): void
  /** Sends wait until `release()`; `reached` resolves when the first send is waiting. */
  hold(): { release(): void; reached: Promise<void> }
  readonly accepted: SubscribeMessage[]
  readonly sendCalls: number
}

export function createFakeWeChat(options: { templates: readonly Template[]; pages: readonly string[]; clock: Clock }): FakeWeChat {
  const templates = new Map(options.templates.map((template) => [template.id, template]))
  const pages = new Set(options.pages.map((page) => page.replace(/^\//, '')))
  const codes = new Map<string, { openid: string; used: boolean }>()
  const openids = new Set<string>()
  const quotas = createSandboxQuota(templates)
  const library = createSandboxLibrary(templates)
  const accepted: SubscribeMessage[] = []
  const scripted: { errcode: number; attempts: number }[] = []
  let held: Promise<void> | null = null
  let onHeld: (() => void) | null = null
  let sendCalls = 0
  let nextMsgid = 3_000_000_000

  function answer(message: SubscribeMessage): { errcode: number; errmsg: string } {
    if (!openids.has(message.touser)) return { errcode: 40003, errmsg: 'invalid openid' }
    const template = templates.get(message.template_id)
    if (!template) return { errcode: 40037, errmsg: 'invalid template_id' }
    if (message.page !== undefined && !pages.has(message.page.replace(/^\//, '').split('?')[0]!)) return { errcode: 41030, errmsg: 'invalid page' }
    const checked = validateMessageData(template, message.data)
    if (!checked.ok) return { errcode: 47003, errmsg: `argument invalid! ${checked.field} invalid` }
    if (!quotas.spend(message.touser, template)) return { errcode: 43101, errmsg: 'user refuse to accept the msg' }
    return { errcode: 0, errmsg: 'ok' }
  }

  return {
    accepted,
    get sendCalls() {
      return sendCalls
    },
    issueCode(user) {
      const code = `code-${user}-${codes.size}`
      codes.set(code, { openid: this.openidFor(user), used: false })
      return code
    },
    openidFor(user) {
      const openid = `o_fake_${user}`
      openids.add(openid)
      return openid
    },
    grant: (openid, results) => quotas.grant(openid, results),
    quota: (openid, templateId) => quotas.quota(openid, templateId),
    failNext(errcode, count, attempts = 1) {
      for (let i = 0; i < count; i += 1) scripted.push({ errcode, attempts })
    },
    hold() {
      let release = (): void => {}
      held = new Promise<void>((resolve) => {
        release = () => {
          held = null
          resolve()
        }
      })
      const reached = new Promise<void>((resolve) => {
        onHeld = resolve
      })
      return { release, reached }
    },
    async getAccessToken() {
      return 'fake-access-token'
    },
    async code2Session(jsCode): Promise<Code2SessionResult> {
      const entry = codes.get(jsCode)
      if (entry === undefined) throw new WeChatError(40029, 'invalid code')
      if (entry.used) throw new WeChatError(40163, 'code been used')
      entry.used = true
      return { openid: entry.openid }
    },
    async sendSubscribeMessage(message): Promise<SendOutcome> {
      sendCalls += 1
      if (held) {
        onHeld?.()
        await held
      }
      const at = options.clock.now()
      const script = scripted.shift()
      if (script) {
        const attempts = Array.from({ length: script.attempts }, () => ({ at, errcode: script.errcode, errmsg: `fake ${script.errcode}` }))
        return { ok: false, errcode: script.errcode, errmsg: `fake ${script.errcode}`, attempts }
      }
      const { errcode, errmsg } = answer(message)
      if (errcode !== 0) return { ok: false, errcode, errmsg, attempts: [{ at, errcode, errmsg }] }
      accepted.push(message)
      return { ok: true, msgid: String(nextMsgid++), attempts: [{ at, errcode: 0, errmsg: 'ok' }] }
    },
    async getTemplateList(): Promise<WeChatTemplate[]> {
      return listOf(templateList(templates.values())) as unknown as WeChatTemplate[]
    },
    async getCategories() {
      return listOf(library.categories()).map((entry) => ({ id: Number(entry.id), name: String(entry.name) }))
    },
    async getPublicTemplateTitles({ ids, start, limit }) {
      const answer = library.titles(new URLSearchParams({ ids: ids.join(','), start: String(start), limit: String(limit) }))
      const titles = listOf(answer).map((entry) => ({ tid: Number(entry.tid), title: String(entry.title), type: entry.type === 3 ? (3 as const) : (2 as const), categoryId: Number(entry.categoryId) }))
      return { count: Number(answered(answer).count), titles }
    },
    async getPublicTemplateKeywords(tid) {
      return listOf(library.keywords(new URLSearchParams({ tid: String(tid) }))).map((entry) => ({
        kid: Number(entry.kid),
        name: String(entry.name),
        example: String(entry.example),
        rule: String(entry.rule),
      }))
    },
    async addTemplate({ tid, kidList, sceneDesc }) {
      const form = new URLSearchParams({ tid: String(tid) })
      for (const kid of kidList) form.append('kidList', String(kid))
      if (sceneDesc !== undefined) form.set('sceneDesc', sceneDesc)
      return String(answered(library.add(form)).priTmplId)
    },
    async deleteTemplate(priTmplId) {
      answered(library.remove({ priTmplId }))
    },
  }
}
