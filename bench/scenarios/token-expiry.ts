/**
 * Scenario 3: the access token expires in the middle of a burst of sends (the sandbox expires every
 * token it issued once half of the burst has answered). Counted: how many new tokens the sandbox
 * issued during the burst (must be exactly 1: one refresh in flight, the others wait for it) and
 * what the sends that met the expired token paid for it. Each expiry burst is paired with a control
 * burst without expiry, on the same pool and client.
 */
import { Pool } from 'undici'
import { isTokenErrcode } from '../../src/domain/wechat-errcodes'
import { createSqliteStorage } from '../../server/db/sqlite/storage'
import { createWeChatClient } from '../../server/wechat/client'
import { systemClock, type SubscribeMessage } from '../../server/wechat/types'
import { ACCOUNT_SECURITY, SECURITY_DATA, tempDatabase } from '../support/fixtures'
import { latencies, median, percentile, runLoad, type LoadRun } from '../support/load'
import { sandboxUrlOf, type ServerProcess } from '../support/server-control'
import { SERVICE_POOL_CONNECTIONS } from './wechat-client'

export interface TokenExpiryPlan {
  /** Pairs (control burst, expiry burst) measured per latency, after one unrecorded pair. */
  runs: number
  burst: number
  concurrency: number
  latenciesMs: number[]
  /** Safety bound of one burst. */
  maxBurstMs: number
}

export interface TokenExpiryResult {
  latencyMs: number
  concurrency: number
  burst: number
  /** New tokens issued during each expiry burst (each must be 1). */
  refreshes: number[]
  /** Token calls (`stable_token`) made during each expiry burst. */
  tokenCalls: number[]
  /** Median number of sends per burst that met the expired token and were sent again. */
  renewedSends: number
  /** Medians over the runs. */
  controlP50Ms: number
  controlP99Ms: number
  /** p50 of the sends that met the expired token. */
  renewedP50Ms: number
  expiryP99Ms: number
  /** renewedP50Ms − controlP50Ms: what meeting an expired token costs one send. */
  addedP50Ms: number
  controlBurstMs: number
  expiryBurstMs: number
  /** Sends that did not come back `ok`, in all bursts (must be 0). */
  failed: number
}

/** Starts waiting for `promise` now and hands back a way to await it later, with no unhandled rejection in between. */
function awaitLater<T>(promise: Promise<T>): () => Promise<T> {
  const settled = promise.then(
    (value) => ({ ok: true as const, value }),
    (error: unknown) => ({ ok: false as const, error }),
  )
  return async () => {
    const result = await settled
    if (!result.ok) throw result.error
    return result.value
  }
}

interface SendRecord {
  ok: boolean
  renewed: boolean
}

export async function benchTokenExpiry(server: ServerProcess, plan: TokenExpiryPlan): Promise<TokenExpiryResult[]> {
  const { appId, secret } = server.ready
  const sandboxUrl = sandboxUrlOf(server)
  const { openids } = await server.control('grant', { users: ['bench-token'], templateId: ACCOUNT_SECURITY.id, times: 1 })
  const message: SubscribeMessage = { touser: openids[0]!, template_id: ACCOUNT_SECURITY.id, data: SECURITY_DATA, miniprogram_state: 'formal' }
  const database = tempDatabase()
  const storage = createSqliteStorage(database.path, systemClock)
  const results: TokenExpiryResult[] = []
  try {
    for (const latencyMs of plan.latenciesMs) {
      await server.control('faults', { faults: { latencyMs } })
      const pool = new Pool(sandboxUrl, { connections: SERVICE_POOL_CONNECTIONS, pipelining: 1 })
      const client = createWeChatClient({ baseUrl: sandboxUrl, appId, secret, dispatcher: pool, tokenStore: storage.tokens, clock: systemClock })

      const burst = async (expireMidway: boolean): Promise<{ run: LoadRun<SendRecord>; refreshes: number; tokenCalls: number }> => {
        const before = await server.control('stats', {})
        let answered = 0
        const expiring: (() => Promise<null>)[] = []
        const run = await runLoad<SendRecord>({
          concurrency: plan.concurrency,
          maxCount: plan.burst,
          maxDurationMs: plan.maxBurstMs,
          task: async () => {
            const outcome = await client.sendSubscribeMessage(message)
            answered += 1
            if (expireMidway && answered === Math.floor(plan.burst / 2)) {
              expiring.push(awaitLater(server.control('faults', { faults: { expireTokens: true } })))
            }
            return { ok: outcome.ok, renewed: outcome.attempts.some((attempt) => isTokenErrcode(attempt.errcode)) }
          },
        })
        for (const expired of expiring) await expired()
        const after = await server.control('stats', {})
        return { run, refreshes: after.tokenIssued - before.tokenIssued, tokenCalls: after.tokenCalls - before.tokenCalls }
      }

      try {
        // Warm-up pair, also makes sure a token exists before the first measured control burst.
        await burst(false)
        await burst(true)
        const pairs: { control: LoadRun<SendRecord>; expiry: LoadRun<SendRecord>; refreshes: number; tokenCalls: number }[] = []
        for (let i = 0; i < plan.runs; i += 1) {
          const control = await burst(false)
          const expiry = await burst(true)
          pairs.push({ control: control.run, expiry: expiry.run, refreshes: expiry.refreshes, tokenCalls: expiry.tokenCalls })
        }
        const renewedP50 = (run: LoadRun<SendRecord>): number =>
          percentile(latencies(run.samples.filter((sample) => sample.value.renewed)), 50)
        const controlP50Ms = median(pairs.map((pair) => percentile(latencies(pair.control.samples), 50)))
        const renewedP50Ms = median(pairs.map((pair) => renewedP50(pair.expiry)))
        results.push({
          latencyMs,
          concurrency: plan.concurrency,
          burst: plan.burst,
          refreshes: pairs.map((pair) => pair.refreshes),
          tokenCalls: pairs.map((pair) => pair.tokenCalls),
          renewedSends: median(pairs.map((pair) => pair.expiry.samples.filter((sample) => sample.value.renewed).length)),
          controlP50Ms,
          controlP99Ms: median(pairs.map((pair) => percentile(latencies(pair.control.samples), 99))),
          renewedP50Ms,
          expiryP99Ms: median(pairs.map((pair) => percentile(latencies(pair.expiry.samples), 99))),
          addedP50Ms: renewedP50Ms - controlP50Ms,
          controlBurstMs: median(pairs.map((pair) => pair.control.elapsedMs)),
          expiryBurstMs: median(pairs.map((pair) => pair.expiry.elapsedMs)),
          failed: pairs.reduce(
            (sum, pair) => sum + [...pair.control.samples, ...pair.expiry.samples].filter((sample) => !sample.value.ok).length,
            0,
          ),
        })
      } finally {
        await pool.close()
      }
    }
  } finally {
    await server.control('faults', { faults: { latencyMs: 0 } })
    storage.close()
    database.remove()
  }
  return results
}
