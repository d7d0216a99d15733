/**
 * Keeps the access token: one token for every process on the database (the TokenStore), renewed
 * ahead of expiry, with one refresh in flight at a time, in the process (a shared promise) and
 * across processes (the store's lease). A process that does not get the lease uses the token it
 * has while it is still valid, or waits briefly and reads the store again.
 *
 * The store is asynchronous (a network database may answer it). Single flight holds because the
 * shared promise is taken or joined synchronously, between awaits; and a refresh started by a caller
 * whose read of the store is older than a refresh that has just finished reads the store again
 * before asking WeChat, so it takes the new token instead of fetching another.
 *
 * The token this process last saw is kept in memory, so a send does not read the store while that
 * token is fresh (no database round trip per send). If another process replaced it meanwhile, WeChat
 * answers 40001 and `replaceRejected` finds the new token in the store.
 */
import { randomUUID } from 'node:crypto'
import type { Clock, TokenStore } from './types'

/** A token as WeChat handed it out. */
export interface FetchedToken {
  token: string
  expiresInSeconds: number
}

export interface TokenKeeperOptions {
  store: TokenStore
  clock: Clock
  /** Calls `stable_token`; `forceRefresh` asks WeChat for a new token even if the current one is valid. */
  fetchToken: (forceRefresh: boolean) => Promise<FetchedToken>
  /** Renew this long before expiry (default 5 minutes). */
  refreshAheadMs?: number
  /** How long a refresh may hold the cross-process lease (default 15 s). */
  leaseMs?: number
  /** Wait between reads of the store while another process refreshes (default 50 ms). */
  pollMs?: number
  sleep: (ms: number) => Promise<void>
  /** Names this process in the lease (default: pid and a random id). */
  holder?: string
}

export class TokenKeeper {
  private readonly refreshAheadMs: number
  private readonly leaseMs: number
  private readonly pollMs: number
  private readonly holder: string
  private inFlight: Promise<string> | null = null
  /** The token this process last read or wrote. */
  private known: { token: string; expiresAt: Date } | null = null

  constructor(private readonly options: TokenKeeperOptions) {
    this.refreshAheadMs = options.refreshAheadMs ?? 300_000
    this.leaseMs = options.leaseMs ?? 15_000
    this.pollMs = options.pollMs ?? 50
    this.holder = options.holder ?? `${process.pid}-${randomUUID()}`
  }

  /** A valid token: the stored one while it is fresh, else a renewed one. */
  async getToken(): Promise<string> {
    if (this.known !== null && this.remainingMs(this.known) > this.refreshAheadMs) return this.known.token
    const stored = await this.options.store.read()
    if (stored !== null && this.remainingMs(stored) > this.refreshAheadMs) {
      this.known = stored
      return stored.token
    }
    return this.joinOrStart(null)
  }

  /**
   * A new token after WeChat refused `staleToken` (40001, 40014, 42001). Another refresh that already
   * replaced it (here or in another process) is reused; WeChat is asked at most once per stale token.
   */
  async replaceRejected(staleToken: string): Promise<string> {
    if (this.known?.token === staleToken) this.known = null
    let token = await this.joinOrStart(staleToken)
    // The refresh joined may have been a routine one that WeChat answered with the same token.
    if (token === staleToken) token = await this.joinOrStart(staleToken)
    return token
  }

  /** A new token from WeChat whatever the store holds (`getAccessToken({ forceRefresh: true })`). */
  async forceRefresh(): Promise<string> {
    const stored = await this.options.store.read()
    return this.replaceRejected(stored?.token ?? '')
  }

  private remainingMs(stored: { expiresAt: Date }): number {
    return stored.expiresAt.getTime() - this.options.clock.now().getTime()
  }

  /** Synchronous on purpose: no await between the check and taking the shared promise. */
  private joinOrStart(staleToken: string | null): Promise<string> {
    if (this.inFlight === null) {
      this.inFlight = this.refreshShared(staleToken).finally(() => {
        this.inFlight = null
      })
    }
    return this.inFlight
  }

  /** A stored token this caller may use instead of refreshing: not the stale one, and fresh enough. */
  private async usable(staleToken: string | null): Promise<string | null> {
    const stored = await this.options.store.read()
    if (stored === null || stored.token === staleToken) return null
    const minimum = staleToken === null ? this.refreshAheadMs : 0
    if (this.remainingMs(stored) <= minimum) return null
    this.known = stored
    return stored.token
  }

  private async refreshShared(staleToken: string | null): Promise<string> {
    const { store, clock } = this.options
    const deadline = clock.now().getTime() + this.leaseMs
    for (;;) {
      const ready = await this.usable(staleToken)
      if (ready !== null) return ready
      if (await store.tryLease(this.holder, this.leaseMs)) {
        try {
          return (await this.usable(staleToken)) ?? (await this.fetchAndStore(staleToken))
        } finally {
          await store.releaseLease(this.holder)
        }
      }
      // Another process is renewing. A routine renewal can go on with the current token meanwhile.
      const current = await store.read()
      if (staleToken === null && current !== null && this.remainingMs(current) > 0) return current.token
      // Its lease outlived the time a refresh takes: that process is gone or stuck; refresh ourselves.
      if (clock.now().getTime() >= deadline) return this.fetchAndStore(staleToken)
      await this.options.sleep(this.pollMs)
    }
  }

  private async fetchAndStore(staleToken: string | null): Promise<string> {
    let fetched = await this.options.fetchToken(false)
    // stable_token hands out the same token until near expiry; if WeChat refused that very token,
    // only a forced refresh (limited by WeChat to 20 a day) gets a new one.
    if (staleToken !== null && fetched.token === staleToken) fetched = await this.options.fetchToken(true)
    const expiresAt = new Date(this.options.clock.now().getTime() + fetched.expiresInSeconds * 1000)
    await this.options.store.write(fetched.token, expiresAt)
    this.known = { token: fetched.token, expiresAt }
    return fetched.token
  }
}
