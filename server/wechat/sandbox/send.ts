/**
 * `subscribeMessage.send` as WeChat answers it: the token, then the recipient (40003), the template
 * (40037), the page (41030), `miniprogram_state`, `lang` and every keyword value (47003, with the
 * keyword rules the service validates with), and only then the quota (43101). Accepted messages are
 * kept in order, each with WeChat's 64-bit msgid (answered as a JSON number).
 */
import type { Template } from '../../../src/domain/contract'
import { validateMessageData, type KeywordInput } from '../../../src/domain/keywords'
import type { Clock, SubscribeMessage } from '../types'
import { fail, ok, type WeChatAnswer } from './answers'
import type { SandboxLogin } from './login'
import type { SandboxQuota } from './quota'
import type { SandboxTokens } from './tokens'

/** A message the sandbox accepted, in the order accepted. */
export interface SentMessage extends SubscribeMessage {
  msgid: string
  at: Date
}

const STATES = new Set(['developer', 'trial', 'formal'])
const LANGS = new Set(['zh_CN', 'en_US', 'zh_HK', 'zh_TW'])

export interface SandboxSend {
  send(accessToken: string | null, body: Record<string, unknown>): WeChatAnswer
  received(): SentMessage[]
}

export function createSandboxSend(options: {
  templates: ReadonlyMap<string, Template>
  /** The mini-program's pages, without a leading slash. */
  pages: ReadonlySet<string>
  tokens: SandboxTokens
  login: SandboxLogin
  quota: SandboxQuota
  clock: Clock
  /** Told of each message accepted, after the answer is made (the sandbox pushes its delivery). */
  onAccepted?: (message: SentMessage) => void
}): SandboxSend {
  const { templates, pages, tokens, login, quota, clock } = options
  const accepted: SentMessage[] = []
  let nextMsgid = 2_170_000_000_000

  return {
    send(accessToken, body) {
      const tokenProblem = tokens.check(accessToken)
      if (tokenProblem) return tokenProblem
      const { touser, template_id: templateId, page, data, miniprogram_state: state, lang } = body
      if (typeof touser !== 'string' || !login.knows(touser)) return fail(40003, 'invalid openid')
      const template = typeof templateId === 'string' ? templates.get(templateId) : undefined
      if (!template) return fail(40037, 'invalid template_id')
      if (page !== undefined && (typeof page !== 'string' || !pages.has(page.replace(/^\//, '').split('?')[0]!))) {
        return fail(41030, 'invalid page')
      }
      if (state !== undefined && (typeof state !== 'string' || !STATES.has(state))) {
        return fail(47003, 'argument invalid! miniprogram_state invalid')
      }
      if (lang !== undefined && (typeof lang !== 'string' || !LANGS.has(lang))) return fail(47003, 'argument invalid! lang invalid')
      if (typeof data !== 'object' || data === null || Array.isArray(data)) return fail(47003, 'argument invalid! data invalid')
      const checked = validateMessageData(template, data as Record<string, KeywordInput>)
      if (!checked.ok) return fail(47003, `argument invalid! ${checked.field} invalid`)
      if (!quota.spend(touser, template)) return fail(43101, 'user refuse to accept the msg')

      const msgid = nextMsgid++
      const message: SentMessage = { touser, template_id: template.id, data: checked.data, msgid: String(msgid), at: clock.now() }
      if (typeof page === 'string') message.page = page
      if (state !== undefined) message.miniprogram_state = state as SentMessage['miniprogram_state']
      if (lang !== undefined) message.lang = lang as SentMessage['lang']
      accepted.push(message)
      options.onAccepted?.(message)
      return ok({ msgid })
    },
    received: () => [...accepted],
  }
}

/** `GET /wxaapi/newtmpl/gettemplate`: the templates added in WeChat's console, as WeChat lists them. */
export function templateList(templates: Iterable<Template>): WeChatAnswer {
  const data = [...templates].map((template) => {
    const enums = template.keywords.filter((keyword) => keyword.type === 'enum')
    return {
      priTmplId: template.id,
      title: template.title,
      content: template.keywords.map((keyword) => `${keyword.label}:{{${keyword.name}.DATA}}\n`).join(''),
      example: template.keywords.map((keyword) => `${keyword.label}：${keyword.enumValues?.[0] ?? keyword.label}\n`).join(''),
      type: template.kind === 'one-time' ? 2 : 3,
      ...(enums.length > 0
        ? { keywordEnumValueList: enums.map((keyword) => ({ keywordCode: `${keyword.name}.DATA`, enumValueList: keyword.enumValues ?? [] })) }
        : {}),
    }
  })
  return ok({ data })
}
