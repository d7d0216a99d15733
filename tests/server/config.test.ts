import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { adminKeyPath, ConfigError, loadConfig, readOrCreateAdminKey } from '../../server/config'

const REAL = { WECHAT_APPID: 'wx0123456789abcdef', WECHAT_SECRET: '0123456789abcdef0123456789abcdef', ADMIN_API_KEY: 'admin-key-0123456789' }

function problem(env: Record<string, string>): ConfigError {
  try {
    loadConfig(env, { adminKeyFromFile: () => { throw new Error('this test reads no admin key file') } })
  } catch (error) {
    if (error instanceof ConfigError) return error
    throw error
  }
  throw new Error('expected a ConfigError')
}

describe('loadConfig', () => {
  it('defaults to sandbox mode on 127.0.0.1:8080 with the admin key from the file beside the database', () => {
    const asked: string[] = []
    const config = loadConfig({}, { adminKeyFromFile: (path) => (asked.push(path), 'admin-key-from-the-file'), generatePushSecret: (length) => 'S'.repeat(length) })
    expect(asked).toEqual(['data/admin-api-key'])
    expect(config).toEqual({
      port: 8080,
      host: '127.0.0.1',
      database: 'data/uni-subscribe.db',
      postgres: null,
      wechat: { mode: 'sandbox' },
      adminApiKey: 'admin-key-from-the-file',
      adminKeyFile: 'data/admin-api-key',
      miniprogramState: 'formal',
      templatesPath: 'config/templates.json',
      quietHoursTimeZone: 'Asia/Shanghai',
      corsOrigins: [],
      sessionTtlHours: 168,
      operatorSessionTtlHours: 12,
      schedulerIntervalMs: 5000,
      dispatchConcurrency: 64,
      dispatchRate: null,
      dispatchLeaseMs: 120_000,
      redis: null,
      rateLimits: { writesPerMinute: 60, readsPerMinute: 600, signInsPerMinute: 20 },
      sessionsPerUser: 20,
      seedUsers: 500,
      trustProxy: [],
      // The sandbox WeChat pushes in secure mode with secrets made up at this start.
      push: { token: 'S'.repeat(32), aesKey: 'S'.repeat(43), confirmWindowMs: 600_000, generated: true },
      logLevel: 'info',
      staticDir: null,
    })
  })

  it('reads every variable; empty counts as unset', () => {
    const config = loadConfig({
      ...REAL,
      PORT: '9000',
      HOST: '0.0.0.0',
      DATABASE: '/var/lib/us.db',
      WECHAT_API_BASE: 'https://api.weixin.qq.com/',
      MINIPROGRAM_STATE: 'trial',
      TEMPLATES: '/etc/us/templates.json',
      TZ_QUIET_HOURS: 'Europe/Berlin',
      CORS_ORIGINS: 'https://a.example.com, http://127.0.0.1:5173',
      SESSION_TTL: '24',
      DISPATCH_LEASE_S: '30',
      REDIS_URL: 'redis://:pw@redis.internal:6379/2',
      REDIS_PREFIX: 'us-prod',
      LOG_LEVEL: '',
    })
    expect(config).toMatchObject({
      port: 9000,
      host: '0.0.0.0',
      wechat: { mode: 'real', appId: REAL.WECHAT_APPID, secret: REAL.WECHAT_SECRET, apiBase: 'https://api.weixin.qq.com' },
      adminApiKey: REAL.ADMIN_API_KEY,
      adminKeyFile: null,
      miniprogramState: 'trial',
      quietHoursTimeZone: 'Europe/Berlin',
      corsOrigins: ['https://a.example.com', 'http://127.0.0.1:5173'],
      sessionTtlHours: 24,
      dispatchLeaseMs: 30_000,
      redis: { url: 'redis://:pw@redis.internal:6379/2', prefix: 'us-prod' },
      logLevel: 'info',
    })
  })

  it.each([
    [{ PORT: 'eighty' }, 'PORT'],
    [{ PORT: '70000' }, 'PORT'],
    [{ MINIPROGRAM_STATE: 'prod' }, 'MINIPROGRAM_STATE'],
    [{ TZ_QUIET_HOURS: 'Mars/Olympus' }, 'TZ_QUIET_HOURS'],
    [{ CORS_ORIGINS: 'https://a.example.com/path' }, 'CORS_ORIGINS'],
    [{ SESSION_TTL: '0' }, 'SESSION_TTL'],
    [{ WECHAT_APPID: 'not-an-appid' }, 'WECHAT_APPID'],
    [{ WECHAT_API_BASE: 'ftp://x' }, 'WECHAT_API_BASE'],
    [{ ADMIN_API_KEY: 'short' }, 'ADMIN_API_KEY'],
    // A key with a space could never be sent as `Authorization: Bearer <key>`.
    [{ ADMIN_API_KEY: 'an admin key with spaces in it' }, 'ADMIN_API_KEY'],
    [{ RATE_LIMIT: 'no' }, 'RATE_LIMIT'],
    [{ RATE_LIMIT_WRITES_PER_MINUTE: '0' }, 'RATE_LIMIT_WRITES_PER_MINUTE'],
    [{ RATE_LIMIT_READS_PER_MINUTE: 'lots' }, 'RATE_LIMIT_READS_PER_MINUTE'],
    [{ RATE_LIMIT_SIGN_INS_PER_MINUTE: '-5' }, 'RATE_LIMIT_SIGN_INS_PER_MINUTE'],
    [{ SESSIONS_PER_USER: '1.5' }, 'SESSIONS_PER_USER'],
    [{ SEED_USERS: '-1' }, 'SEED_USERS'],
    [{ SEED_USERS: '100001' }, 'SEED_USERS'],
    [{ SEED_USERS: '05' }, 'SEED_USERS'],
    [{ TRUST_PROXY: '10.0.0.0/33' }, 'TRUST_PROXY'],
    [{ TRUST_PROXY: '127.0.0.1,proxy.internal' }, 'TRUST_PROXY'],
    [{ DISPATCH_CONCURRENCY: '0' }, 'DISPATCH_CONCURRENCY'],
    [{ DISPATCH_CONCURRENCY: '10000' }, 'DISPATCH_CONCURRENCY'],
    [{ DISPATCH_RATE: '0' }, 'DISPATCH_RATE'],
    [{ DISPATCH_RATE: 'fast' }, 'DISPATCH_RATE'],
    [{ DISPATCH_RATE: '-5' }, 'DISPATCH_RATE'],
    [{ DISPATCH_LEASE_S: '4' }, 'DISPATCH_LEASE_S'],
    [{ REDIS_URL: 'localhost:6379' }, 'REDIS_URL'],
    [{ REDIS_URL: 'redis://a b' }, 'REDIS_URL'],
    [{ REDIS_URL: 'redis://x', REDIS_PREFIX: 'has:colon' }, 'REDIS_PREFIX'],
    [{ WECHAT_PUSH_TOKEN: 'ab' }, 'WECHAT_PUSH_TOKEN'],
    [{ WECHAT_PUSH_TOKEN: 'a'.repeat(33) }, 'WECHAT_PUSH_TOKEN'],
    [{ WECHAT_PUSH_TOKEN: 'token-with-dash' }, 'WECHAT_PUSH_TOKEN'],
    [{ WECHAT_PUSH_TOKEN: 'Token0123', WECHAT_PUSH_AES_KEY: 'a'.repeat(42) }, 'WECHAT_PUSH_AES_KEY'],
    [{ WECHAT_PUSH_TOKEN: 'Token0123', WECHAT_PUSH_AES_KEY: `${'a'.repeat(42)}=` }, 'WECHAT_PUSH_AES_KEY'],
    [{ CONSENT_CONFIRM_WINDOW_S: '0' }, 'CONSENT_CONFIRM_WINDOW_S'],
    [{ CONSENT_CONFIRM_WINDOW_S: '10m' }, 'CONSENT_CONFIRM_WINDOW_S'],
    [{ DATABASE_URL: 'mysql://db/uni' }, 'DATABASE_URL'],
    [{ DATABASE_URL: 'data/uni-subscribe.db' }, 'DATABASE_URL'],
    [{ PG_POOL_MAX: '0' }, 'PG_POOL_MAX'],
    [{ PG_POOL_MAX: '1000' }, 'PG_POOL_MAX'],
  ])('names the bad variable: %j', (env, variable) => {
    const error = problem(env)
    expect(error.variable).toBe(variable)
    expect(error.message).toContain(`环境变量 ${variable}`)
  })

  it('reads the dispatcher\'s concurrency and rate; no DISPATCH_RATE is no cap', () => {
    expect(loadConfig({ ...REAL, DISPATCH_CONCURRENCY: '8', DISPATCH_RATE: '0.5' })).toMatchObject({ dispatchConcurrency: 8, dispatchRate: 0.5 })
    expect(loadConfig({ ...REAL, DISPATCH_RATE: '500' }).dispatchRate).toBe(500)
    expect(loadConfig(REAL)).toMatchObject({ dispatchConcurrency: 64, dispatchRate: null })
  })

  it('reads the request limits, the sessions cap and the trusted proxies; RATE_LIMIT=off turns the limits off', () => {
    const config = loadConfig({
      ...REAL,
      RATE_LIMIT_WRITES_PER_MINUTE: '30',
      RATE_LIMIT_READS_PER_MINUTE: '300',
      RATE_LIMIT_SIGN_INS_PER_MINUTE: '100',
      SESSIONS_PER_USER: '5',
      TRUST_PROXY: '127.0.0.1, 10.0.0.0/8,fd00::/8',
    })
    expect(config).toMatchObject({
      rateLimits: { writesPerMinute: 30, readsPerMinute: 300, signInsPerMinute: 100 },
      sessionsPerUser: 5,
      trustProxy: ['127.0.0.1', '10.0.0.0/8', 'fd00::/8'],
    })
    expect(loadConfig({ ...REAL, RATE_LIMIT: 'off', RATE_LIMIT_WRITES_PER_MINUTE: '30' }).rateLimits).toBeNull()
    expect(loadConfig(REAL).seedUsers).toBe(500)
    expect(loadConfig({ ...REAL, SEED_USERS: '0' }).seedUsers).toBe(0)
    expect(loadConfig({ ...REAL, SEED_USERS: '100000' }).seedUsers).toBe(100_000)
    expect(problem({ TRUST_PROXY: 'proxy.internal' }).message).toBe(
      '配置错误：环境变量 TRUST_PROXY 中的 "proxy.internal" 不是 IP 地址或网段（如 10.0.0.0/8）（当前为 "proxy.internal"）',
    )
  })

  it('message push: off with a real AppID until WECHAT_PUSH_TOKEN is set; the AES key is for compatible and secure mode', () => {
    expect(loadConfig(REAL).push).toBeNull()
    expect(loadConfig({ ...REAL, WECHAT_PUSH_TOKEN: 'Token0123' }).push).toEqual({ token: 'Token0123', aesKey: null, confirmWindowMs: 600_000, generated: false })
    const aesKey = 'abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG'
    expect(loadConfig({ ...REAL, WECHAT_PUSH_TOKEN: 'Token0123', WECHAT_PUSH_AES_KEY: aesKey, CONSENT_CONFIRM_WINDOW_S: '120' }).push).toEqual({
      token: 'Token0123',
      aesKey,
      confirmWindowMs: 120_000,
      generated: false,
    })
    // In sandbox mode a Token given is the one the sandbox WeChat signs with.
    expect(loadConfig({ WECHAT_PUSH_TOKEN: 'Token0123' }, { adminKeyFromFile: () => 'admin-key-from-the-file' }).push).toMatchObject({ token: 'Token0123', aesKey: null, generated: false })
  })

  it('an EncodingAESKey without a Token names WECHAT_PUSH_TOKEN, and neither secret is ever repeated', () => {
    const aesKey = 'abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG'
    const error = problem({ ...REAL, WECHAT_PUSH_AES_KEY: aesKey })
    expect(error.variable).toBe('WECHAT_PUSH_TOKEN')
    expect(error.message).toBe('配置错误：环境变量 WECHAT_PUSH_TOKEN 未设置：设置了 WECHAT_PUSH_AES_KEY 时必须同时设置消息推送的 Token')
    expect(problem({ ...REAL, WECHAT_PUSH_TOKEN: 'bad token!' }).message).not.toContain('bad token!')
    expect(problem({ ...REAL, WECHAT_PUSH_TOKEN: 'Token0123', WECHAT_PUSH_AES_KEY: aesKey.slice(1) }).message).not.toContain(aesKey.slice(1))
  })

  it('sandbox mode makes up a new push Token and EncodingAESKey at each start', () => {
    const fromFile = { adminKeyFromFile: () => 'admin-key-from-the-file' }
    const first = loadConfig({}, fromFile).push
    const second = loadConfig({}, fromFile).push
    expect(first?.token).toMatch(/^[A-Za-z0-9]{32}$/)
    expect(first?.aesKey).toMatch(/^[A-Za-z0-9]{43}$/)
    expect(second?.token).not.toBe(first?.token)
    expect(second?.aesKey).not.toBe(first?.aesKey)
  })

  it('an AppID without a secret names WECHAT_SECRET', () => {
    const error = problem({ WECHAT_APPID: REAL.WECHAT_APPID, ADMIN_API_KEY: REAL.ADMIN_API_KEY })
    expect(error.variable).toBe('WECHAT_SECRET')
    expect(error.message).toBe('配置错误：环境变量 WECHAT_SECRET 未设置：设置了 WECHAT_APPID 时必须同时设置 AppSecret')
  })

  it('real WeChat requires an admin key of at least 16 characters', () => {
    expect(problem({ WECHAT_APPID: REAL.WECHAT_APPID, WECHAT_SECRET: REAL.WECHAT_SECRET }).variable).toBe('ADMIN_API_KEY')
    expect(problem({ ...REAL, ADMIN_API_KEY: '15-characters!!' }).variable).toBe('ADMIN_API_KEY')
  })

  it('never repeats a secret value in its message', () => {
    const error = problem({ WECHAT_APPID: REAL.WECHAT_APPID, WECHAT_SECRET: 'has spaces in it!', ADMIN_API_KEY: REAL.ADMIN_API_KEY })
    expect(error.variable).toBe('WECHAT_SECRET')
    expect(error.message).not.toContain('has spaces')
    // A database address carries its password.
    const database = problem({ DATABASE_URL: 'mysql://root:hunter2@db/uni' })
    expect(database.message).toBe('配置错误：环境变量 DATABASE_URL 应为 PostgreSQL 连接地址，如 postgres://用户名:密码@主机:5432/数据库名')
  })

  it('DATABASE_URL chooses PostgreSQL, with a pool of PG_POOL_MAX connections (10 unless set)', () => {
    const fromFile = { adminKeyFromFile: () => 'admin-key-from-the-file' }
    expect(loadConfig({ DATABASE_URL: 'postgres://us:pw@db.internal:5432/uni' }, fromFile).postgres).toEqual({ url: 'postgres://us:pw@db.internal:5432/uni', poolMax: 10 })
    expect(loadConfig({ DATABASE_URL: 'postgresql://db/uni', PG_POOL_MAX: '25' }, fromFile).postgres).toEqual({ url: 'postgresql://db/uni', poolMax: 25 })
    expect(loadConfig({ PG_POOL_MAX: '25' }, fromFile).postgres).toBeNull()
  })

  it('never repeats a REDIS_URL (it may hold a password)', () => {
    const error = problem({ REDIS_URL: 'redis://:hunter2pass@redis internal:6379' })
    expect(error.variable).toBe('REDIS_URL')
    expect(error.message).not.toContain('hunter2pass')
    expect(error.message).toContain('redis://')
  })
})

