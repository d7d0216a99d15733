/**
 * The service's configuration: the environment, parsed once at start with a TypeBox schema.
 * A bad value stops the start with a message that names the variable (never its value when it is a
 * secret).
 *
 * With no WECHAT_APPID the service runs against the built-in sandbox WeChat on loopback. Without
 * ADMIN_API_KEY (allowed only then) the admin key lives in a file next to the database, made on the
 * first start (mode 0600) and reused after: see `readOrCreateAdminKey`. The key itself is never printed.
 * The sandbox's routes (/sandbox/*) and its WeChat have no auth, so sandbox mode listens on a loopback
 * HOST only, unless SANDBOX_ALLOW_REMOTE=1 says on purpose that other machines may reach it.
 */
import { randomBytes } from 'node:crypto'
import { BlockList, isIP } from 'node:net'
import { chmodSync, existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs'
import { dirname, join, resolve } from 'node:path'
import { Type, type Static } from 'typebox'
import { Value } from 'typebox/value'
import type { MiniprogramState } from './wechat/types'

const DEFAULT_DATABASE = 'data/uni-subscribe.db'
const ADMIN_KEY_FILE_NAME = 'admin-api-key'
/** Only the owner may read or write the admin key file. */
const OWNER_ONLY = 0o600

const Port = Type.String({ pattern: '^[0-9]{1,5}$' })
const PositiveInteger = Type.String({ pattern: '^[1-9][0-9]{0,6}$' })
const MAX_SEED_USERS = 100_000

/** Every variable as the environment holds it (strings), with its default. Empty counts as unset. */
export const EnvSchema = Type.Object({
  PORT: Type.String({ ...Port, default: '8080' }),
  HOST: Type.String({ minLength: 1, default: '127.0.0.1' }),
  DATABASE: Type.String({ minLength: 1, default: DEFAULT_DATABASE }),
  // Set: the PostgreSQL engine (server/db/open.ts), which several instances may share; DATABASE is then unused.
  DATABASE_URL: Type.Optional(Type.String({ pattern: '^postgres(ql)?://\\S+$' })),
  PG_POOL_MAX: Type.String({ pattern: '^[1-9][0-9]{0,2}$', default: '10' }),
  WECHAT_APPID: Type.Optional(Type.String({ pattern: '^wx[0-9a-zA-Z]{14,30}$' })),
  WECHAT_SECRET: Type.Optional(Type.String({ pattern: '^[0-9a-zA-Z]{16,64}$' })),
  WECHAT_API_BASE: Type.String({ pattern: '^https?://[^\\s/]+(/[^\\s]*)?$', default: 'https://api.weixin.qq.com' }),
  // It travels as `Authorization: Bearer <key>`, which ends at the first space: no white space inside.
  ADMIN_API_KEY: Type.Optional(Type.String({ minLength: 16, maxLength: 256, pattern: '^\\S+$' })),
  MINIPROGRAM_STATE: Type.Union([Type.Literal('formal'), Type.Literal('trial'), Type.Literal('developer')], {
    default: 'formal',
  }),
  TEMPLATES: Type.String({ minLength: 1, default: 'config/templates.json' }),
  TZ_QUIET_HOURS: Type.String({ minLength: 1, default: 'Asia/Shanghai' }),
  CORS_ORIGINS: Type.String({ default: '' }),
  SESSION_TTL: Type.String({ ...PositiveInteger, default: '168' }),
  OPERATOR_SESSION_TTL: Type.String({ ...PositiveInteger, default: '12' }),
  SCHEDULER_INTERVAL_MS: Type.String({ ...PositiveInteger, default: '5000' }),
  DISPATCH_CONCURRENCY: Type.String({ pattern: '^[1-9][0-9]{0,3}$', default: '64' }),
  DISPATCH_RATE: Type.Optional(Type.String({ pattern: '^(0|[1-9][0-9]{0,6})(\\.[0-9]{1,3})?$' })),
  DISPATCH_LEASE_S: Type.String({ pattern: '^([5-9]|[1-9][0-9]{1,4})$', default: '120' }),
  REDIS_URL: Type.Optional(Type.String({ pattern: '^rediss?://\\S+$' })),
  REDIS_PREFIX: Type.String({ pattern: '^[A-Za-z0-9_.-]{1,64}$', default: 'uni-subscribe' }),
  RATE_LIMIT: Type.Union([Type.Literal('on'), Type.Literal('off')], { default: 'on' }),
  RATE_LIMIT_WRITES_PER_MINUTE: Type.String({ ...PositiveInteger, default: '60' }),
  RATE_LIMIT_READS_PER_MINUTE: Type.String({ ...PositiveInteger, default: '600' }),
  RATE_LIMIT_SIGN_INS_PER_MINUTE: Type.String({ ...PositiveInteger, default: '20' }),
  SESSIONS_PER_USER: Type.String({ ...PositiveInteger, default: '20' }),
  SEED_USERS: Type.String({ pattern: '^(0|[1-9][0-9]{0,5})$', default: '500' }),
  TRUST_PROXY: Type.Optional(Type.String({ minLength: 1 })),
  STATIC_DIR: Type.Optional(Type.String({ minLength: 1 })),
  SANDBOX_ALLOW_REMOTE: Type.Optional(Type.Union([Type.Literal('0'), Type.Literal('1')])),
  WECHAT_PUSH_TOKEN: Type.Optional(Type.String({ pattern: '^[A-Za-z0-9]{3,32}$' })),
  WECHAT_PUSH_AES_KEY: Type.Optional(Type.String({ pattern: '^[A-Za-z0-9]{43}$' })),
  CONSENT_CONFIRM_WINDOW_S: Type.String({ ...PositiveInteger, default: '600' }),
  LOG_LEVEL: Type.Union(
    ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'].map((level) => Type.Literal(level)),
    { default: 'info' },
  ),
})
export type EnvVariable = keyof Static<typeof EnvSchema>

/** What each variable must be, for the error message. */
const EXPECTED: Record<EnvVariable, string> = {
  PORT: '应为 1 到 65535 之间的端口号',
  HOST: '应为监听地址，如 127.0.0.1',
  DATABASE: '应为 SQLite 数据库文件的路径',
  DATABASE_URL: '应为 PostgreSQL 连接地址，如 postgres://用户名:密码@主机:5432/数据库名',
  PG_POOL_MAX: '应为每个服务进程连接 PostgreSQL 的最大连接数（1 到 999 的整数）',
  WECHAT_APPID: '应为小程序的 AppID（wx 开头，如 wx1234567890abcdef）',
  WECHAT_SECRET: '应为小程序的 AppSecret（16 到 64 位字母或数字）',
  WECHAT_API_BASE: '应为 http(s):// 开头的地址，如 https://api.weixin.qq.com',
  ADMIN_API_KEY: '应为 16 到 256 个字符的管理密钥，不含空格',
  MINIPROGRAM_STATE: '应为 formal、trial 或 developer 之一',
  TEMPLATES: '应为模板目录 JSON 文件的路径',
  TZ_QUIET_HOURS: '应为 IANA 时区名，如 Asia/Shanghai',
  CORS_ORIGINS: '应为逗号分隔的来源列表，如 https://a.example.com,http://127.0.0.1:5173',
  SESSION_TTL: '应为会话有效期的小时数（正整数）',
  OPERATOR_SESSION_TTL: '应为运营后台登录有效期的小时数（正整数）',
  SCHEDULER_INTERVAL_MS: '应为调度器的间隔毫秒数（正整数）',
  DISPATCH_CONCURRENCY: '应为同时在途的发送数（1 到 9999 的整数）',
  DISPATCH_RATE: '应为每秒最多发送的消息数（大于 0 的数，如 500 或 0.5；不设即不限）',
  DISPATCH_LEASE_S: '应为一条发送中的消息归属实例的秒数（5 到 99999 的整数）：实例崩溃后，这么久之后它在途的消息才标为 INTERRUPTED',
  REDIS_URL: '应为 redis:// 或 rediss:// 开头的 Redis 地址，如 redis://127.0.0.1:6379',
  REDIS_PREFIX: '应为 BullMQ 队列在 Redis 里的前缀（1 到 64 个字母、数字或 _ . -）',
  RATE_LIMIT: '应为 on（限制请求频率）或 off（不限制，只用于压测和基准测试）',
  RATE_LIMIT_WRITES_PER_MINUTE: '应为每人每分钟对每个修改接口（如 POST /api/events、POST /api/consents）最多的请求数（正整数）',
  RATE_LIMIT_READS_PER_MINUTE: '应为每人每分钟对每个查询接口（如 GET /api/me/messages）最多的请求数（正整数）',
  RATE_LIMIT_SIGN_INS_PER_MINUTE: '应为每个来源地址每分钟最多的登录请求数（POST /api/session、POST /sandbox/code，正整数）',
  SESSIONS_PER_USER: '应为每个用户最多同时有效的会话数（正整数）',
  SEED_USERS: '应为沙箱模式首次启动（数据库里还没有用户）时生成的演示用户数：0 到 100000 的整数，0 表示不生成',
  TRUST_PROXY: '应为逗号分隔的反向代理地址或网段，如 127.0.0.1,10.0.0.0/8',
  STATIC_DIR: '应为构建好的 H5 应用目录（含 index.html），如 dist/build/h5',
  SANDBOX_ALLOW_REMOTE: '应为 1（允许沙箱模式监听非本机回环地址）或 0',
  WECHAT_PUSH_TOKEN: '应为微信后台「消息推送」里填的 Token（3 到 32 位字母或数字）',
  WECHAT_PUSH_AES_KEY: '应为微信后台「消息推送」里的 EncodingAESKey（43 位字母或数字）',
  CONSENT_CONFIRM_WINDOW_S: '应为设备上报的订阅等待微信推送确认的秒数（正整数）',
  LOG_LEVEL: '应为 fatal、error、warn、info、debug、trace 或 silent 之一',
}

/** Values that must never appear in a message, not even a wrong one. */
const SECRET_VARIABLES: ReadonlySet<EnvVariable> = new Set<EnvVariable>(['WECHAT_SECRET', 'ADMIN_API_KEY', 'WECHAT_PUSH_TOKEN', 'WECHAT_PUSH_AES_KEY', 'DATABASE_URL', 'REDIS_URL'])

export class ConfigError extends Error {
  override readonly name = 'ConfigError'
  constructor(
    readonly variable: EnvVariable,
    message: string,
  ) {
    super(message)
  }
}

/** Requests per minute, each counted per route: per person (their openid) or per address (the IP). */
export interface RateLimits {
  /** Per person, on each route that changes something (POST /api/events, POST /api/consents…). */
  writesPerMinute: number
  /** Per person, on each route that reads (GET /api/me/messages…). */
  readsPerMinute: number
  /** Per address, on each sign-in route (POST /api/session, POST /sandbox/code). */
  signInsPerMinute: number
}

/**
 * WeChat's message push (开发管理 → 消息推送), when configured: the Token both sides sign with, the
 * EncodingAESKey of compatible and secure mode (null: plaintext mode), and how long a consent the
 * device reported waits for WeChat's event before it is withdrawn. In sandbox mode without
 * WECHAT_PUSH_TOKEN both secrets are made up at each start (`generated`) and shared with the sandbox
 * WeChat, which pushes in secure mode.
 */
export interface PushConfig {
  token: string
  aesKey: string | null
  confirmWindowMs: number
  generated: boolean
}

export type WeChatConfig =
  | { mode: 'sandbox' }
  | { mode: 'real'; appId: string; secret: string; apiBase: string }

export interface Config {
  port: number
  host: string
  /** A file path, or `:memory:` (SQLite; unused when `postgres` is set). */
  database: string
  /** DATABASE_URL set: the PostgreSQL engine, its address (with its password: never log it) and pool size. */
  postgres: { url: string; poolMax: number } | null
  wechat: WeChatConfig
  /** Compared in constant time. ADMIN_API_KEY, or the content of `adminKeyFile`. */
  adminApiKey: string
  /**
   * Sandbox mode without ADMIN_API_KEY: the file the key was read from (or written to on the first
   * start). server.ts prints this path, never the key. Null when ADMIN_API_KEY is set.
   */
  adminKeyFile: string | null
  miniprogramState: MiniprogramState
  templatesPath: string
  /** The zone of quiet hours, daily limits and the times written into messages. */
  quietHoursTimeZone: string
  corsOrigins: string[]
  sessionTtlHours: number
  /** How long an operator console session lasts (OPERATOR_SESSION_TTL), in hours. */
  operatorSessionTtlHours: number
  schedulerIntervalMs: number
  /** Sends in flight at most (DISPATCH_CONCURRENCY); also the most a crash can leave in doubt. */
  dispatchConcurrency: number
  /** Messages per second for the whole dispatcher (DISPATCH_RATE); null = unlimited. */
  dispatchRate: number | null
  /** How long a claimed message stays its instance's (DISPATCH_LEASE_S): a send in doubt waits this long before it is INTERRUPTED. */
  dispatchLeaseMs: number
  /** REDIS_URL: the BullMQ dispatch engine for several instances; null = the embedded queue. */
  redis: { url: string; prefix: string } | null
  /** Null with RATE_LIMIT=off (load tests and benchmarks). */
  rateLimits: RateLimits | null
  /** A person's live sessions beyond this many are ended, oldest first, at each sign-in. */
  sessionsPerUser: number
  /** Sandbox mode: demo users made on the first start, when the database has no user (0: none). Ignored with a real AppID. */
  seedUsers: number
  /**
   * Reverse proxies whose X-Forwarded-For (and -Proto, -Host) are believed: addresses or CIDR
   * ranges. Empty: the peer's address is the caller's, as without a proxy.
   */
  trustProxy: string[]
  /** Null: no message push, the device's consent reports are all there is. */
  push: PushConfig | null
  logLevel: string
  /** A built H5 app served at / beside the API (absolute path), or null for the API alone. */
  staticDir: string | null
}

function fail(variable: EnvVariable, raw: string | undefined, why?: string): never {
  const shown = raw === undefined || SECRET_VARIABLES.has(variable) ? '' : `（当前为 "${raw}"）`
  throw new ConfigError(variable, `配置错误：环境变量 ${variable} ${why ?? EXPECTED[variable]}${shown}`)
}

/** DISPATCH_RATE: unset = unlimited; 0 would never send, so it is refused like any other bad value. */
function dispatchRate(raw: string | undefined): number | null {
  if (raw === undefined) return null
  const rate = Number(raw)
  if (!(rate > 0)) fail('DISPATCH_RATE', raw)
  return rate
}

const LOOPBACK = new BlockList()
LOOPBACK.addSubnet('127.0.0.0', 8, 'ipv4')
LOOPBACK.addAddress('::1', 'ipv6')

/** Whether listening on `host` keeps the service on this machine. */
function isLoopback(host: string): boolean {
  if (host === 'localhost') return true
  const family = isIP(host)
  return family !== 0 && LOOPBACK.check(host, family === 4 ? 'ipv4' : 'ipv6')
}

/** `10.0.0.1`, `::1`, `10.0.0.0/8`, `fd00::/8`. */
function isAddressOrRange(entry: string): boolean {
  const [address = '', prefix, ...rest] = entry.split('/')
  const family = isIP(address)
  if (family === 0 || rest.length > 0) return false
  if (prefix === undefined) return true
  return /^[0-9]{1,3}$/.test(prefix) && Number(prefix) <= (family === 4 ? 32 : 128)
}

function isTimeZone(name: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: name })
    return true
  } catch (error) {
    if (error instanceof RangeError) return false
    throw error
  }
}

