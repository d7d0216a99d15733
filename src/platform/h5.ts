/**
 * The H5 preview platform. H5 has no `requestSubscribeMessage`: this brings a stand-in for WeChat's
 * subscription dialog that looks and behaves like it (template titles with checkboxes, 允许 / 取消,
 * "总是保持以上选择" after which no dialog shows and the same answer returns, a main switch that
 * can be off → errCode 20004 with WeChat's errMsg), plus a stand-in settings sheet for
 * `openSubscriptionsSetting`. The person's choices persist in storage.
 *
 * It plays WeChat's part only against the service's sandbox WeChat (GET /api/info says sandbox):
 * what the person answered is reported to POST /sandbox/subscriptions with the session bearer, as
 * WeChat's own dialog feeds WeChat. Outside sandbox mode subscribing rejects with a `SubscribeError`
 * `UNSUPPORTED` saying that subscribing happens in the WeChat mini-program.
 *
 * Failures to reach the service read as WeChat's network errors: 10002 (the template list) and
 * 10003 (sending the subscription); the original error is the SubscribeError's `cause`.
 */
import type { Template, TemplateKind } from '@/domain/contract'
import { MAX_TEMPLATES_PER_CALL } from '@/rules/consent-batches'
import { isKeptChoice, type KeptChoice } from '@/rules/prompt-policy'
import {
  SubscribeError,
  subscribeErrorFromWeChat,
  wechatFailMessage,
  type SubscribeErrCode,
} from '@/rules/subscribe-errors'
import { PlatformError } from './errors'
import { dropOwnerless, isRecord, personalSlot } from './persisted'
import type { Platform, PlatformStorage, SandboxLink, SubscribeAnswers, SubscriptionsSetting } from './types'

/** One template as the stand-in dialog lists it. */
export interface DialogTemplate {
  id: string
  title: string
}

interface SubscribeDialogRequest {
  templates: DialogTemplate[]
}

/** How the person closed the dialog. */
export interface SubscribeDialogAnswer {
  /** 允许 (true) or 取消 (false). */
  allowed: boolean
  /** The ids whose checkbox was ticked when 允许 was tapped. */
  accepted: string[]
  /** "总是保持以上选择" was ticked. */
  keep: boolean
}

export interface SettingsSheetItem {
  id: string
  title: string
  choice: KeptChoice
}

interface SettingsSheetRequest {
  mainSwitch: boolean
  /** The templates with a kept choice, as WeChat's settings page lists them. */
  items: SettingsSheetItem[]
}

export interface SettingsSheetAnswer {
  mainSwitch: boolean
  /** The new choice per listed template id. */
  choices: Record<string, KeptChoice>
}

/** What the stand-in shows. The default mounts Vue components on document.body (src/platform/h5-ui.ts). */
export interface H5SubscribeUi {
  showSubscribeDialog(request: SubscribeDialogRequest): Promise<SubscribeDialogAnswer>
  showSettingsSheet(request: SettingsSheetRequest): Promise<SettingsSheetAnswer>
}

interface H5PlatformOptions {
  /** The service, reached lazily (the api client is built after the platform). */
  sandbox: () => SandboxLink
  /**
   * The openid of the person signed in: WeChat keeps each person's settings ("总是保持以上选择", the
   * main switch), so the stand-in does too. Nobody signed in: WeChat's defaults, nothing kept.
   */
  owner: () => string | null
  ui: H5SubscribeUi
  /** Where choices persist, and what `platform.storage` is. */
  storage: PlatformStorage
  /** The rest of the platform (request, toast, modal), from uni on H5. */
  base: Pick<Platform, 'request' | 'toast' | 'modal' | 'stopPullDownRefresh' | 'openPage'>
}

function parseSetting(data: unknown): SubscriptionsSetting | null {
  if (!isRecord(data) || typeof data.mainSwitch !== 'boolean' || !isRecord(data.itemSettings)) return null
  const itemSettings: Record<string, KeptChoice> = {}
  for (const [id, choice] of Object.entries(data.itemSettings)) if (isKeptChoice(choice)) itemSettings[id] = choice
  return { mainSwitch: data.mainSwitch, itemSettings }
}

function wechatError(errCode: SubscribeErrCode, cause?: unknown): SubscribeError {
  const error = subscribeErrorFromWeChat({ errCode, errMsg: wechatFailMessage(errCode) })
  if (cause === undefined) return error
  return new SubscribeError(error.code, { errCode, errMsg: wechatFailMessage(errCode), cause })
}

