/**
 * One test's client: a FakePlatform whose requests go to the in-memory FakeService, manual time, and
 * a fresh pinia, installed as the ClientContext the stores use, with the stores main.ts makes at start.
 *
 * `restart()` gives a new pinia and a new FakePlatform over the SAME storage (the app killed and
 * started again); the service keeps its state.
 */
import { createPinia, setActivePinia } from 'pinia'
import { createClientContext, installClientContext, type ClientContext } from '@/context'
import { FakePlatform, type FakePlatformOptions } from '@/platform/fake'
import { PlatformError } from '@/platform/errors'
import { useSessionStore } from '@/stores/session'
import { useSubscriptionsStore } from '@/stores/subscriptions'
import { FakeService, type FakeServiceOptions } from '../../support/fake-service'
import { ManualTime } from './manual-time'

export const START = '2026-03-02T02:00:00.000Z' // 10:00 in Asia/Shanghai

export interface TestClient {
  platform: FakePlatform
  service: FakeService
  time: ManualTime
  context: ClientContext
  restart(options?: FakePlatformOptions): TestClient
}

export interface TestClientOptions {
  platform?: FakePlatformOptions
  service?: FakeServiceOptions
  time?: ManualTime
}

export function setupClient(options: TestClientOptions = {}): TestClient {
  const time = options.time ?? new ManualTime(START)
  const service = new FakeService({ now: () => new Date(time.now()), ...options.service })
  return start(service, time, options.platform ?? {}, { count: 0 })
}

function start(service: FakeService, time: ManualTime, platformOptions: FakePlatformOptions, ids: { count: number }): TestClient {
  setActivePinia(createPinia())
  const platform = new FakePlatform({
    templates: service.templates,
    request: (request) => {
      if (service.offline) throw new PlatformError('OFFLINE', 'request:fail ')
      return service.handle(request)
    },
    ...platformOptions,
  })
  const context = createClientContext({
    platform,
    baseUrl: 'http://127.0.0.1:8080',
    getToken: () => useSessionStore().validToken(),
    currentOpenid: () => useSessionStore().openid,
    clock: time,
    timers: time,
    newId: () => `consent-${String(++ids.count).padStart(4, '0')}-device`,
  })
  installClientContext(context)
  // As main.ts does: the subscriptions store takes the credits of every delivered consent.
  useSubscriptionsStore()
  return {
    platform,
    service,
    time,
    context,
    restart: (next = {}) => start(service, time, { storage: platform.storageMap, ...next }, ids),
  }
}

/**
 * Writes `data` where the app keeps `uni-subscribe:<name>` (version 1), as an earlier run of the app
 * would have; with `openid`, in that person's slot (`uni-subscribe:<name>@<openid>`).
 */
export function storeSlot(client: TestClient, name: string, data: unknown, openid?: string): void {
  client.platform.storage.set(`uni-subscribe:${name}${openid === undefined ? '' : `@${openid}`}`, JSON.stringify({ v: 1, data }))
}

/** Lets every pending promise continuation run (no timers involved). */
export async function settle(): Promise<void> {
  for (let i = 0; i < 20; i++) await Promise.resolve()
}
