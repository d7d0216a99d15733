/**
 * How stores and pages reach the outside world: the platform (the only code touching `uni.*`), the
 * service's api client, a clock, timers and an id source, bundled as one `ClientContext`.
 *
 * - The app: main.ts calls `installClientContext(createClientContext(...))` once, before any store runs.
 * - Tests: `installClientContext(...)` in `beforeEach` with a `FakePlatform` (src/platform/fake.ts)
 *   and a manual clock/timers (tests/client/support).
 * - Inside a store action or a page: `usePlatform()`, `useApi()`, `useClientContext()`.
 *
 * A plain module-level slot rather than Vue's provide/inject, because stores run outside components
 * (timers, app lifecycle) and the mini-program has one app per process.
 *
 * The session is reached the same way (`getToken`, `currentOpenid`): the session store imports the
 * consent outbox (it flushes after sign-in), so the outbox cannot import the session store back.
 */
import type { Platform } from '@/platform/types'
import { createApiClient, defaultApiBase, type ApiClient } from '@/api/client'
import { randomId } from '@/rules/ids'

export interface Clock {
  /** ms since the epoch. */
  now(): number
}

export interface Timers {
  /** Runs `callback` once after `ms`; returns a function that cancels it. */
  schedule(callback: () => void, ms: number): () => void
}

export interface ClientContext {
  platform: Platform
  api: ApiClient
  /** The openid of the person signed in now (the session store's), or null when signed out. */
  currentOpenid(): string | null
  clock: Clock
  timers: Timers
  /** A new random id (`^[A-Za-z0-9_-]{22}$`). */
  newId(): string
}

const systemClock: Clock = { now: () => Date.now() }

const systemTimers: Timers = {
  schedule(callback, ms) {
    const handle = setTimeout(callback, ms)
    return () => clearTimeout(handle)
  },
}

interface CreateClientContextOptions {
  platform: Platform
  /** The session token for each request; the app passes `() => useSessionStore().validToken()`. */
  getToken: () => string | null
  /** The signed-in person's openid; the app passes `() => useSessionStore().openid`. */
  currentOpenid: () => string | null
  /** Default: `defaultApiBase()` (VITE_API_BASE, or the build's default). */
  baseUrl?: string
  clock?: Clock
  timers?: Timers
  newId?: () => string
}

export function createClientContext(options: CreateClientContextOptions): ClientContext {
  return {
    platform: options.platform,
    api: createApiClient({
      request: (request) => options.platform.request(request),
      baseUrl: options.baseUrl ?? defaultApiBase(),
      getToken: options.getToken,
    }),
    currentOpenid: options.currentOpenid,
    clock: options.clock ?? systemClock,
    timers: options.timers ?? systemTimers,
    newId: options.newId ?? (() => randomId()),
  }
}

let current: ClientContext | null = null

export function installClientContext(context: ClientContext): void {
  current = context
}

export function useClientContext(): ClientContext {
  if (current === null) throw new Error('ClientContext 未安装：先在 main.ts（或测试的 beforeEach）里调用 installClientContext()')
  return current
}

export function usePlatform(): Platform {
  return useClientContext().platform
}

export function useApi(): ApiClient {
  return useClientContext().api
}
