/**
 * The sandbox WeChat's message push: what WeChat posts to the developer's server (开发管理 → 消息推送).
 * The service, playing the console, connects it to its push URL with the Token, the EncodingAESKey,
 * the mode and the format it expects.
 *
 * - Each push is signed: `signature` over Token, timestamp, nonce; in compatible and secure mode
 *   (`encrypt_type=aes`) the push is encrypted for the sandbox's AppID and `msg_signature` covers
 *   `Encrypt` too. Secure mode sends only `ToUserName` and `Encrypt`; compatible mode sends the
 *   plaintext fields beside it.
 * - Fire and forget: the call that caused a push (a dialog's answer, a send) never waits for it.
 *   A push not answered `success` (or an empty body) with HTTP 200 is tried again, three attempts in
 *   all, as WeChat does; then it is given up.
 * - One person's popup and change events never share a CreateTime: a test clock that stands still
 *   would otherwise make two dialogs look like one push retried.
 */
import { randomInt } from 'node:crypto'
import { Pool } from 'undici'
import type { Clock } from '../types'
import { encryptPush, pushSignature } from '../push/crypto'
import { writeEncryptedEnvelope, writePush, type PushFormat, type SubscriptionPush } from '../push/message'

/** The request the sandbox posts: its query string (without `?`), its body and content type. */
export interface PushRequest {
  query: string
  body: string
  contentType: string
}

/** Where pushes go: the service's push URL (over HTTP, or in process for tests). */
export interface PushTarget {
  post(request: PushRequest): Promise<{ statusCode: number; body: string }>
  close?(): Promise<void>
}

/** What the console holds for the push URL. */
export interface PushSettings {
  token: string
  /** Null: plaintext mode. */
  aesKey: string | null
  /** Default `secure` with an AES key, `plaintext` without. */
  mode?: 'secure' | 'compatible' | 'plaintext'
  /** Default `xml`. */
  format?: PushFormat
}

export interface PushRecord {
  event: SubscriptionPush['event']
  openid: string
  createTime: number
  attempts: number
  outcome: 'pending' | 'answered' | 'given-up'
}

export interface SandboxPush {
  connect(target: PushTarget, settings: PushSettings): void
  /** No more pushes; waits for the ones under way (they are not tried again). */
  disconnect(): Promise<void>
  /** Whether a service is connected (pushes are posted). */
  connected(): boolean
  /** Posts `push` (its CreateTime filled in) unless no service is connected. */
  send(push: Omit<SubscriptionPush, 'toUserName' | 'createTime'>): void
  /** Resolves once every push made so far was answered or given up. */
  settled(): Promise<void>
  /** The latest pushes, oldest first. */
  history(): PushRecord[]
}

const ATTEMPTS = 3
const RETRY_DELAYS_MS = [1_000, 2_000]
const HISTORY = 1_000

export interface SandboxPushOptions {
  appId: string
  clock: Clock
  /** Waits between attempts; tests pass one that does not wait. */
  sleep?: (ms: number) => Promise<void>
}

const realSleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms).unref())

/** A promise and the function that resolves it. */
function signal(): { promise: Promise<void>; resolve: () => void } {
  let resolve = (): void => {}
  const promise = new Promise<void>((done) => {
    resolve = done
  })
  return { promise, resolve }
}

/** The mini-program's original id (gh_ and 12 hex digits), made from the AppID. */
export function originalIdOf(appId: string): string {
  return `gh_${Buffer.from(appId).toString('hex').slice(-12)}`
}

