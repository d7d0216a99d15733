/**
 * Demo data for sandbox mode: N test users of the sandbox WeChat with tags, attributes and credits
 * that the sandbox agrees with, made only through the service's HTTP API, as a person and an
 * operator would make them:
 *
 * 1. sign in (`POST /sandbox/code`, `POST /api/session`): the sandbox knows the user, the service
 *    makes them a user;
 * 2. each subscribe dialog: `POST /sandbox/subscriptions` (what WeChat's dialog tells WeChat), then
 *    `POST /api/consents` (what the app tells the service): every credit is an accept both counted;
 * 3. some save preferences (`PUT /api/me/preferences`);
 * 4. the operator's data in batches: `POST /api/users/import`.
 *
 * The sign-ins carry the admin key, which passes the per-address sign-in limit (see
 * http/rate-limits.ts), so the seed runs against a service with its limits on. Each person's own
 * requests stay far below the per-person limits.
 *
 * `npm run seed` (scripts/seed.ts) runs it over HTTP against a running service; server.ts runs it
 * in process on the first start of an empty sandbox database (`seedOnFirstStart`). Demo people
 * already there (tagged `demo`) are left as they are, so a second run only adds the missing ones.
 */
import { randomBytes } from 'node:crypto'
import type { TSchema } from 'typebox'
import { Value } from 'typebox/value'
import {
  ConsentResponse,
  Preferences,
  SandboxCodeResponse,
  SandboxConsentResponse,
  ServiceInfo,
  SessionResponse,
  TemplateList,
  UserImportResponse,
  UserList,
  type Template,
  type UserImportRequest,
} from '../../src/domain/contract'
import { DEMO_TAG, demoPerson, demoUserName, type DemoPerson } from './people'

export interface SeedRequest {
  method: 'GET' | 'POST' | 'PUT'
  path: string
  body?: unknown
  /** `Authorization: Bearer …`: a session token or the admin key. */
  bearer?: string
}

/** One request to the service: over HTTP (scripts/seed.ts) or `app.inject` (first start). */
export type SeedTransport = (request: SeedRequest) => Promise<{ status: number; body: unknown }>

export interface SeedOptions {
  /** How many demo people: demo-00001 … */
  users: number
  adminKey: string
  /** People signed in at the same time (default 8). */
  concurrency?: number
}

export interface SeedReport {
  /** Demo people made by this run. */
  created: number
  /** Demo people who were there already. */
  kept: number
  /** Credits their accepts gave, in the ledger and the sandbox alike. */
  credits: number
}

const IMPORT_BATCH = 1000
const DEFAULT_CONCURRENCY = 8

export class SeedError extends Error {
  override readonly name = 'SeedError'
}

/** Sends `request` and checks the answer: a 2xx whose body has the contract's shape. */
async function call<S extends TSchema>(transport: SeedTransport, schema: S, request: SeedRequest) {
  const { status, body } = await transport(request)
  if (status < 200 || status >= 300) throw new SeedError(`${request.method} ${request.path} → ${String(status)}: ${JSON.stringify(body)}`)
  if (!Value.Check(schema, body)) throw new SeedError(`${request.method} ${request.path}: 回答不符合接口约定：${JSON.stringify(body)}`)
  return body
}

/** A consent id as the app makes one on the device. */
const consentId = (): string => `demo-${randomBytes(12).toString('base64url')}`

export async function seedDemo(transport: SeedTransport, options: SeedOptions): Promise<SeedReport> {
  const { adminKey } = options
  const info = await call(transport, ServiceInfo, { method: 'GET', path: '/api/info' })
  if (!info.sandbox) throw new SeedError('演示数据只能在沙箱模式下生成（没有设置 WECHAT_APPID）：真实微信里没有 demo-00001 这样的测试用户')

  let templates: Promise<Template[]> | null = null
  const report: SeedReport = { created: 0, kept: 0, credits: 0 }
  const toImport: UserImportRequest['users'] = []

  /** Signs the person in, answers their dialogs and saves their preferences, unless they were there already. */
  async function play(index: number): Promise<void> {
    const user = demoUserName(index)
    const { code } = await call(transport, SandboxCodeResponse, { method: 'POST', path: '/sandbox/code', body: { user }, bearer: adminKey })
    const session = await call(transport, SessionResponse, { method: 'POST', path: '/api/session', body: { code }, bearer: adminKey })
    templates ??= call(transport, TemplateList, { method: 'GET', path: '/api/templates', bearer: session.token })
    const person: DemoPerson = demoPerson(index, await templates)
    const path = `/api/users?q=${session.openid}&tag=${DEMO_TAG}&limit=1`
    const known = await call(transport, UserList, { method: 'GET', path, bearer: adminKey })
    if (known.items.some((item) => item.openid === session.openid)) {
      report.kept += 1
      return
    }
    for (const results of person.dialogs) {
      const bearer = session.token
      await call(transport, SandboxConsentResponse, { method: 'POST', path: '/sandbox/subscriptions', body: { results }, bearer })
      await call(transport, ConsentResponse, { method: 'POST', path: '/api/consents', body: { consentId: consentId(), results }, bearer })
      report.credits += Object.values(results).filter((result) => result === 'accept').length
    }
    if (person.preferences) {
      await call(transport, Preferences, { method: 'PUT', path: '/api/me/preferences', body: person.preferences, bearer: session.token })
    }
    toImport.push({ openid: session.openid, tags: person.tags, attributes: person.attributes })
    report.created += 1
  }

  let next = 1
  const worker = async (): Promise<void> => {
    while (next <= options.users) await play(next++)
  }
  await Promise.all(Array.from({ length: Math.min(options.concurrency ?? DEFAULT_CONCURRENCY, options.users) }, worker))

  for (let start = 0; start < toImport.length; start += IMPORT_BATCH) {
    await call(transport, UserImportResponse, {
      method: 'POST',
      path: '/api/users/import',
      body: { users: toImport.slice(start, start + IMPORT_BATCH) },
      bearer: adminKey,
    })
  }
  return report
}

/**
 * The first start of a sandbox service: seeds `users` demo people when the database has no user at
 * all; null (nothing done) otherwise.
 */
export async function seedOnFirstStart(transport: SeedTransport, options: SeedOptions): Promise<SeedReport | null> {
  const any = await call(transport, UserList, { method: 'GET', path: '/api/users?limit=1', bearer: options.adminKey })
  if (any.items.length > 0) return null
  return seedDemo(transport, options)
}
