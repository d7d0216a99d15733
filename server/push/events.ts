/**
 * What WeChat's pushes do, once the endpoint has checked them (server/wechat/push/receiver.ts):
 *
 * - `subscribe_msg_popup_event` and `subscribe_msg_change_event` go to the ledger, which decides what
 *   they do to the credits (server/ledger/reconciliation.ts);
 * - `subscribe_msg_sent_event` becomes the delivery record of the message with that msgid: delivered
 *   when ErrorCode is 0, else failed. A msgid no message has is logged and kept (the send's result may
 *   not be written yet); it changes nothing else;
 * - any other push (a customer-service message, another event) is left alone.
 *
 * Each template of a push is applied once by its key (ToUserName + FromUserName + CreateTime + Event +
 * TemplateId, or MsgID for a delivery), so WeChat's retries of a push change nothing.
 */
import type { DeliveryRecord, DeliveryRepository } from '../db/storage'
import type { Ledger } from '../ledger/ledger'
import type { DispatchLogger } from '../dispatch/worker'
import { CHANGE_EVENT, POPUP_EVENT, type SubscriptionPush, type WeChatPush } from '../wechat/push/message'

export interface PushEvents {
  apply(push: WeChatPush): Promise<void>
}

/** The dedup key of one template (or msgid) of a push. */
function keyOf(push: SubscriptionPush, item: string): string {
  return [push.toUserName, push.fromUserName, String(push.createTime), push.event, item].join('|')
}

/** What a sent event's ErrorCode means for the message. */
function deliveryStatus(errorCode: number): DeliveryRecord['status'] {
  return errorCode === 0 ? 'delivered' : 'failed'
}

export function createPushEvents(options: { ledger: Ledger; deliveries: DeliveryRepository; logger: DispatchLogger; clock: { now(): Date } }): PushEvents {
  const { ledger, deliveries, logger, clock } = options
  return {
    async apply(push) {
      if (push.event === 'other') return
      const openid = push.fromUserName
      const createdAt = new Date(push.createTime * 1000)
      if (push.event === POPUP_EVENT || push.event === CHANGE_EVENT) {
        const items = push.items.map((item) => ({ ...item, key: keyOf(push, item.templateId) }))
        const event = push.event === POPUP_EVENT ? 'popup' : 'change'
        const outcome = await ledger.applyWeChatEvent({ event, openid, createdAt, items })
        if (outcome.unknownTemplates.length > 0) {
          logger.warn({ event: push.event, templateIds: outcome.unknownTemplates }, 'WeChat pushed templates the catalogue does not have: recorded, no credit changed')
        }
        logger.info({ event: push.event, applied: outcome.applied, duplicates: outcome.duplicates }, 'WeChat push applied')
        return
      }
      const items = push.items.map((item) => ({
        key: keyOf(push, item.msgid),
        templateId: item.templateId,
        msgid: item.msgid,
        delivery: { status: deliveryStatus(item.errorCode), errorCode: item.errorCode, errorStatus: item.errorStatus, at: createdAt },
      }))
      const outcome = await deliveries.record({ openid, items, now: clock.now() })
      if (outcome.unknownMsgids.length > 0) {
        logger.warn({ msgids: outcome.unknownMsgids }, 'WeChat reported the delivery of msgids no message has (yet): kept, nothing else changed')
      }
      logger.info({ event: push.event, applied: outcome.applied.length, duplicates: outcome.duplicates.length }, 'WeChat push applied')
    },
  }
}
