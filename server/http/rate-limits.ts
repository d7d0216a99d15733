/**
 * Request limits (@fastify/rate-limit), so that one person or one address cannot flood the service:
 * one signed-in user once wrote 3,620 message rows in 5 s through POST /api/events, and 50 users
 * minted ~450 credits each in 10 s through POST /api/consents.
 *
 * - Per person, keyed by the session's openid, on every route behind the session guard: the limit
 *   runs right after the guard (both at onRequest, before the body is read). Routes that change
 *   something (POST, PUT) allow RATE_LIMIT_WRITES_PER_MINUTE each, routes that read
 *   RATE_LIMIT_READS_PER_MINUTE each.
 * - Per address (the caller's IP; an IPv6 caller by its /64), on the sign-in routes that need no
 *   session: RATE_LIMIT_SIGN_INS_PER_MINUTE each.
 * - The admin key is never limited (its routes have no limit, and it passes the per-address ones).
 * - RATE_LIMIT=off (config.rateLimits null) registers nothing: load tests and benchmarks.
 *
 * A refused request is 429 RATE_LIMITED with `Retry-After` (seconds) and a message saying how long
 * to wait. The windows are fixed, one minute from a key's first request.
 *
 * Where the counts live: in this process's memory, counted on the service clock (tests move time
 * instead of waiting), when it runs alone. With REDIS_URL, several instances serve the same people
 * behind a load balancer, and a count per instance would let a person through as many times over:
 * the counts are in Redis (the plugin's RedisStore, under REDIS_PREFIX), one for the cluster, on
 * Redis's own clock. While Redis cannot be reached, requests go through unlimited rather than fail.
 */
import fastifyRateLimit, { normalizeIP, type FastifyRateLimitStore, type FastifyRateLimitStoreCtor } from '@fastify/rate-limit'
import type { FastifyInstance, FastifyRequest, onRequestAsyncHookHandler } from 'fastify'
import { Redis } from 'ioredis'
import { adminKeyCheck, bearerToken, userOrAdminGuard, type AuthGuards } from '../auth'
import type { RateLimits } from '../config'
import { HTTP_ERRORS, httpError } from '../http-errors'
import type { Clock } from '../wechat/types'

const WINDOW_MS = 60_000
/** Keys remembered per limit; beyond it the least recently seen key is forgotten. */
const KEYS_PER_LIMIT = 20_000

/** The routes limited per address, as `METHOD url`. */
const PER_ADDRESS_ROUTES: readonly string[] = ['POST /api/session', 'POST /sandbox/code', 'POST /api/admin/session']

const READ_METHODS: ReadonlySet<string> = new Set(['GET', 'HEAD'])

/**
 * A fixed-window counter on the service clock (the plugin's own store reads Date.now()). A clock
 * moved back before a window's start (the sandbox clock) starts a new window rather than stretching
 * the old one.
 */
function clockStore(clock: Clock): FastifyRateLimitStoreCtor {
  class ClockStore implements FastifyRateLimitStore {
    private readonly windows = new Map<string, { count: number; startMs: number }>()

    incr(key: string, callback: (error: Error | null, result?: { current: number; ttl: number }) => void, timeWindow: number): void {
      const now = clock.now().getTime()
      let window = this.windows.get(key)
      if (window === undefined || now >= window.startMs + timeWindow || now < window.startMs) window = { count: 0, startMs: now }
      window.count += 1
      // Most recently seen last: the first key is the one to forget.
      this.windows.delete(key)
      this.windows.set(key, window)
      if (this.windows.size > KEYS_PER_LIMIT) {
        const oldest = this.windows.keys().next()
        if (!oldest.done) this.windows.delete(oldest.value)
      }
      callback(null, { current: window.count, ttl: window.startMs + timeWindow - now })
    }

    child(): FastifyRateLimitStore {
      return new ClockStore()
    }
  }
  return ClockStore
}

/** The plugin's Redis store, on a connection of its own that closes with the app. */
function sharedCounts(app: FastifyInstance, redis: { url: string; prefix: string }): { redis: Redis; nameSpace: string; skipOnError: true } {
  // A request waits for Redis at most 1 s, then goes through (skipOnError) rather than hang or fail.
  const client = new Redis(redis.url, { maxRetriesPerRequest: 1, connectTimeout: 1_000, commandTimeout: 1_000 })
  client.on('error', (error: Error) => app.log.warn({ err: error }, 'rate limits: Redis unreachable; requests are not limited meanwhile'))
  app.addHook('onClose', async () => {
    await client.quit().catch(() => client.disconnect())
  })
  return { redis: client, nameSpace: `${redis.prefix}:rate-limit:`, skipOnError: true }
}

/** Each route counts on its own: `POST /api/events` and `POST /api/consents` have one budget each. */
const routeOf = (request: FastifyRequest): string => `${request.method} ${request.routeOptions.url ?? request.url}`

export interface RateLimitOptions {
  limits: RateLimits | null
  clock: Clock
  /** The cluster's Redis (REDIS_URL, REDIS_PREFIX): the counts are shared by every instance. */
  redis: { url: string; prefix: string } | null
  adminApiKey: string
  /** The guards to put the per-person limits behind, and the operator check `userOrAdmin` makes first. */
  guards: AuthGuards & { isOperator: Parameters<typeof userOrAdminGuard>[1] }
}

/**
 * Registers the limits on `app`; call it before any route is added. Returns the auth guards the
 * routes use: the session guard followed by the person's limit.
 */
export async function registerRateLimits(app: FastifyInstance, options: RateLimitOptions): Promise<AuthGuards> {
  const { limits, clock, adminApiKey, guards } = options
  if (limits === null) return { user: guards.user, admin: guards.admin, userOrAdmin: guards.userOrAdmin }

  const where = options.redis === null ? { store: clockStore(clock) } : sharedCounts(app, options.redis)
  await app.register(fastifyRateLimit, {
    global: false,
    hook: 'onRequest',
    timeWindow: WINDOW_MS,
    ...where,
    errorResponseBuilder: (_request, context) => httpError(HTTP_ERRORS.rateLimited(Math.max(1, Math.ceil(context.ttl / 1000)))),
  })

  const perPerson = (max: number) =>
    app.rateLimit({ max, timeWindow: WINDOW_MS, keyGenerator: (request) => `${routeOf(request)} ${request.openid}` })
  const writes = perPerson(limits.writesPerMinute)
  const reads = perPerson(limits.readsPerMinute)

  const isAdminKey = adminKeyCheck(adminApiKey)
  const perAddress = app.rateLimit({
    max: limits.signInsPerMinute,
    timeWindow: WINDOW_MS,
    keyGenerator: (request) => `${routeOf(request)} ${normalizeIP(request.ip)}`,
    allowList: (request) => {
      const token = bearerToken(request)
      return token !== null && isAdminKey(token)
    },
  })
  app.addHook('onRoute', (route) => {
    const methods = Array.isArray(route.method) ? route.method : [route.method]
    if (!methods.some((method) => PER_ADDRESS_ROUTES.includes(`${method} ${route.url}`))) return
    const existing = route.onRequest === undefined ? [] : Array.isArray(route.onRequest) ? route.onRequest : [route.onRequest]
    route.onRequest = [...existing, perAddress]
  })

  const user: onRequestAsyncHookHandler = async function (request, reply) {
    await guards.user.call(this, request, reply)
    await (READ_METHODS.has(request.method) ? reads : writes).call(this, request, reply)
  }
  return { user, admin: guards.admin, userOrAdmin: userOrAdminGuard(user, guards.isOperator) }
}
