/**
 * Global setup of the `multi` project: one throwaway PostgreSQL and one Redis for the run, their URLs
 * provided to the tests as `postgresUrl` and `redisUrl`, both stopped when the run ends.
 */
import type { TestProject } from 'vitest/node'
import { startPostgres, startRedis, type RunningServer } from './servers'

declare module 'vitest' {
  export interface ProvidedContext {
    postgresUrl: string
    redisUrl: string
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const started: RunningServer[] = []
  try {
    const [postgres, redis] = await Promise.all([startPostgres(), startRedis()])
    started.push(postgres, redis)
    project.provide('postgresUrl', postgres.url)
    project.provide('redisUrl', redis.url)
  } catch (error) {
    await Promise.all(started.map((server) => server.stop()))
    throw error
  }
  return async () => {
    await Promise.all(started.map((server) => server.stop()))
  }
}
