/**
 * Everything the client keeps belongs to the person signed in: orders, statuses and credits, kept
 * choices, prompt history, messages, preferences. Someone else signing in on the same device sees none
 * of it; the first person finds theirs again. What an earlier version kept with no owner is dropped.
 */
import { beforeEach, describe, expect, it } from 'vitest'
import { useMessagesStore } from '@/stores/messages'
import { useOrdersStore } from '@/stores/orders'
import { usePreferencesStore } from '@/stores/preferences'
import { useSessionStore } from '@/stores/session'
import { useSubscriptionsStore } from '@/stores/subscriptions'
import { useTemplatesStore } from '@/stores/templates'
import { setupClient, storeSlot, type TestClient } from '../support/client'
import { templateByKey } from '../../support/templates'

const ORDER = templateByKey('order_status').id
let client: TestClient

beforeEach(async () => {
  client = setupClient({ service: { sandbox: true } })
  await useSessionStore().signInAsTestUser('alice')
  await useTemplatesStore().load()
})

describe('per-person state', () => {
  it('carol, signed in after alice, finds nothing of alice\'s; alice finds hers again, after a restart too', async () => {
    const orders = useOrdersStore()
    const subscriptions = useSubscriptionsStore()
    const placed = orders.placeOrder()
    await client.platform.tap(() => subscriptions.subscribe([ORDER]))
    subscriptions.recordPrePrompt([ORDER], 'declined')
    await useMessagesStore().refresh()
    await usePreferencesStore().load()
    expect(subscriptions.stateOf(ORDER)).toMatchObject({ status: 'accept', credits: 1 })

    await useSessionStore().signInAsTestUser('carol')
    expect(orders.orders).toEqual([])
    expect(subscriptions.stateOf(ORDER)).toMatchObject({ status: 'unknown', credits: null, prompts: { prePrompt: null, dialog: null } })
    expect(subscriptions.mainSwitch).toBeNull()
    expect(useMessagesStore().messages).toEqual([])
    expect(usePreferencesStore().preferences).toBeNull()
    orders.placeOrder()

    await useSessionStore().signInAsTestUser('alice')
    expect(orders.orders).toEqual([placed])
    expect(subscriptions.stateOf(ORDER)).toMatchObject({ status: 'accept', credits: 1, prompts: { prePrompt: { outcome: 'declined' } } })

    client = client.restart()
    expect(useOrdersStore().orders).toEqual([placed])
    expect(useSubscriptionsStore().stateOf(ORDER)).toMatchObject({ status: 'accept', credits: 1 })
  })

  it('keeps nothing while nobody is signed in', () => {
    const alice = useSessionStore().openid
    useOrdersStore().placeOrder()
    useSessionStore().signOut()
    expect(useOrdersStore().orders).toEqual([])
    useOrdersStore().placeOrder()
    const kept = [...client.platform.storageMap.entries()].filter(([key]) => key.startsWith('uni-subscribe:orders'))
    expect(kept.map(([key, text]) => [key, (JSON.parse(text) as { data: unknown[] }).data.length])).toEqual([[`uni-subscribe:orders@${alice ?? ''}`, 1]])
  })

  it('drops orders and statuses an earlier version kept with no owner, instead of showing them to whoever signs in', () => {
    const order = { id: 'D1', goodsName: '帆布托特包', amountFen: 12900, status: 'paid', createdAt: 1, updatedAt: 2, lastOutcome: null }
    storeSlot(client, 'orders', [order])
    storeSlot(client, 'subscriptions', { states: { [ORDER]: { status: 'accept', credits: 2, alwaysKeep: 'accept', prompts: {}, updatedAt: 1, lastError: null } }, mainSwitch: true })
    client = client.restart()
    expect(useOrdersStore().orders).toEqual([])
    expect(useSubscriptionsStore().stateOf(ORDER)).toMatchObject({ status: 'unknown', alwaysKeep: null })
    expect(client.platform.storage.get('uni-subscribe:orders')).toBeNull()
    expect(client.platform.storage.get('uni-subscribe:subscriptions')).toBeNull()
  })
})