describe('sandbox mode listens on loopback only (its /sandbox/* routes and fake WeChat have no auth)', () => {
  const fromFile = { adminKeyFromFile: () => 'admin-key-from-the-file' }

  it.each(['0.0.0.0', '::', '192.168.1.20', 'example.com'])('refuses HOST=%s without WECHAT_APPID, naming HOST and WECHAT_APPID', (host) => {
    const error = problem({ HOST: host })
    expect(error.variable).toBe('HOST')
    expect(error.message).toBe(
      `配置错误：环境变量 HOST 在沙箱模式（未设置 WECHAT_APPID）下必须是本机回环地址，如 127.0.0.1：` +
        `/sandbox/* 接口和沙箱微信不做认证，监听其他地址会让网络上的任何人冒充用户、伪造订阅。` +
        `连接真实微信请设置 WECHAT_APPID；确需从其他机器访问沙箱请设置 SANDBOX_ALLOW_REMOTE=1（当前为 "${host}"）`,
    )
  })

  it.each(['127.0.0.1', '127.0.0.2', 'localhost', '::1'])('takes loopback HOST=%s', (host) => {
    expect(loadConfig({ HOST: host }, fromFile).host).toBe(host)
  })

  it('SANDBOX_ALLOW_REMOTE=1 lets sandbox mode listen on 0.0.0.0; 0 does not', () => {
    expect(loadConfig({ HOST: '0.0.0.0', SANDBOX_ALLOW_REMOTE: '1' }, fromFile)).toMatchObject({ host: '0.0.0.0', wechat: { mode: 'sandbox' } })
    expect(problem({ HOST: '0.0.0.0', SANDBOX_ALLOW_REMOTE: '0' }).variable).toBe('HOST')
    expect(problem({ SANDBOX_ALLOW_REMOTE: 'yes' }).variable).toBe('SANDBOX_ALLOW_REMOTE')
  })

  it('real WeChat may listen anywhere', () => {
    expect(loadConfig({ ...REAL, HOST: '0.0.0.0' }).host).toBe('0.0.0.0')
  })
})

