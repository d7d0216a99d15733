/**
 * The ledger: every change to a person's credits goes through here, decided by rules.ts and applied
 * through the storage's atomic primitives.
 *
 * - A consent becomes credits once per consentId, also when the same consentId arrives twice at the
 *   same moment (the storage's `applyConsent` transaction).
 * - A send claims its credit (and its place under the daily limit) in one transaction before WeChat
 *   is called, so there are never more sends than credits, whatever the concurrency.
 * - A send's end is recorded with what it does to the credit: kept when sent; given back, zeroed or
 *   kept when it failed, by WeChat's answer.
 */
import type { ConsentRequest, ConsentResponse, SubscriptionList, Template } from '../../src/domain/contract'
import { reasonErrcode } from '../../src/domain/reasons'
import type { ClaimResult, FinishedSend, SendClaim, SendEnding, Storage } from '../db/storage'
import { AppError } from '../errors'
import type { TemplateDirectory } from '../messages/templates'
import type { Clock, SendAttemptRecord } from '../wechat/types'
import { NO_CREDIT_CHANGE, creditChangeAfterFailedSend, creditChangeForConsent, sendConsumesCredit } from './rules'

export interface Ledger {
  /** Throws AppError 400 naming the first unknown template id; then nothing is credited. */
  recordConsent(openid: string, consent: ConsentRequest): Promise<ConsentResponse>
  subscriptions(openid: string): Promise<SubscriptionList>
  /** The credits of one template for each of `openids` (0 for none), in one read: for counting through a segment. */
  creditsOf(openids: readonly string[], templateId: string): Promise<Map<string, number>>
  /**
   * Claims what a send of the leased message `messageId` needs, atomically: a place under the
   * recipient's daily limit on `dayKey` and a credit (spent for a one-time template, only checked for
   * a long-term one). The message becomes `sending` when claimed; otherwise nothing changed.
   */
  claimSend(messageId: string, template: Template, claim: ClaimTerms): Promise<ClaimResult>
  /** `claimSend` for each, in order, in one transaction. */
  claimSends(claims: ReadonlyArray<{ messageId: string; template: Template } & ClaimTerms>): Promise<ClaimResult[]>
  /**
   * Records how claimed sends ended and what that does to the credit each held (`creditSpent`: what
   * its claim took), in one transaction. A failure whose reason is not a WeChat errcode (the service
   * failed, or died, mid-call) gives the credit back: if WeChat did use it, the next send meets 43101,
   * which zeroes it. Returns the ids that were no longer `sending`.
   */
  settleSends(sends: readonly SettledSend[]): Promise<{ notSending: string[] }>
}

/** Under whose lease, for how long, and which day's limit a send's claim counts against. */
export interface ClaimTerms {
  owner: string
  leaseUntil: Date
  dayKey: string
  dailyLimit: number
}

export interface SettledSend {
  id: string
  creditSpent: boolean
  attempts: readonly SendAttemptRecord[]
  ending: SendEnding
}

export interface LedgerOptions {
  storage: Storage
  templates: TemplateDirectory
  clock: Clock
}

export function createLedger(options: LedgerOptions): Ledger {
  const { storage, templates, clock } = options

  function sendClaim(messageId: string, template: Template, terms: ClaimTerms): SendClaim {
    const { owner, leaseUntil, dayKey, dailyLimit } = terms
    return { id: messageId, owner, leaseUntil, spendCredit: sendConsumesCredit(template.kind), dayKey, dailyLimit }
  }

  function finished({ id, creditSpent, attempts, ending }: SettledSend): FinishedSend {
    if (ending.status === 'sent') return { id, attempts, ending, credit: NO_CREDIT_CHANGE, creditHeld: creditSpent }
    const credit = creditChangeAfterFailedSend(creditSpent, reasonErrcode(ending.reason))
    return { id, attempts, ending, credit, creditHeld: creditSpent && credit.type !== 'add' }
  }

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

    async creditsOf(openids, templateId) {
      const held = await storage.ledger.creditsOf(openids, templateId)
      return new Map(openids.map((openid) => [openid, held.get(openid) ?? 0]))
    },

    claimSend(messageId, template, claim) {
      return storage.messages.claimForSend({ ...sendClaim(messageId, template, claim), now: clock.now() })
    },

    claimSends(claims) {
      return storage.messages.claimForSends(
        claims.map((claim) => sendClaim(claim.messageId, claim.template, claim)),
        clock.now(),
      )
    },

    settleSends(sends) {
      return storage.messages.finishSends(sends.map(finished), clock.now())
    },
  }
}
