/** What a message's caller is told about it: the contract's MessageOutcome. */
import type { MessageOutcome } from '../../src/domain/contract'
import type { MessageRecord } from '../db/storage'

export function outcomeOf(message: Pick<MessageRecord, 'id' | 'templateId' | 'status' | 'reason' | 'deliverAfter'>): MessageOutcome {
  const outcome: MessageOutcome = { id: message.id, templateId: message.templateId, status: message.status }
  if (message.reason !== undefined) outcome.reason = message.reason
  if (message.status === 'deferred' && message.deliverAfter !== undefined) {
    outcome.deliverAfter = message.deliverAfter.toISOString()
  }
  return outcome
}