describe('the admin key file (sandbox mode without ADMIN_API_KEY)', () => {
  const directories: string[] = []
  function scratch(): string {
    const directory = mkdtempSync(join(tmpdir(), 'uni-subscribe-key-'))
    directories.push(directory)
    return directory
  }
  afterEach(() => {
    for (const directory of directories.splice(0)) rmSync(directory, { recursive: true, force: true })
  })

  it('lives beside the database; an in-memory database uses data/', () => {
    expect(adminKeyPath('data/uni-subscribe.db')).toBe('data/admin-api-key')
    expect(adminKeyPath('/var/lib/us/us.db')).toBe('/var/lib/us/admin-api-key')
    expect(adminKeyPath(':memory:')).toBe('data/admin-api-key')
  })

  it('is made on the first start with mode 0600 (directory included) and reused after', () => {
    const path = join(scratch(), 'nested', 'admin-api-key')
    const first = readOrCreateAdminKey(path, () => 'first-generated-key-0123456789')
    expect(first).toBe('first-generated-key-0123456789')
    expect(readFileSync(path, 'utf8')).toBe('first-generated-key-0123456789\n')
    expect(statSync(path).mode & 0o777).toBe(0o600)
    const again = readOrCreateAdminKey(path, () => 'second-generated-key-0123456789')
    expect(again).toBe('first-generated-key-0123456789')
    expect(readFileSync(path, 'utf8')).toBe('first-generated-key-0123456789\n')
  })

  it('loadConfig takes the key from the file next to DATABASE and reports the path, not the key', () => {
    const database = join(scratch(), 'us.db')
    const config = loadConfig({ DATABASE: database })
    const path = join(database, '..', 'admin-api-key')
    expect(config.adminKeyFile).toBe(path)
    expect(config.adminApiKey).toBe(readFileSync(path, 'utf8').trim())
    expect(config.adminApiKey).toMatch(/^[A-Za-z0-9_-]{32}$/)
    expect(loadConfig({ DATABASE: database }).adminApiKey).toBe(config.adminApiKey)
  })

  it('narrows a key file others can read to the owner', () => {
    const path = join(scratch(), 'admin-api-key')
    writeFileSync(path, 'hand-written-admin-key-0123\n', { mode: 0o644 })
    expect(readOrCreateAdminKey(path)).toBe('hand-written-admin-key-0123')
    expect(statSync(path).mode & 0o777).toBe(0o600)
  })

  it('refuses a file without a usable key, naming the file and never its content', () => {
    const path = join(scratch(), 'admin-api-key')
    writeFileSync(path, 'too short\n', { mode: 0o600 })
    let error: unknown
    try {
      readOrCreateAdminKey(path)
    } catch (caught) {
      error = caught
    }
    expect(error).toBeInstanceOf(ConfigError)
    expect(error).toMatchObject({ variable: 'ADMIN_API_KEY' })
    expect((error as ConfigError).message).toBe(
      `配置错误：环境变量 ADMIN_API_KEY 未设置，且管理密钥文件 ${path} 里没有可用的密钥（应为 16 到 256 个非空白字符）：删除这个文件以重新生成，或设置 ADMIN_API_KEY`,
    )
    expect((error as ConfigError).message).not.toContain('too short')
  })

  it('writes no file when ADMIN_API_KEY is set or the configuration is refused', () => {
    const directory = scratch()
    loadConfig({ DATABASE: join(directory, 'us.db'), ADMIN_API_KEY: 'admin-key-0123456789' })
    expect(() => loadConfig({ DATABASE: join(directory, 'us.db'), PORT: '0' })).toThrow(ConfigError)
    expect(() => statSync(join(directory, 'admin-api-key'))).toThrow(/ENOENT/)
  })
})