export function createH5Platform(options: H5PlatformOptions): Platform {
  dropOwnerless(options.storage, 'h5-wechat-settings')
  const settingSlot = {
    load: (): SubscriptionsSetting | null => {
      const owner = options.owner()
      return owner === null ? null : personalSlot(options.storage, 'h5-wechat-settings', owner, { version: 1, parse: parseSetting }).load()
    },
    save: (setting: SubscriptionsSetting): void => {
      const owner = options.owner()
      if (owner !== null) personalSlot(options.storage, 'h5-wechat-settings', owner, { version: 1, parse: parseSetting }).save(setting)
    },
  }
  let templateCache: Map<string, Template> | null = null

  function readSetting(): SubscriptionsSetting {
    return settingSlot.load() ?? { mainSwitch: true, itemSettings: {} }
  }

  /** Whether the service runs its sandbox WeChat; asked once, then remembered (it does not change while running). */
  let sandboxMode: boolean | null = null

  async function ensureSandbox(): Promise<void> {
    if (sandboxMode === null) {
      try {
        sandboxMode = (await options.sandbox().info()).sandbox
      } catch (error) {
        throw wechatError(10002, error)
      }
    }
    if (!sandboxMode) throw new SubscribeError('UNSUPPORTED')
  }

  async function templatesFor(ids: readonly string[]): Promise<Map<string, Template>> {
    if (templateCache === null || ids.some((id) => !templateCache?.has(id))) {
      try {
        const list = await options.sandbox().templates()
        templateCache = new Map(list.map((template) => [template.id, template]))
      } catch (error) {
        throw wechatError(10002, error)
      }
    }
    return templateCache
  }

  /**
   * Titles for the settings sheet. WeChat's settings page works offline, so this one does too: when
   * the service cannot be asked, the sheet lists the template ids instead of their titles.
   */
  async function titlesFor(ids: readonly string[]): Promise<Map<string, string>> {
    let templates: Map<string, Template>
    try {
      templates = await templatesFor(ids)
    } catch (error) {
      if (error instanceof SubscribeError && error.code === 'TEMPLATE_LIST_NETWORK') return new Map()
      throw error
    }
    return new Map([...templates.values()].map((template) => [template.id, template.title]))
  }

  async function requestSubscribe(tmplIds: readonly string[]): Promise<SubscribeAnswers> {
    const ids = [...tmplIds]
    if (ids.length === 0) throw wechatError(10001)
    if (ids.some((id) => typeof id !== 'string' || id === '')) throw wechatError(10004)
    if (ids.length > MAX_TEMPLATES_PER_CALL) throw wechatError(20003)
    await ensureSandbox()
    const templates = await templatesFor(ids)
    const kinds = new Set<TemplateKind>()
    for (const id of ids) {
      const template = templates.get(id)
      if (template === undefined) throw wechatError(20001)
      kinds.add(template.kind)
    }
    if (kinds.size > 1) throw wechatError(20002)
    const setting = readSetting()
    if (!setting.mainSwitch) throw wechatError(20004)

    const answers: SubscribeAnswers = {}
    const asked: DialogTemplate[] = []
    const titles = new Set<string>()
    for (const id of ids) {
      const title = templates.get(id)?.title ?? id
      if (titles.has(title)) {
        // WeChat keeps one template per title in a call.
        answers[id] = 'filter'
        continue
      }
      titles.add(title)
      const kept = setting.itemSettings[id]
      if (kept !== undefined) answers[id] = kept
      else asked.push({ id, title })
    }

    if (asked.length > 0) {
      const answer = await options.ui.showSubscribeDialog({ templates: asked })
      const accepted = new Set(answer.allowed ? answer.accepted : [])
      for (const { id } of asked) {
        const result = accepted.has(id) ? 'accept' : 'reject'
        answers[id] = result
        if (answer.keep) setting.itemSettings[id] = result
      }
      if (answer.keep) settingSlot.save(setting)
    }

    // Feed the sandbox WeChat as WeChat's dialog feeds WeChat (one quota per accept).
    const ordered: SubscribeAnswers = {}
    for (const id of ids) {
      const result = answers[id]
      if (result !== undefined) ordered[id] = result
    }
    try {
      await options.sandbox().grant(ordered)
    } catch (error) {
      throw wechatError(10003, error)
    }
    return ordered
  }

  async function openSubscriptionsSetting(): Promise<SubscriptionsSetting> {
    const setting = readSetting()
    const keptIds = Object.keys(setting.itemSettings)
    const titles = keptIds.length > 0 ? await titlesFor(keptIds) : new Map<string, string>()
    const answer = await options.ui.showSettingsSheet({
      mainSwitch: setting.mainSwitch,
      items: keptIds.map((id) => ({ id, title: titles.get(id) ?? id, choice: setting.itemSettings[id] ?? 'reject' })),
    })
    const next: SubscriptionsSetting = { mainSwitch: answer.mainSwitch, itemSettings: { ...setting.itemSettings } }
    for (const [id, choice] of Object.entries(answer.choices)) if (id in next.itemSettings) next.itemSettings[id] = choice
    settingSlot.save(next)
    return next
  }

  return {
    name: 'h5',
    requestSubscribe,
    getSubscriptionsSetting: () => Promise.resolve(readSetting()),
    openSubscriptionsSetting,
    login: () => Promise.reject(new PlatformError('LOGIN_UNSUPPORTED')),
    request: (request) => options.base.request(request),
    storage: options.storage,
    toast: (toast) => options.base.toast(toast),
    modal: (modal) => options.base.modal(modal),
    stopPullDownRefresh: () => options.base.stopPullDownRefresh(),
    openPage: (url, openOptions) => options.base.openPage(url, openOptions),
  }
}
