/**
 * Scenario 1: sends per second through `createWeChatClient` (undici Pool, SQLite token store as the
 * service wires it) against the sandbox WeChat in another process, on loopback. Concurrency 1, 16 and
 * 100, with the sandbox answering at once and then 20 ms late (what a pool of connections buys when
 * WeChat is far away). A bare Pool row (no client: one request, the JSON read) shows what the
 * client's own work costs (token lookup in SQLite, retry policy, errcode mapping, redaction).
 */
import { Pool } from 'undici'
import { createSqliteStorage } from '../../server/db/sqlite/storage'
import { createWeChatClient } from '../../server/wechat/client'
import { wechatPoolConnections } from '../../server/wechat/pool'
import { systemClock, type SubscribeMessage } from '../../server/wechat/types'
import { ACCOUNT_SECURITY, SECURITY_DATA, tempDatabase } from '../support/fixtures'
import { runLoad, summarizeRuns, type LoadRun, type RateSummary } from '../support/load'
import { barePoolSender, type Sender } from '../support/senders'
import { sandboxUrlOf, type ServerProcess } from '../support/server-control'

/** As server.ts builds it for DISPATCH_CONCURRENCY's default (64). */
export const SERVICE_POOL_CONNECTIONS = wechatPoolConnections(64)

export interface ClientCase {
  name: string
  via: 'client' | 'bare-pool'
  concurrency: number
  /** Added by the sandbox to every answer. */
  latencyMs: number
  /** Connections of the undici Pool. */
  connections: number
}

export interface ClientCaseResult extends ClientCase, RateSummary {
  /** Sends that did not come back `ok` (must be 0). */
  failed: number
}

export const CLIENT_CASES: ClientCase[] = [
  { name: 'client c=1', via: 'client', concurrency: 1, latencyMs: 0, connections: SERVICE_POOL_CONNECTIONS },
  { name: 'client c=16', via: 'client', concurrency: 16, latencyMs: 0, connections: SERVICE_POOL_CONNECTIONS },
  { name: 'client c=100', via: 'client', concurrency: 100, latencyMs: 0, connections: SERVICE_POOL_CONNECTIONS },
  { name: 'bare Pool c=100', via: 'bare-pool', concurrency: 100, latencyMs: 0, connections: SERVICE_POOL_CONNECTIONS },
  { name: 'client c=1 +20ms', via: 'client', concurrency: 1, latencyMs: 20, connections: SERVICE_POOL_CONNECTIONS },
  { name: 'client c=16 +20ms', via: 'client', concurrency: 16, latencyMs: 20, connections: SERVICE_POOL_CONNECTIONS },
  { name: 'client c=100 +20ms', via: 'client', concurrency: 100, latencyMs: 20, connections: SERVICE_POOL_CONNECTIONS },
  { name: 'client c=100 +20ms, 100 conns', via: 'client', concurrency: 100, latencyMs: 20, connections: 100 },
]

export interface ClientPlan {
  warmups: number
  runs: number
  runMs: number
  maxCountPerRun: number
}

interface PreparedCase {
  benchCase: ClientCase
  pool: Pool
  send: () => Promise<void>
  failed: number
  runs: LoadRun<void>[]
}

/**
 * The cases take turns, one run each per round (after a warm-up round), so that whatever else the
 * machine does at some moment weighs on every case alike rather than on one.
 */
export async function benchWeChatClient(server: ServerProcess, plan: ClientPlan): Promise<ClientCaseResult[]> {
  const { appId, secret } = server.ready
  const sandboxUrl = sandboxUrlOf(server)
  const { openids } = await server.control('grant', { users: ['bench-client'], templateId: ACCOUNT_SECURITY.id, times: 1 })
  const message: SubscribeMessage = {
    touser: openids[0]!,
    template_id: ACCOUNT_SECURITY.id,
    data: SECURITY_DATA,
    miniprogram_state: 'formal',
  }
  const database = tempDatabase()
  const storage = createSqliteStorage(database.path, systemClock)
  const prepared: PreparedCase[] = []
  const senders: Sender[] = []
  try {
    for (const benchCase of CLIENT_CASES) {
      const pool = new Pool(sandboxUrl, { connections: benchCase.connections, pipelining: 1 })
      const client = createWeChatClient({ baseUrl: sandboxUrl, appId, secret, dispatcher: pool, tokenStore: storage.tokens, clock: systemClock })
      const entry: PreparedCase = { benchCase, pool, send: async () => {}, failed: 0, runs: [] }
      if (benchCase.via === 'client') {
        entry.send = async () => {
          const outcome = await client.sendSubscribeMessage(message)
          if (!outcome.ok) entry.failed += 1
        }
      } else {
        const bare = barePoolSender({ baseUrl: sandboxUrl, connections: benchCase.connections, accessToken: await client.getAccessToken(), message })
        senders.push(bare)
        entry.send = async () => {
          if (!(await bare.send())) entry.failed += 1
        }
      }
      prepared.push(entry)
    }
    for (let round = -plan.warmups; round < plan.runs; round += 1) {
      for (const entry of prepared) {
        await server.control('faults', { faults: { latencyMs: entry.benchCase.latencyMs } })
        const run = await runLoad({
          concurrency: entry.benchCase.concurrency,
          maxCount: plan.maxCountPerRun,
          maxDurationMs: round < 0 ? plan.runMs / 2 : plan.runMs,
          task: entry.send,
        })
        if (round >= 0) entry.runs.push(run)
      }
    }
    // `failed` counts the warm-up round too: every send must go through.
    return prepared.map((entry) => ({ ...entry.benchCase, ...summarizeRuns(entry.runs), failed: entry.failed }))
  } finally {
    for (const entry of prepared) await entry.pool.close()
    for (const sender of senders) await sender.close()
    await server.control('faults', { faults: { latencyMs: 0 } })
    storage.close()
    database.remove()
  }
}