/** The admin key file of a database: beside it (`data/uni-subscribe.db` → `data/admin-api-key`). */
export function adminKeyPath(database: string): string {
  // An in-memory database has no directory: the key goes where the default database would be.
  const directory = database === ':memory:' ? dirname(DEFAULT_DATABASE) : dirname(database)
  return join(directory, ADMIN_KEY_FILE_NAME)
}

function isUsableAdminKey(key: string): boolean {
  return key.length >= 16 && key.length <= 256 && /^\S+$/.test(key)
}

function errorCode(error: unknown): string | undefined {
  const code = error instanceof Error ? (error as NodeJS.ErrnoException).code : undefined
  return typeof code === 'string' ? code : undefined
}

/**
 * The admin key kept in `path`: read when the file exists (its permissions narrowed to the owner),
 * else a new random key (`generate`) written there with mode 0600. Two processes starting at once
 * end up with the same key (the file is created exclusively; the loser reads the winner's).
 * Throws `ConfigError` (ADMIN_API_KEY) when the file cannot be read or written or holds no usable key.
 */
export function readOrCreateAdminKey(path: string, generate: () => string = () => randomBytes(24).toString('base64url')): string {
  const cannot = (what: string, error: unknown): never =>
    fail('ADMIN_API_KEY', undefined, `未设置，且${what}管理密钥文件 ${path}（${errorCode(error) ?? String(error)}）：设置 ADMIN_API_KEY，或修正这个文件的权限`)
  const read = (): string | null => {
    let content: string
    try {
      content = readFileSync(path, 'utf8')
    } catch (error) {
      if (errorCode(error) === 'ENOENT') return null
      return cannot('无法读取', error)
    }
    const key = content.trim()
    if (!isUsableAdminKey(key)) {
      fail('ADMIN_API_KEY', undefined, `未设置，且管理密钥文件 ${path} 里没有可用的密钥（应为 16 到 256 个非空白字符）：删除这个文件以重新生成，或设置 ADMIN_API_KEY`)
    }
    try {
      if ((statSync(path).mode & 0o077) !== 0) chmodSync(path, OWNER_ONLY)
    } catch (error) {
      cannot('无法收紧', error)
    }
    return key
  }

  const existing = read()
  if (existing !== null) return existing
  const key = generate()
  try {
    mkdirSync(dirname(path), { recursive: true })
    writeFileSync(path, `${key}\n`, { mode: OWNER_ONLY, flag: 'wx' })
  } catch (error) {
    // Another process created it first: use its key.
    if (errorCode(error) === 'EEXIST') return read() ?? cannot('无法读取', error)
    return cannot('无法创建', error)
  }
  return key
}

