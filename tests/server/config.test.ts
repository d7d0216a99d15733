import { describe, expect, it } from 'vitest'
import { ConfigError, loadConfig } from '../../server/config'

const REAL = { WECHAT_APPID: 'wx0123456789abcdef', WECHAT_SECRET: '0123456789abcdef0123456789abcdef', ADMIN_API_KEY: 'admin-key-0123456789' }

function problem(env: Record<string, string>): ConfigError {
  try {
    loadConfig(env)
  } catch (error) {
    if (error instanceof ConfigError) return error
    throw error
  }
  throw new Error('expected a ConfigError')
}

describe('loadConfig', () => {
  it('defaults to sandbox mode on 127.0.0.1:8080 with a generated admin key', () => {
    const config = loadConfig({}, () => 'generated-admin-key-xyz')
    expect(config).toEqual({
      port: 8080,
      host: '127.0.0.1',
      database: 'data/uni-subscribe.db',
      wechat: { mode: 'sandbox' },
      adminApiKey: 'generated-admin-key-xyz',
      adminKeyGenerated: true,
      miniprogramState: 'formal',
      templatesPath: 'config/templates.json',
      quietHoursTimeZone: 'Asia/Shanghai',
      corsOrigins: [],
      sessionTtlHours: 168,
      schedulerIntervalMs: 5000,
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
      LOG_LEVEL: '',
    })
    expect(config).toMatchObject({
      port: 9000,
      host: '0.0.0.0',
      wechat: { mode: 'real', appId: REAL.WECHAT_APPID, secret: REAL.WECHAT_SECRET, apiBase: 'https://api.weixin.qq.com' },
      adminApiKey: REAL.ADMIN_API_KEY,
      adminKeyGenerated: false,
      miniprogramState: 'trial',
      quietHoursTimeZone: 'Europe/Berlin',
      corsOrigins: ['https://a.example.com', 'http://127.0.0.1:5173'],
      sessionTtlHours: 24,
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
  ])('names the bad variable: %j', (env, variable) => {
    const error = problem(env)
    expect(error.variable).toBe(variable)
    expect(error.message).toContain(`环境变量 ${variable}`)
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
  })
})
