/**
 * When a person was last active, written so that it costs nothing: a sign-in always writes it (and
 * makes the person a user); a request with their session writes it at most once per
 * ACTIVITY_WRITE_INTERVAL_MS, decided in this process's memory, so nearly every request writes nothing.
 * The session service calls both (server/sessions/sessions.ts). Precision: lastActiveAt may be up to
 * 5 minutes behind, and a second process on the database writes on its own schedule.
 */
import type { UserRepository } from '../db/storage'
import type { Clock } from '../wechat/types'

export const ACTIVITY_WRITE_INTERVAL_MS = 5 * 60_000
/** People remembered; beyond it the one written longest ago is forgotten (and simply written again next time). */
const PEOPLE_KEPT = 50_000

export interface Activity {
  /** A sign-in: the person becomes a user if they were not one, active now. */
  signedIn(openid: string): Promise<void>
  /** A request with the person's session: active now, written if the last write is 5 minutes old. */
  seen(openid: string): Promise<void>
}

export function createActivity(options: { repository: Pick<UserRepository, 'touch'>; clock: Clock }): Activity {
  const { repository, clock } = options
  /** When each person's activity was last written, least recent first. */
  const written = new Map<string, number>()

  async function write(openid: string, now: Date): Promise<void> {
    written.delete(openid)
    written.set(openid, now.getTime())
    if (written.size > PEOPLE_KEPT) written.delete(written.keys().next().value!)
    await repository.touch(openid, now)
  }

  return {
    signedIn: (openid) => write(openid, clock.now()),
    async seen(openid) {
      const now = clock.now()
      const last = written.get(openid)
      // A clock moved back (the sandbox's) writes again rather than waiting.
      if (last !== undefined && now.getTime() >= last && now.getTime() - last < ACTIVITY_WRITE_INTERVAL_MS) return
      await write(openid, now)
    },
  }
}
