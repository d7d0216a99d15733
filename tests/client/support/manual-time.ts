/**
 * A clock and timers the test drives by hand: `advance(ms)` moves the clock and runs every timer that
 * falls due, in order. No real waiting.
 */
import type { Clock, Timers } from '@/context'

interface Pending {
  id: number
  at: number
  callback: () => void
}

export class ManualTime implements Clock, Timers {
  private current: number
  private pending: Pending[] = []
  private sequence = 0

  constructor(start: number | string) {
    this.current = typeof start === 'string' ? Date.parse(start) : start
  }

  now(): number {
    return this.current
  }

  schedule(callback: () => void, ms: number): () => void {
    const id = ++this.sequence
    this.pending.push({ id, at: this.current + ms, callback })
    return () => {
      this.pending = this.pending.filter((timer) => timer.id !== id)
    }
  }

  /** Timers waiting, as delays from now (ms). */
  get scheduled(): number[] {
    return this.pending.map((timer) => timer.at - this.current).sort((a, b) => a - b)
  }

  /** Moves the clock by `ms`, running each timer that falls due at its own time. */
  advance(ms: number): void {
    const end = this.current + ms
    for (;;) {
      const due = this.pending.filter((timer) => timer.at <= end).sort((a, b) => a.at - b.at || a.id - b.id)[0]
      if (due === undefined) break
      this.pending = this.pending.filter((timer) => timer.id !== due.id)
      this.current = due.at
      due.callback()
    }
    this.current = end
  }
}
