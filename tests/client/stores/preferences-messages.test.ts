import { beforeEach, describe, expect, it } from 'vitest'
import { useMessagesStore } from '@/stores/messages'
import { usePreferencesStore } from '@/stores/preferences'
import { useSessionStore } from '@/stores/session'
import { setupClient, type TestClient } from '../support/client'
import { templateByKey } from '../../support/templates'

const OPENID = 'o-device-alice'
let client: TestClient

beforeEach(async () => {
  client = setupClient()
  await useSessionStore().signIn()
})

describe('preferences', () => {
  it('loads and saves through GET/PUT /api/me/preferences', async () => {
    const store = usePreferencesStore()
    await expect(store.load()).resolves.toEqual({ quietHours: null, dailyLimit: 20, mutedCategories: [] })
    const next = { quietHours: { start: '22:00', end: '08:00' }, dailyLimit: 5, mutedCategories: ['marketing'] }
    await expect(store.save(next)).resolves.toEqual(next)
    expect(store.preferences).toEqual(next)
    expect(client.service.preferences(OPENID)).toEqual(next)
    expect(store.saving).toBe(false)
  })

  it('a refused save throws the ApiError naming the field and keeps what was saved before', async () => {
    const store = usePreferencesStore()
    await store.load()
    const saving = store.save({ quietHours: { start: '22:00', end: '22:00' }, dailyLimit: 5, mutedCategories: [] })
    await expect(saving).rejects.toMatchObject({ code: 'VALIDATION_FAILED', field: 'quietHours.end' })
    expect(store.preferences).toEqual({ quietHours: null, dailyLimit: 20, mutedCategories: [] })
    expect(store.saving).toBe(false)
  })
})

describe('messages', () => {
  it('refreshes the list newest first', async () => {
    client.service.addMessage(OPENID, { id: 'm1', templateId: templateByKey('order_status').id, status: 'sent', createdAt: '2026-03-01T01:00:00.000Z', sentAt: '2026-03-01T01:00:01.000Z' })
    client.service.addMessage(OPENID, { id: 'm2', templateId: templateByKey('order_status').id, status: 'failed', reason: 'NO_CREDIT', createdAt: '2026-03-02T01:00:00.000Z' })
    const store = useMessagesStore()
    await store.refresh()
    expect(store.messages.map((message) => [message.id, message.status, message.reason])).toEqual([
      ['m2', 'failed', 'NO_CREDIT'],
      ['m1', 'sent', undefined],
    ])
    expect(store.refreshedAt).toBe(client.time.now())
  })

  it('keeps the previous list when a refresh fails', async () => {
    client.service.addMessage(OPENID, { id: 'm1', templateId: templateByKey('order_status').id, status: 'sent', createdAt: '2026-03-01T01:00:00.000Z' })
    const store = useMessagesStore()
    await store.refresh()
    client.service.offline = true
    await expect(store.refresh()).rejects.toMatchObject({ code: 'OFFLINE' })
    expect(store.messages.map((message) => message.id)).toEqual(['m1'])
    expect(store.loading).toBe(false)
  })
})