export function createSandboxPush(options: SandboxPushOptions): SandboxPush {
  const { appId, clock } = options
  const sleep = options.sleep ?? realSleep
  const toUserName = originalIdOf(appId)
  const lastSecond = new Map<string, number>()
  const inFlight = new Set<Promise<void>>()
  const records: PushRecord[] = []
  let connection: { target: PushTarget; settings: Required<PushSettings> } | null = null
  /** Resolves when the service disconnects: a push waiting to be tried again stops waiting. */
  let disconnected = signal()

  function createTimeFor(openid: string, event: SubscriptionPush['event']): number {
    const now = Math.floor(clock.now().getTime() / 1000)
    if (event === 'subscribe_msg_sent_event') return now
    const second = Math.max(now, (lastSecond.get(openid) ?? 0) + 1)
    lastSecond.set(openid, second)
    return second
  }

  function requestOf(push: SubscriptionPush, settings: Required<PushSettings>): PushRequest {
    const timestamp = String(Math.floor(clock.now().getTime() / 1000))
    const nonce = String(randomInt(2 ** 32))
    const contentType = settings.format === 'xml' ? 'text/xml' : 'application/json'
    const query = new URLSearchParams({ signature: pushSignature(settings.token, timestamp, nonce), timestamp, nonce, openid: push.fromUserName })
    if (settings.mode === 'plaintext' || settings.aesKey === null) return { query: query.toString(), body: writePush(push, settings.format), contentType }
    const encrypted = encryptPush(settings.aesKey, writePush(push, settings.format), appId)
    query.set('encrypt_type', 'aes')
    query.set('msg_signature', pushSignature(settings.token, timestamp, nonce, encrypted))
    const body = settings.mode === 'secure' ? writeEncryptedEnvelope(toUserName, encrypted, settings.format) : writePush(push, settings.format, encrypted)
    return { query: query.toString(), body, contentType }
  }

  async function deliver(push: SubscriptionPush, record: PushRecord): Promise<void> {
    for (let attempt = 0; attempt < ATTEMPTS; attempt += 1) {
      if (attempt > 0 && connection !== null) await Promise.race([sleep(RETRY_DELAYS_MS[attempt - 1]!), disconnected.promise])
      const current = connection
      if (current === null) break
      record.attempts = attempt + 1
      try {
        const answer = await current.target.post(requestOf(push, current.settings))
        if (answer.statusCode === 200 && (answer.body === 'success' || answer.body === '')) {
          record.outcome = 'answered'
          return
        }
      } catch {
        // No answer (refused, reset, timed out): like WeChat, try again.
      }
    }
    record.outcome = 'given-up'
  }

  return {
    connect(target, settings) {
      connection = {
        target,
        settings: {
          token: settings.token,
          aesKey: settings.aesKey,
          mode: settings.mode ?? (settings.aesKey === null ? 'plaintext' : 'secure'),
          format: settings.format ?? 'xml',
        },
      }
    },
    async disconnect() {
      const closing = connection
      connection = null
      disconnected.resolve()
      disconnected = signal()
      await Promise.all([...inFlight])
      await closing?.target.close?.()
    },
    connected: () => connection !== null,
    send(partial) {
      if (connection === null) return
      const push = { ...partial, toUserName, createTime: createTimeFor(partial.fromUserName, partial.event) } as SubscriptionPush
      const record: PushRecord = { event: push.event, openid: push.fromUserName, createTime: push.createTime, attempts: 0, outcome: 'pending' }
      records.push(record)
      if (records.length > HISTORY) records.shift()
      const delivery = deliver(push, record).finally(() => inFlight.delete(delivery))
      inFlight.add(delivery)
    },
    async settled() {
      while (inFlight.size > 0) await Promise.all([...inFlight])
    },
    history: () => records.map((record) => ({ ...record })),
  }
}

/** Posts to the service's push URL over HTTP (what WeChat does), through a pool of its own. */
export function httpPushTarget(url: string, timeoutMs = 5_000): PushTarget {
  const target = new URL(url)
  const pool = new Pool(target.origin, { connections: 4 })
  return {
    async post({ query, body, contentType }) {
      const response = await pool.request({
        path: `${target.pathname}?${query}`,
        method: 'POST',
        headers: { 'content-type': contentType },
        body,
        headersTimeout: timeoutMs,
        bodyTimeout: timeoutMs,
      })
      return { statusCode: response.statusCode, body: await response.body.text() }
    },
    close: () => pool.close(),
  }
}
