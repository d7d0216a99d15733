/**
 * Quiet hours and local days, in the person's time zone (the service's `TZ_QUIET_HOURS`).
 *
 * Wall-clock arithmetic goes through `Intl.DateTimeFormat`, never through the process's own zone,
 * so the answers are the same on any server and survive daylight-saving changes.
 */
import type { QuietHours } from './contract'

export type QuietHoursState = { inside: false } | { inside: true; endsAt: Date }

interface WallTime {
  year: number
  month: number
  day: number
  hour: number
  minute: number
}

const MINUTE_MS = 60_000
const formatters = new Map<string, Intl.DateTimeFormat>()

function formatterFor(timeZone: string): Intl.DateTimeFormat {
  let formatter = formatters.get(timeZone)
  if (!formatter) {
    formatter = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
    })
    formatters.set(timeZone, formatter)
  }
  return formatter
}

/** The wall-clock time at `instant` in `timeZone` (seconds dropped). */
function wallTimeAt(instant: Date, timeZone: string): WallTime {
  const parts: Partial<Record<Intl.DateTimeFormatPartTypes, number>> = {}
  for (const part of formatterFor(timeZone).formatToParts(instant)) {
    if (part.type !== 'literal') parts[part.type] = Number(part.value)
  }
  return {
    year: parts.year ?? 0,
    month: parts.month ?? 0,
    day: parts.day ?? 0,
    hour: parts.hour ?? 0,
    minute: parts.minute ?? 0,
  }
}

/** How far `timeZone` is ahead of UTC at `instant`, in ms (Asia/Shanghai: +8 h). */
function offsetAt(instantMs: number, timeZone: string): number {
  const wall = wallTimeAt(new Date(instantMs), timeZone)
  const wallAsUtc = Date.UTC(wall.year, wall.month - 1, wall.day, wall.hour, wall.minute)
  return wallAsUtc - Math.floor(instantMs / MINUTE_MS) * MINUTE_MS
}

/**
 * The first instant at which the wall clock in `timeZone` shows `wall` or later: for a time that
 * occurs twice (autumn) the earlier one, for a time skipped by a spring-forward change the moment
 * the clocks jump.
 */
function instantOf(wall: WallTime, timeZone: string): Date {
  const wallAsUtc = Date.UTC(wall.year, wall.month - 1, wall.day, wall.hour, wall.minute)
  const offsets = [offsetAt(wallAsUtc, timeZone), offsetAt(wallAsUtc - 86_400_000, timeZone), offsetAt(wallAsUtc + 86_400_000, timeZone)]
  const matches = offsets
    .map((offset) => wallAsUtc - offset)
    .filter((candidate) => offsetAt(candidate, timeZone) === wallAsUtc - candidate)
  if (matches.length > 0) return new Date(Math.min(...matches))
  // Skipped wall time: search for the jump between the two candidate instants, minute by minute.
  let low = wallAsUtc - Math.max(...offsets)
  let high = wallAsUtc - Math.min(...offsets)
  const before = offsetAt(low, timeZone)
  while (high - low > MINUTE_MS) {
    const middle = low + Math.floor((high - low) / 2 / MINUTE_MS) * MINUTE_MS
    if (offsetAt(middle, timeZone) === before) low = middle
    else high = middle
  }
  return new Date(high)
}

function minutesOf(clock: string): number {
  const [hours, minutes] = clock.split(':').map(Number) as [number, number]
  return hours * 60 + minutes
}

/** `minuteOfDay` on the calendar day `dayOffset` days after `wall`'s. */
function atMinuteOfDay(wall: WallTime, minuteOfDay: number, dayOffset: number): WallTime {
  const day = new Date(Date.UTC(wall.year, wall.month - 1, wall.day + dayOffset))
  return {
    year: day.getUTCFullYear(),
    month: day.getUTCMonth() + 1,
    day: day.getUTCDate(),
    hour: Math.floor(minuteOfDay / 60),
    minute: minuteOfDay % 60,
  }
}

/**
 * Whether `now` falls inside the quiet hours (start inclusive, end exclusive), and when they end.
 * `start > end` spans midnight (22:00–08:00); `start === end` is no window at all.
 */
export function quietHoursState(now: Date, quietHours: QuietHours | null, timeZone: string): QuietHoursState {
  if (quietHours === null) return { inside: false }
  const start = minutesOf(quietHours.start)
  const end = minutesOf(quietHours.end)
  if (start === end) return { inside: false }

  const wall = wallTimeAt(now, timeZone)
  const minute = wall.hour * 60 + wall.minute
  const crossesMidnight = start > end
  const inside = crossesMidnight ? minute >= start || minute < end : minute >= start && minute < end
  if (!inside) return { inside: false }

  const endsTomorrow = crossesMidnight && minute >= start
  return { inside: true, endsAt: instantOf(atMinuteOfDay(wall, end, endsTomorrow ? 1 : 0), timeZone) }
}

/** The local calendar day of `now` in `timeZone`, `YYYY-MM-DD`: the key of daily limits. */
export function localDayKey(now: Date, timeZone: string): string {
  const wall = wallTimeAt(now, timeZone)
  const pad = (n: number, width = 2): string => String(n).padStart(width, '0')
  return `${pad(wall.year, 4)}-${pad(wall.month)}-${pad(wall.day)}`
}

/** The first instant of `now`'s local day in `timeZone`. */
export function startOfLocalDay(now: Date, timeZone: string): Date {
  return instantOf(atMinuteOfDay(wallTimeAt(now, timeZone), 0, 0), timeZone)
}
