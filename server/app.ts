/**
 * Builds the service (Fastify, TypeBox schemas on every route) without listening: server.ts listens,
 * tests call `app.inject()`. Everything outside the process comes in as an argument: the
 * configuration, the storage, the WeChat client, the clock, and in sandbox mode the sandbox WeChat.
 */
import cors from '@fastify/cors'
import fastifyStatic from '@fastify/static'
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import Fastify, { type FastifyInstance, type FastifyLoggerOptions } from 'fastify'
import type { Template } from '../src/domain/contract'
import { createAudience } from './audience/audience'
import { createCampaignService } from './campaigns/campaigns'
import { createCampaignRunner } from './campaigns/runner'
import { createAuthGuards } from './auth'
import { restoreSandboxMemory } from './demo/sandbox-memory'
import { createAdjustableClock, type AdjustableClock } from './clock'
import type { Config } from './config'
import type { Storage } from './db/storage'
import { createDispatcher } from './dispatch/dispatcher'
import { httpErrorOptions, installErrorHandlers } from './http-errors'
import { installJsonBodyParser } from './http/json-body'
import { sandboxOriginGuard } from './http/origin-guard'
import { registerRateLimits } from './http/rate-limits'
import { createLedger } from './ledger/ledger'
import { readMiniProgramPages } from './messages/pages'
import { createOrderEvents } from './messages/order-events'
import { createPipeline } from './messages/pipeline'
import { createMessageQueries } from './messages/queries'
import { createMessageRetry } from './messages/retry'
import { createScheduler, type Scheduler } from './messages/scheduler'
import { createTemplateDirectory } from './messages/templates'
import { createHealthReport } from './operators/health'
import { createOutcomeTimeline } from './operators/outcomes'
import { createOperatorSessionService } from './operators/sessions'
import { createPreferencesService } from './preferences/preferences'
import { createPushEvents } from './push/events'
import { adminSessionRoutes } from './routes/admin-session'
import { campaignRoutes } from './routes/campaigns'
import { consentRoutes } from './routes/consents'
import type { RouteContext } from './routes/context'
import { eventRoutes } from './routes/events'
import { healthRoutes } from './routes/health'
import { meRoutes } from './routes/me'
import { messageRoutes } from './routes/messages'
import { PUSH_PATH, pushRoutes, type PushEndpoint } from './routes/push'
import { sandboxRoutes } from './routes/sandbox'
import { segmentRoutes } from './routes/segments'
import { sessionRoutes } from './routes/session'
import { statsRoutes } from './routes/stats'
import { templateRoutes } from './routes/templates'
import { wechatLibraryRoutes } from './routes/wechat-library'
import { userRoutes } from './routes/users'
import { createSessionService } from './sessions/sessions'
import { createTemplateAdmin } from './templates/admin'
import { strictValidatorCompiler } from './validation'
import type { SandboxWeChat } from './wechat/sandbox'
import { httpPushTarget } from './wechat/sandbox/push'
import { systemClock, type WeChatClient } from './wechat/types'

/** Request bodies larger than this are refused with 413 (the largest real body is a few KiB). */
const BODY_LIMIT_BYTES = 64 * 1024

declare module 'fastify' {
  interface FastifyInstance {
    /** Started by server.ts once the app listens; stopped when the app closes. */
    scheduler: Scheduler
  }
}

export interface BuildAppOptions {
  config: Config
  storage: Storage
  wechat: WeChatClient
  /** The template catalogue. */
  templates: readonly Template[]
  /** The catalogue file template management writes (default: config.templatesPath, where `templates` came from). */
  templatesFile?: string
  /** The mini-program's pages; default: read from pages.json. */
  pages?: readonly string[]
  /** The service clock; default the system clock. Movable only through the sandbox routes. */
  clock?: AdjustableClock
  /** The sandbox WeChat; required in sandbox mode (no WECHAT_APPID), refused otherwise. */
  sandbox?: SandboxWeChat
  /** Where the logs go (default stdout): tests pass a stream to read them. */
  logStream?: { write(line: string): void }
  /** A built H5 app to serve at / (e.g. dist/build/h5). */
  staticDir?: string
}

