/**
 * How the console's stores and pages reach the outside world: its platform (src/platform/console.ts),
 * its api client (with the operator session), a clock and timers, as one `ConsoleContext`.
 *
 * Made on first use from a console page, so nothing of it is in the app's entry: the end user's
 * pages never load it. Tests call `installConsoleContext(...)` with fakes in `beforeEach`.
 */
import { defaultApiBase } from '@/api/client'
import type { Clock, Timers } from '@/context'
import { createConsolePlatform, type ConsolePlatform } from '@/platform/console'
import { createConsoleApi, type ConsoleApi } from './api'
import { useOperatorSessionStore } from './stores/operator-session'

export interface ConsoleContext {
  platform: ConsolePlatform
  api: ConsoleApi
  clock: Clock
  timers: Timers
}

let current: ConsoleContext | null = null

export function installConsoleContext(context: ConsoleContext): void {
  current = context
}

function defaultContext(): ConsoleContext {
  const platform = createConsolePlatform()
  return {
    platform,
    api: createConsoleApi({ request: platform.request, baseUrl: defaultApiBase(), getToken: () => useOperatorSessionStore().validToken() }),
    clock: { now: () => Date.now() },
    timers: {
      schedule(callback, ms) {
        const handle = setTimeout(callback, ms)
        return () => clearTimeout(handle)
      },
    },
  }
}

export function useConsole(): ConsoleContext {
  current ??= defaultContext()
  return current
}