export interface LoadConfigOptions {
  /** Where the admin key comes from when ADMIN_API_KEY is unset; tests inject one. */
  adminKeyFromFile?: (path: string) => string
  /** Makes the sandbox's push Token and EncodingAESKey (letters and digits of the given length). */
  generatePushSecret?: (length: number) => string
}

const ALPHANUMERIC = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789'

/** `length` letters and digits, uniformly random. */
function randomAlphanumeric(length: number): string {
  let text = ''
  while (text.length < length) {
    for (const byte of randomBytes(length)) {
      // 248 = 4 × 62: bytes above it would favour the first letters.
      if (byte < 248 && text.length < length) text += ALPHANUMERIC[byte % ALPHANUMERIC.length]
    }
  }
  return text
}

/**
 * Push from the environment: WECHAT_PUSH_TOKEN turns it on; WECHAT_PUSH_AES_KEY needs it. In sandbox
 * mode without a Token, the Token and key are made up for this start.
 */
function pushConfig(
  parsed: Static<typeof EnvSchema>,
  wechat: WeChatConfig,
  generate: (length: number) => string,
): PushConfig | null {
  const confirmWindowMs = Number(parsed.CONSENT_CONFIRM_WINDOW_S) * 1000
  if (parsed.WECHAT_PUSH_TOKEN === undefined) {
    if (parsed.WECHAT_PUSH_AES_KEY !== undefined) {
      fail('WECHAT_PUSH_TOKEN', undefined, '未设置：设置了 WECHAT_PUSH_AES_KEY 时必须同时设置消息推送的 Token')
    }
    if (wechat.mode === 'real') return null
    return { token: generate(32), aesKey: generate(43), confirmWindowMs, generated: true }
  }
  return { token: parsed.WECHAT_PUSH_TOKEN, aesKey: parsed.WECHAT_PUSH_AES_KEY ?? null, confirmWindowMs, generated: false }
}

