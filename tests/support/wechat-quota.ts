/**
 * WeChat's own count of the sends a person allowed, per openid × template, for the in-memory
 * doubles of WeChat (tests/server/support/fake-wechat.ts, and the sandbox part of
 * tests/support/fake-service.ts). It applies the ledger's credit rules (server/ledger/rules.ts) to
 * WeChat's copy, as the sandbox WeChat does: each accept of a one-time template allows one more
 * send and a send uses it up; a long-term accept subscribes and sends do not use it up; a long-term
 * reject or ban unsubscribes. What it reports follows the sandbox WeChat: a subscribed long-term
 * template shows UNLIMITED_QUOTA.
 */
import type { SubscribeResult, Template } from '../../src/domain/contract'
import { applyCreditChange, claimOneCredit, creditChangeForConsent, sendConsumesCredit } from '../../server/ledger/rules'
import { UNLIMITED_QUOTA } from '../../server/wechat/sandbox'

export class WeChatQuota {
  private readonly counts = new Map<string, number>()

  /** What the person answered in the subscribe dialog; returns the quota WeChat reports after it. */
  answer(openid: string, template: Template, result: SubscribeResult): number {
    const key = this.key(openid, template.id)
    this.counts.set(key, applyCreditChange(this.counts.get(key) ?? 0, creditChangeForConsent(template.kind, result)))
    return this.reported(openid, template)
  }

  /** The quota as WeChat reports it: sends left (one-time), UNLIMITED_QUOTA or 0 (long-term). */
  reported(openid: string, template: Template): number {
    const count = this.counts.get(this.key(openid, template.id)) ?? 0
    return sendConsumesCredit(template.kind) || count === 0 ? count : UNLIMITED_QUOTA
  }

  /** A send: whether WeChat lets it through (else 43101); a one-time send uses one up. */
  spend(openid: string, template: Template): boolean {
    const key = this.key(openid, template.id)
    const count = this.counts.get(key) ?? 0
    if (!sendConsumesCredit(template.kind)) return count > 0
    const left = claimOneCredit(count)
    if (left === null) return false
    this.counts.set(key, left)
    return true
  }

  private key(openid: string, templateId: string): string {
    return `${openid}|${templateId}`
  }
}
