/**
 * Consents become credits. The rules are in rules.ts; atomicity (a consent counted once,
 * also when the same consentId arrives twice at the same moment) is the storage's
 * `applyConsent` transaction.
 */
import type { ConsentRequest, ConsentResponse, SubscriptionList } from '../../src/domain/contract'
import type { Storage } from '../db/storage'
import { AppError } from '../errors'
import type { TemplateDirectory } from '../messages/templates'
import type { Clock } from '../wechat/types'
import { creditChangeForConsent } from './rules'

export interface Ledger {
  /** Throws AppError 400 naming the first unknown template id. */
  recordConsent(openid: string, consent: ConsentRequest): Promise<ConsentResponse>
  subscriptions(openid: string): Promise<SubscriptionList>
}

export function createLedger(options: { storage: Storage; templates: TemplateDirectory; clock: Clock }): Ledger {
  const { storage, templates, clock } = options
  return {
    async recordConsent(openid, consent) {
      const entries = Object.entries(consent.results)
      if (entries.length === 0) {
        throw new AppError(400, 'VALIDATION_FAILED', 'results: 至少要有一个模板的订阅结果', 'results')
      }
      const changes = entries.map(([templateId, result]) => {
        const template = templates.byId(templateId)
        if (!template) {
          throw new AppError(400, 'UNKNOWN_TEMPLATE', `results.${templateId}: 没有这个模板 ID`, `results.${templateId}`)
        }
        return { templateId, result, credit: creditChangeForConsent(template.kind, result) }
      })
      const { credits } = await storage.ledger.applyConsent({
        openid,
        consentId: consent.consentId,
        changes,
        now: clock.now(),
      })
      return { credits }
    },
    async subscriptions(openid) {
      const records = await storage.ledger.listSubscriptions(openid)
      return records.map((record) => ({
        templateId: record.templateId,
        credits: record.credits,
        lastResult: record.lastResult,
        updatedAt: record.updatedAt.toISOString(),
      }))
    },
  }
}
