import { describe, expect, it } from 'vitest'
import { SERVICE_REASONS } from '@/domain/reasons'
import {
  categoryLabel,
  creditsLabel,
  formatClock,
  formatDateTime,
  messageDetail,
  messageStatusLabel,
  messageTone,
  outcomeLabel,
  reasonText,
} from '@/components/format'

describe('what the pages show', () => {
  it('shows times in China time (UTC+8), across midnight too', () => {
    expect(formatClock('2026-11-25T16:05:00.000Z')).toBe('00:05')
    expect(formatDateTime('2026-11-25T16:05:00.000Z')).toBe('11月26日 00:05')
    expect(formatDateTime('not a time')).toBe('not a time')
  })

  it('turns the service\'s reasons into Chinese, and says which errcode it does not know', () => {
    expect(reasonText('NO_CREDIT')).toBe('你还没有订阅这类消息，或订阅次数已用完')
    expect(reasonText('43101')).toBe('你还没有订阅这类消息，或订阅次数已用完')
    expect(reasonText('45009')).toBe('发送太频繁，微信暂停了发送')
    // Every reason the service itself writes reads as Chinese, not as its code.
    for (const reason of SERVICE_REASONS) expect(reasonText(reason), reason).toMatch(/^[\u4e00-\u9fff][^A-Z_]*$/)
    expect(reasonText('INTERRUPTED')).toBe('发送途中服务中断，为避免重复没有重发')
    expect(outcomeLabel({ status: 'failed', reason: 'INTERNAL' })).toBe('发送失败：服务内部出错，消息没有发出')
    expect(reasonText('40999')).toBe('微信拒绝发送（错误码 40999）')
    expect(reasonText(undefined)).toBe('原因未知')
  })

  it('says what became of an order message', () => {
    expect(outcomeLabel({ status: 'sent' })).toBe('已发送')
    expect(outcomeLabel({ status: 'deferred', deliverAfter: '2026-11-26T00:00:00.000Z' })).toBe('免打扰时段结束后发送（08:00）')
    expect(outcomeLabel({ status: 'failed', reason: 'NO_CREDIT' })).toBe('未订阅')
    expect(outcomeLabel({ status: 'failed', reason: '43101' })).toBe('未订阅')
    expect(outcomeLabel({ status: 'failed', reason: '47003' })).toBe('发送失败：消息内容不符合模板的要求')
    expect(outcomeLabel({ status: 'skipped', reason: 'DAILY_LIMIT' })).toBe('已跳过：已达到你设置的每日消息上限')
    expect(outcomeLabel({ status: 'queued' })).toBe('发送中')
  })

  it('describes a message by its status', () => {
    const base = { id: 'm', templateId: 't', createdAt: '2026-11-25T05:00:00.000Z' }
    expect(messageDetail({ ...base, status: 'sent', sentAt: '2026-11-25T05:00:03.000Z' })).toBe('发送于 11月25日 13:00')
    expect(messageDetail({ ...base, status: 'deferred' })).toBe('免打扰时段结束后发送')
    expect(messageDetail({ ...base, status: 'queued' })).toBe('创建于 11月25日 13:00')
  })

  it('a sent message WeChat reported on is 已送达 or 未送达', () => {
    const sent = { id: 'm', templateId: 't', status: 'sent' as const, createdAt: '2026-11-25T05:00:00.000Z', sentAt: '2026-11-25T05:00:03.000Z' }
    const at = '2026-11-25T05:00:04.000Z'
    expect([messageStatusLabel(sent), messageTone(sent)]).toEqual(['已发送', 'success'])
    const delivered = { ...sent, delivery: { status: 'delivered' as const, errorCode: 0, errorStatus: 'success', at } }
    expect([messageStatusLabel(delivered), messageTone(delivered), messageDetail(delivered)]).toEqual(['已送达', 'success', '发送于 11月25日 13:00'])
    const refused = { ...sent, delivery: { status: 'failed' as const, errorCode: 10005, errorStatus: 'fail:user refuse', at } }
    expect([messageStatusLabel(refused), messageTone(refused), messageDetail(refused)]).toEqual(['未送达', 'danger', '发送于 11月25日 13:00，微信没能送达'])
    expect(messageStatusLabel({ ...sent, status: 'deferred' })).toBe('待发送（免打扰）')
  })

  it('labels credits by kind and categories by name', () => {
    expect(creditsLabel('one-time', 'accept', 3)).toBe('剩余 3 次')
    expect(creditsLabel('one-time', 'unknown', null)).toBe('剩余次数未知')
    expect(creditsLabel('long-term', 'accept', 1)).toBe('长期有效')
    expect(creditsLabel('long-term', 'reject', 0)).toBe('未开启')
    expect(categoryLabel('security')).toBe('账户安全')
    expect(categoryLabel('vip')).toBe('vip')
  })
})