/** Strips `access_token=…` (and any secret=…) from URLs and messages before they reach a log. */
function scrubSecrets(text: string): string {
  return text.replace(/\b(access_token|secret|js_code|token)=[^&\s"']+/gi, '$1=[REDACTED]')
}

function loggerOptions(config: Config, stream?: { write(line: string): void }): FastifyLoggerOptions & Record<string, unknown> {
  return {
    level: config.logLevel,
    ...(stream && { stream }),
    redact: {
      paths: [
        'req.headers.authorization',
        'req.headers.cookie',
        'res.headers["set-cookie"]',
        'token',
        'secret',
        'access_token',
        'adminApiKey',
        'aesKey',
        '*.token',
        '*.aesKey',
        '*.secret',
        '*.access_token',
        '*.adminApiKey',
        '*.authorization',
      ],
      censor: '[REDACTED]',
    },
    serializers: {
      req: (request: { method: string; url: string; ip?: string }) => ({
        method: request.method,
        url: scrubSecrets(request.url),
        remoteAddress: request.ip,
      }),
      err: (error: Error) => ({
        type: error.name,
        message: scrubSecrets(error.message),
        stack: scrubSecrets(error.stack ?? ''),
      }),
    },
  }
}

export async function buildApp(options: BuildAppOptions): Promise<FastifyInstance> {
  const { config, storage, wechat } = options
  const sandboxMode = config.wechat.mode === 'sandbox'
  if (sandboxMode && !options.sandbox) throw new Error('sandbox mode (no WECHAT_APPID) needs the sandbox WeChat')
  if (!sandboxMode && options.sandbox) throw new Error('the sandbox WeChat exists only when no WECHAT_APPID is set')

  const clock = options.clock ?? createAdjustableClock(systemClock)
  const templates = createTemplateDirectory(options.templates)
  const push = config.push

  const app = Fastify({
    logger: loggerOptions(config, options.logStream),
    bodyLimit: BODY_LIMIT_BYTES,
    // Request ids from a counter would collide across restarts in the logs: use random ones.
    genReqId: () => crypto.randomUUID(),
    // Behind a reverse proxy, the caller's address (for the per-address limits) is the forwarded one.
    trustProxy: config.trustProxy.length > 0 ? config.trustProxy : false,
    // One access-log line per request, when it is answered (below), rather than Fastify's two.
    disableRequestLogging: true,
    ...httpErrorOptions,
  }).withTypeProvider<TypeBoxTypeProvider>()
  app.addHook('onResponse', async (request, reply) => {
    request.log.info({ req: request, res: { statusCode: reply.statusCode }, responseTime: Math.round(reply.elapsedTime * 10) / 10 }, 'request completed')
  })
  // TypeBox checks every body, params and querystring (see validation.ts: nothing is coerced loosely).
  app.setValidatorCompiler(strictValidatorCompiler)
  installErrorHandlers(app)
  installJsonBodyParser(app)

  await app.register(cors, {
    origin: config.corsOrigins.length > 0 ? config.corsOrigins : false,
    methods: ['GET', 'POST', 'PUT', 'DELETE'],
    allowedHeaders: ['Content-Type', 'Authorization'],
    maxAge: 600,
  })
  const ledger = createLedger({ storage, templates, clock, reconcile: push && { confirmWindowMs: push.confirmWindowMs } })
  const preferences = createPreferencesService({ repository: storage.preferences, templates, clock })
  const { users, segments } = createAudience({ storage, ledger, preferences, templates, clock, timeZone: config.quietHoursTimeZone })
  const sessions = createSessionService({
    repository: storage.sessions,
    wechat,
    clock,
    ttlHours: config.sessionTtlHours,
    perUser: config.sessionsPerUser,
    activity: users,
  })
  const operators = createOperatorSessionService({
    repository: storage.operatorSessions,
    adminApiKey: config.adminApiKey,
    clock,
    ttlHours: config.operatorSessionTtlHours,
  })
  // Before any route: the limits attach to routes as they are added.
  const auth = await registerRateLimits(app, {
    limits: config.rateLimits,
    clock,
    redis: config.redis,
    adminApiKey: config.adminApiKey,
    guards: createAuthGuards({ sessions, operators, adminApiKey: config.adminApiKey }),
  })

  const dispatcher = createDispatcher({
    storage,
    ledger,
    preferences,
    wechat,
    templates,
    clock,
    timeZone: config.quietHoursTimeZone,
    miniprogramState: config.miniprogramState,
    logger: app.log,
    concurrency: config.dispatchConcurrency,
    rate: config.dispatchRate,
    campaignRates: () => storage.campaigns.rates(),
    leaseMs: config.dispatchLeaseMs,
    redis: config.redis,
  })
  const wake = (): void => dispatcher.wake()
  const pages = options.pages ?? readMiniProgramPages()
  const pipeline = createPipeline({ storage, templates, pages, clock, logger: app.log, onQueued: wake })
  const runner = createCampaignRunner({
    storage,
    audience: {
      async page(filter, after, limit) {
        const page = await users.page(filter, { ...(after !== null && { after }), limit })
        return { recipients: page.users, next: page.next }
      },
    },
    templates,
    clock,
    logger: app.log,
    onQueued: wake,
  })
  const campaigns = createCampaignService({
    storage,
    templates,
    pages: new Set(pages.map((page) => page.replace(/^\//, ''))),
    clock,
    runner,
    segmentFilter: async (id) => (await storage.segments.get(id))?.filter ?? null,
    onQueued: wake,
  })
  const scheduler = createScheduler({
    storage,
    ledger,
    dispatcher,
    clock,
    intervalMs: config.schedulerIntervalMs,
    logger: app.log,
    // With REDIS_URL other instances share the database, whatever engine holds it.
    exclusive: storage.singleProcess && config.redis === null,
    campaigns: runner,
  })
  app.decorate('scheduler', scheduler)
  app.decorateRequest('openid', '')
  // The dispatcher sends from the moment the app is ready until it closes (after the scheduler).
  app.addHook('onReady', async () => dispatcher.start())
  app.addHook('onClose', async () => {
    await scheduler.stop()
    await runner.stop()
    await dispatcher.stop()
  })

  let pushEndpoint: PushEndpoint | undefined
  if (push) {
    const appId = config.wechat.mode === 'real' ? config.wechat.appId : options.sandbox!.appId
    pushEndpoint = {
      secrets: { token: push.token, aesKey: push.aesKey, appId },
      events: createPushEvents({ ledger, deliveries: storage.deliveries, logger: app.log, clock }),
    }
  }
  if (options.sandbox && push) connectSandboxPush(app, options.sandbox, { token: push.token, aesKey: push.aesKey })
  if (options.sandbox) {
    const restored = await restoreSandboxMemory({ sandbox: options.sandbox, users, ledger, templates, clock })
    if (restored.users > 0) app.log.info(restored, 'sandbox WeChat told the users and credits of the database again')
  }

  const context: RouteContext = {
    config,
    templates,
    templateAdmin: createTemplateAdmin({ wechat, templates, file: options.templatesFile ?? config.templatesPath }),
    sessions,
    operators,
    health: createHealthReport({
      storage,
      dispatcher,
      scheduler,
      schedulerIntervalMs: config.schedulerIntervalMs,
      wechat: config.wechat.mode === 'real' ? { mode: 'real', appId: config.wechat.appId } : { mode: 'sandbox', appId: options.sandbox!.appId },
      // No message push: no event can come, so none is reported (as opposed to none yet).
      lastPushEventAt: async () => (push ? storage.deliveries.lastEventReceivedAt() : null),
      clock,
    }),
    timeline: createOutcomeTimeline({ outcomes: storage.outcomes, clock, timeZone: config.quietHoursTimeZone, deliveredSince: async (from) => (push ? storage.deliveries.deliveredSince(from) : null) }),
    ledger,
    preferences,
    pipeline,
    dispatcher,
    orderEvents: createOrderEvents({ pipeline, dispatcher, templates, clock, timeZone: config.quietHoursTimeZone }),
    messages: createMessageQueries(storage.messages, templates, storage.deliveries),
    retries: createMessageRetry({ messages: storage.messages, clock, onQueued: wake }),
    campaigns,
    scheduler,
    users,
    segments,
    clock,
    auth,
    ...(options.sandbox && { sandbox: options.sandbox }),
    ...(pushEndpoint && { push: pushEndpoint }),
  }
  await app.register(healthRoutes, context)
  await app.register(sessionRoutes, context)
  await app.register(adminSessionRoutes, context)
  await app.register(templateRoutes, context)
  await app.register(consentRoutes, context)
  await app.register(meRoutes, context)
  await app.register(eventRoutes, context)
  await app.register(messageRoutes, context)
  await app.register(statsRoutes, context)
  await app.register(wechatLibraryRoutes, context)
  if (pushEndpoint) await app.register(pushRoutes, context)
  await app.register(userRoutes, context)
  await app.register(segmentRoutes, context)
  await app.register(campaignRoutes, context)
  if (sandboxMode) {
    app.addHook('onRequest', sandboxOriginGuard(config.corsOrigins))
    await app.register(sandboxRoutes, context)
  }

  if (options.staticDir) {
    await app.register(fastifyStatic, { root: options.staticDir, prefix: '/', index: 'index.html' })
    // uni's H5 router reads the page from the hash (manifest.json: router mode hash). An address written
    // without it (/pages/orders/index, typed or shared by hand) opens the same page with it; one the app
    // has no page for then shows the app's own 页面不存在, not this service's JSON 404.
    app.get('/pages/*', async (request, reply) => reply.redirect(`/#${request.url}`, 302))
  }
  return app
}

/**
 * In sandbox mode the service plays WeChat's console for the sandbox WeChat: it connects the sandbox's
 * message push to its own push URL with the Token and EncodingAESKey both know (secure mode, XML).
 * Once ready the pushes go in process (tests that never listen); once listening, over HTTP to the
 * address it listens on, as WeChat would post; when the app closes, the sandbox stops pushing to it.
 */
function connectSandboxPush(app: FastifyInstance, sandbox: SandboxWeChat, secrets: { token: string; aesKey: string | null }): void {
  app.addHook('onReady', async () => {
    sandbox.push.connect(
      {
        async post({ query, body, contentType }) {
          const answer = await app.inject({ method: 'POST', url: `${PUSH_PATH}?${query}`, headers: { 'content-type': contentType }, payload: body })
          return { statusCode: answer.statusCode, body: answer.body }
        },
      },
      secrets,
    )
  })
  app.addHook('onListen', async () => {
    const address = app.server.address()
    if (address === null || typeof address === 'string') return
    const host = address.family === 'IPv6' ? `[${address.address}]` : address.address
    sandbox.push.connect(httpPushTarget(`http://${host}:${address.port}${PUSH_PATH}`), secrets)
  })
  app.addHook('onClose', async () => sandbox.push.disconnect())
}
