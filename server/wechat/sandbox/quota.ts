/**
 * What WeChat itself counts per openid × template: the quota the subscribe dialog grants and a send
 * uses. It follows the same credit rules as the service's ledger (server/ledger/rules.ts), because
 * WeChat is where those rules come from: one send per one-time accept, a long-term accept allows
 * sends until a reject or ban.
 */
import type { SubscribeResult, Template } from '../../../src/domain/contract'
import { applyCreditChange, claimOneCredit, creditChangeForConsent, creditChangeForTurnOff, sendConsumesCredit } from '../../ledger/rules'

export interface SandboxQuota {
  /** What the person answered in the dialog; returns the quota per template id (unknown ids: 0, unchanged). */
  grant(openid: string, results: Record<string, SubscribeResult>): Record<string, number>
  quota(openid: string, templateId: string): number
  /** Sets the quota of a template that has no count yet (a restarted sandbox); one that has a count keeps it. */
  restore(openid: string, templateId: string, quota: number): void
  /** Uses the quota for one send; false when there is none (WeChat answers 43101). */
  spend(openid: string, template: Template): boolean
  /** The person turned the template off in 服务通知's settings: no quota left. */
  turnOff(openid: string, templateId: string): number
}

export function createSandboxQuota(templates: ReadonlyMap<string, Template>): SandboxQuota {
  const quotas = new Map<string, Map<string, number>>()

  function of(openid: string): Map<string, number> {
    let perTemplate = quotas.get(openid)
    if (!perTemplate) {
      perTemplate = new Map()
      quotas.set(openid, perTemplate)
    }
    return perTemplate
  }

  const quota = (openid: string, templateId: string): number => quotas.get(openid)?.get(templateId) ?? 0

  return {
    quota,
    grant(openid, results) {
      const left: Record<string, number> = {}
      for (const [templateId, result] of Object.entries(results)) {
        const template = templates.get(templateId)
        if (template) of(openid).set(templateId, applyCreditChange(quota(openid, templateId), creditChangeForConsent(template.kind, result)))
        left[templateId] = quota(openid, templateId)
      }
      return left
    },
    turnOff(openid, templateId) {
      of(openid).set(templateId, applyCreditChange(quota(openid, templateId), creditChangeForTurnOff()))
      return quota(openid, templateId)
    },
    restore(openid, templateId, count) {
      if (!of(openid).has(templateId)) of(openid).set(templateId, count)
    },
    spend(openid, template) {
      const held = quota(openid, template.id)
      if (!sendConsumesCredit(template.kind)) return held > 0
      const after = claimOneCredit(held)
      if (after === null) return false
      of(openid).set(template.id, after)
      return true
    },
  }
}
