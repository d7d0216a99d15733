/**
 * The run's throwaway servers are real: a database of one's own on PostgreSQL, a key prefix of one's own
 * on Redis, neither seen by another file.
 */
import { afterAll, describe, expect, inject, it } from 'vitest'
import postgres from 'postgres'
import { Redis } from 'ioredis'
import { createDatabase, uniquePrefix } from '../support/servers'

describe('the run’s PostgreSQL and Redis', () => {
  const redis = new Redis(inject('redisUrl'), { lazyConnect: true })
  afterAll(async () => {
    redis.disconnect()
  })

  it('gives each caller a fresh, empty database', async () => {
    const first = await createDatabase(inject('postgresUrl'), 'smoke')
    const second = await createDatabase(inject('postgresUrl'), 'smoke')
    expect(first).not.toBe(second)
    const a = postgres(first, { max: 1, onnotice: () => {} })
    const b = postgres(second, { max: 1, onnotice: () => {} })
    try {
      await a`CREATE TABLE seen (n int)`
      await a`INSERT INTO seen VALUES (7)`
      expect(await a`SELECT n FROM seen`).toEqual([{ n: 7 }])
      const [{ exists }] = await b<{ exists: boolean }[]>`SELECT to_regclass('seen') IS NOT NULL AS exists`
      expect(exists).toBe(false)
      const [{ version }] = await a<{ version: string }[]>`SELECT current_setting('server_version') AS version`
      expect(version).toMatch(/^15\./)
    } finally {
      await Promise.all([a.end(), b.end()])
    }
  })

  it('answers on Redis, with prefixes that do not meet', async () => {
    await redis.connect()
    const one = uniquePrefix('smoke')
    const two = uniquePrefix('smoke')
    await redis.set(`${one}:k`, 'a')
    expect(await redis.get(`${one}:k`)).toBe('a')
    expect(await redis.get(`${two}:k`)).toBeNull()
    expect((await redis.info('server')).match(/redis_version:(\S+)/)?.[1]).toMatch(/^7\./)
  })
})
