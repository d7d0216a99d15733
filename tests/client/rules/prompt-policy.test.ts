import { describe, expect, it } from 'vitest'
import {
  EMPTY_PROMPT_HISTORY,
  decideGroupPrompt,
  decidePrompt,
  isKeptChoice,
  keptChoiceOf,
  statusOf,
  type PromptInput,
} from '@/rules/prompt-policy'

const MONDAY_10 = Date.parse('2026-03-02T10:00:00+08:00')
const HOUR = 3_600_000

function input(overrides: Partial<PromptInput> = {}): PromptInput {
  return { now: MONDAY_10, status: 'unknown', alwaysKeep: null, mainSwitch: true, history: EMPTY_PROMPT_HISTORY, ...overrides }
}

describe('decidePrompt', () => {
  it('offers a pre-prompt for a template never asked', () => {
    expect(decidePrompt(input())).toEqual({ action: 'offer' })
  })

  it('offers while the main switch has not been read yet', () => {
    expect(decidePrompt(input({ mainSwitch: null }))).toEqual({ action: 'offer' })
  })

  it('waits 72 h after the dialog answered reject, then offers again', () => {
    const rejectedAt = Date.parse('2026-03-02T09:00:00+08:00')
    const history = { prePrompt: null, dialog: { at: rejectedAt, outcome: 'reject' as const } }
    const until = Date.parse('2026-03-05T09:00:00+08:00')
    expect(decidePrompt(input({ status: 'reject', history, now: rejectedAt + HOUR }))).toEqual({ action: 'wait', reason: 'cooldown', until })
    expect(decidePrompt(input({ status: 'reject', history, now: until - 1 }))).toEqual({ action: 'wait', reason: 'cooldown', until })
    expect(decidePrompt(input({ status: 'reject', history, now: until }))).toEqual({ action: 'offer' })
  })

  it('waits after the pre-prompt was declined too', () => {
    const declinedAt = Date.parse('2026-03-01T22:00:00+08:00')
    const history = { prePrompt: { at: declinedAt, outcome: 'declined' as const }, dialog: null }
    expect(decidePrompt(input({ history }))).toEqual({ action: 'wait', reason: 'cooldown', until: Date.parse('2026-03-04T22:00:00+08:00') })
  })

  it('counts from the latest no, pre-prompt or dialog', () => {
    const history = {
      prePrompt: { at: Date.parse('2026-03-01T08:00:00+08:00'), outcome: 'declined' as const },
      dialog: { at: Date.parse('2026-02-20T08:00:00+08:00'), outcome: 'reject' as const },
    }
    expect(decidePrompt(input({ history }))).toMatchObject({ action: 'wait', until: Date.parse('2026-03-04T08:00:00+08:00') })
  })

  it('does not wait after an accept or a pre-prompt that was confirmed', () => {
    const history = {
      prePrompt: { at: MONDAY_10 - HOUR, outcome: 'confirmed' as const },
      dialog: { at: MONDAY_10 - HOUR, outcome: 'accept' as const },
    }
    expect(decidePrompt(input({ status: 'accept', history }))).toEqual({ action: 'offer' })
  })

  it('honours a shorter cooldown', () => {
    const history = { prePrompt: null, dialog: { at: MONDAY_10 - 2 * HOUR, outcome: 'reject' as const } }
    expect(decidePrompt(input({ history }), { rejectCooldownMs: HOUR })).toEqual({ action: 'offer' })
  })

  it('never asks while banned, even after the cooldown', () => {
    expect(decidePrompt(input({ status: 'ban' }))).toEqual({ action: 'blocked', reason: 'ban' })
    expect(decidePrompt(input({ alwaysKeep: 'ban', now: MONDAY_10 + 1000 * HOUR }))).toEqual({ action: 'blocked', reason: 'ban' })
  })

  it('guides to settings while the main switch is off', () => {
    expect(decidePrompt(input({ mainSwitch: false }))).toEqual({ action: 'guide', reason: 'main-switch-off' })
  })

  it('guides to settings after "always keep" with reject, cooldown or not', () => {
    const long = { prePrompt: null, dialog: { at: MONDAY_10 - 500 * HOUR, outcome: 'reject' as const } }
    expect(decidePrompt(input({ alwaysKeep: 'reject', status: 'reject', history: long }))).toEqual({ action: 'guide', reason: 'always-reject' })
  })

  it('subscribes directly after "always keep" with accept', () => {
    expect(decidePrompt(input({ alwaysKeep: 'accept', status: 'accept' }))).toEqual({ action: 'direct', reason: 'always-accept' })
  })
})

describe('decideGroupPrompt', () => {
  it('offers when any template may be offered, leaving banned ones out', () => {
    expect(decideGroupPrompt([input({ status: 'ban' }), input()])).toEqual({ action: 'offer' })
  })

  it('guides when the main switch is off', () => {
    expect(decideGroupPrompt([input({ mainSwitch: false }), input({ mainSwitch: false })])).toEqual({ action: 'guide', reason: 'main-switch-off' })
  })

  it('waits until the earliest cooldown ends when none may be offered', () => {
    const a = { prePrompt: null, dialog: { at: MONDAY_10 - 10 * HOUR, outcome: 'reject' as const } }
    const b = { prePrompt: null, dialog: { at: MONDAY_10 - 20 * HOUR, outcome: 'reject' as const } }
    expect(decideGroupPrompt([input({ history: a }), input({ history: b })])).toEqual({
      action: 'wait',
      reason: 'cooldown',
      until: MONDAY_10 + 52 * HOUR,
    })
  })

  it('is blocked when every template is banned', () => {
    expect(decideGroupPrompt([input({ status: 'ban' })])).toEqual({ action: 'blocked', reason: 'ban' })
  })

  it('guides when every askable template is kept as reject, direct when all kept as accept', () => {
    expect(decideGroupPrompt([input({ alwaysKeep: 'reject' }), input({ alwaysKeep: 'reject' })])).toEqual({ action: 'guide', reason: 'always-reject' })
    expect(decideGroupPrompt([input({ alwaysKeep: 'accept' }), input({ alwaysKeep: 'accept' })])).toEqual({ action: 'direct', reason: 'always-accept' })
  })
})

describe('what a dialog answer means', () => {
  it('every accept is the status accept; the others stand as they are', () => {
    expect((['accept', 'acceptWithAudio', 'reject', 'ban', 'filter'] as const).map(statusOf)).toEqual(['accept', 'accept', 'reject', 'ban', 'filter'])
  })

  it('"总是保持以上选择" keeps accept, reject or ban; a filtered template keeps nothing', () => {
    expect((['accept', 'acceptWithAudio', 'reject', 'ban', 'filter'] as const).map(keptChoiceOf)).toEqual(['accept', 'accept', 'reject', 'ban', null])
    expect(['accept', 'reject', 'ban', 'acceptWithAudio', 'filter', null].map(isKeptChoice)).toEqual([true, true, true, false, false, false])
  })
})
