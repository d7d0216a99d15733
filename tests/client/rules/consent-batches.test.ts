import { describe, expect, it } from 'vitest'
import { consentBatchProblem, planConsentBatches } from '@/rules/consent-batches'
import type { TemplateKindInfo } from '@/rules/consent-batches'

const templates: TemplateKindInfo[] = [
  { id: 'A', kind: 'one-time' },
  { id: 'B', kind: 'one-time' },
  { id: 'C', kind: 'one-time' },
  { id: 'D', kind: 'one-time' },
  { id: 'L1', kind: 'long-term' },
  { id: 'L2', kind: 'long-term' },
]

describe('consentBatchProblem', () => {
  it('accepts up to 3 ids of one kind', () => {
    expect(consentBatchProblem(['A', 'B', 'C'], templates)).toBeNull()
    expect(consentBatchProblem(['L1', 'L2'], templates)).toBeNull()
  })

  it('counts a repeated id once', () => {
    expect(consentBatchProblem(['A', 'A', 'B', 'C', 'C'], templates)).toBeNull()
  })

  it('refuses 4 ids', () => {
    expect(consentBatchProblem(['A', 'B', 'C', 'D'], templates)?.code).toBe('TOO_MANY_TEMPLATES')
  })

  it('refuses one-time mixed with long-term', () => {
    const problem = consentBatchProblem(['A', 'L1'], templates)
    expect(problem?.code).toBe('KINDS_MIXED')
    expect(problem?.message).toBe('一次性订阅和长期订阅的消息不能一起订阅，请分开订阅')
  })

  it('refuses no ids', () => {
    expect(consentBatchProblem([], templates)?.code).toBe('EMPTY_TEMPLATE_IDS')
  })

  it('lets ids of unknown kind through (WeChat answers for them)', () => {
    expect(consentBatchProblem(['A', 'X'], templates)).toBeNull()
  })
})

describe('planConsentBatches', () => {
  it('splits by kind, then into calls of at most 3, order kept', () => {
    expect(planConsentBatches(['L1', 'A', 'B', 'L2', 'C', 'D'], templates)).toEqual([['A', 'B', 'C'], ['D'], ['L1', 'L2']])
  })

  it('puts ids of unknown kind in calls of their own', () => {
    expect(planConsentBatches(['X', 'A', 'Y'], templates)).toEqual([['A'], ['X', 'Y']])
  })

  it('gives no calls for no ids', () => {
    expect(planConsentBatches([], templates)).toEqual([])
  })
})