/** Parses the environment. Throws `ConfigError` naming the first bad variable. */
export function loadConfig(env: Record<string, string | undefined> = process.env, options: LoadConfigOptions = {}): Config {
  const raw: Record<string, string> = {}
  for (const name of Object.keys(EnvSchema.properties) as EnvVariable[]) {
    const value = env[name]?.trim()
    if (value !== undefined && value !== '') raw[name] = value
  }
  const values = Value.Default(EnvSchema, raw)
  for (const error of Value.Errors(EnvSchema, values)) {
    const variable = error.instancePath.split('/')[1] as EnvVariable | undefined
    if (variable) fail(variable, raw[variable])
  }
  const parsed = values as Static<typeof EnvSchema>

  const port = Number(parsed.PORT)
  if (port < 1 || port > 65535) fail('PORT', parsed.PORT)
  if (!isTimeZone(parsed.TZ_QUIET_HOURS)) fail('TZ_QUIET_HOURS', parsed.TZ_QUIET_HOURS)
  const seedUsers = Number(parsed.SEED_USERS)
  if (seedUsers > MAX_SEED_USERS) fail('SEED_USERS', parsed.SEED_USERS)

  const corsOrigins = parsed.CORS_ORIGINS.split(',').map((origin) => origin.trim()).filter(Boolean)
  for (const origin of corsOrigins) {
    if (!/^https?:\/\/[^\s/]+$/.test(origin)) {
      fail('CORS_ORIGINS', parsed.CORS_ORIGINS, `中的 "${origin}" 不是来源（应为 协议://主机[:端口]，不带路径）`)
    }
  }

  const trustProxy = (parsed.TRUST_PROXY ?? '').split(',').map((entry) => entry.trim()).filter(Boolean)
  for (const entry of trustProxy) {
    if (!isAddressOrRange(entry)) {
      fail('TRUST_PROXY', parsed.TRUST_PROXY, `中的 "${entry}" 不是 IP 地址或网段（如 10.0.0.0/8）`)
    }
  }

  let wechat: WeChatConfig = { mode: 'sandbox' }
  if (parsed.WECHAT_APPID !== undefined) {
    if (parsed.WECHAT_SECRET === undefined) {
      fail('WECHAT_SECRET', undefined, '未设置：设置了 WECHAT_APPID 时必须同时设置 AppSecret')
    }
    if (parsed.ADMIN_API_KEY === undefined) {
      fail('ADMIN_API_KEY', undefined, '未设置：连接真实微信时必须设置至少 16 个字符的管理密钥')
    }
    wechat = {
      mode: 'real',
      appId: parsed.WECHAT_APPID,
      secret: parsed.WECHAT_SECRET,
      apiBase: parsed.WECHAT_API_BASE.replace(/\/+$/, ''),
    }
  }
  if (wechat.mode === 'sandbox' && !isLoopback(parsed.HOST) && parsed.SANDBOX_ALLOW_REMOTE !== '1') {
    fail(
      'HOST',
      parsed.HOST,
      '在沙箱模式（未设置 WECHAT_APPID）下必须是本机回环地址，如 127.0.0.1：' +
        '/sandbox/* 接口和沙箱微信不做认证，监听其他地址会让网络上的任何人冒充用户、伪造订阅。' +
        '连接真实微信请设置 WECHAT_APPID；确需从其他机器访问沙箱请设置 SANDBOX_ALLOW_REMOTE=1',
    )
  }

  let staticDir: string | null = null
  if (parsed.STATIC_DIR !== undefined) {
    staticDir = resolve(parsed.STATIC_DIR)
    if (!existsSync(join(staticDir, 'index.html'))) {
      fail('STATIC_DIR', parsed.STATIC_DIR, '指向的目录里没有 index.html（先运行 npm run build:h5）')
    }
  }

  const rate = dispatchRate(parsed.DISPATCH_RATE)
  const push = pushConfig(parsed, wechat, options.generatePushSecret ?? randomAlphanumeric)

  // Last, so that a configuration refused for another reason writes no key file.
  let adminApiKey = parsed.ADMIN_API_KEY
  let adminKeyFile: string | null = null
  if (adminApiKey === undefined) {
    adminKeyFile = adminKeyPath(parsed.DATABASE)
    adminApiKey = (options.adminKeyFromFile ?? readOrCreateAdminKey)(adminKeyFile)
  }
  return {
    port,
    host: parsed.HOST,
    database: parsed.DATABASE,
    postgres: parsed.DATABASE_URL === undefined ? null : { url: parsed.DATABASE_URL, poolMax: Number(parsed.PG_POOL_MAX) },
    wechat,
    adminApiKey,
    adminKeyFile,
    miniprogramState: parsed.MINIPROGRAM_STATE,
    templatesPath: parsed.TEMPLATES,
    quietHoursTimeZone: parsed.TZ_QUIET_HOURS,
    corsOrigins,
    sessionTtlHours: Number(parsed.SESSION_TTL),
    operatorSessionTtlHours: Number(parsed.OPERATOR_SESSION_TTL),
    schedulerIntervalMs: Number(parsed.SCHEDULER_INTERVAL_MS),
    dispatchConcurrency: Number(parsed.DISPATCH_CONCURRENCY),
    dispatchRate: rate,
    dispatchLeaseMs: Number(parsed.DISPATCH_LEASE_S) * 1000,
    redis: parsed.REDIS_URL === undefined ? null : { url: parsed.REDIS_URL, prefix: parsed.REDIS_PREFIX },
    rateLimits:
      parsed.RATE_LIMIT === 'off'
        ? null
        : {
            writesPerMinute: Number(parsed.RATE_LIMIT_WRITES_PER_MINUTE),
            readsPerMinute: Number(parsed.RATE_LIMIT_READS_PER_MINUTE),
            signInsPerMinute: Number(parsed.RATE_LIMIT_SIGN_INS_PER_MINUTE),
          },
    sessionsPerUser: Number(parsed.SESSIONS_PER_USER),
    seedUsers,
    trustProxy,
    push,
    logLevel: parsed.LOG_LEVEL,
    staticDir,
  }
}
