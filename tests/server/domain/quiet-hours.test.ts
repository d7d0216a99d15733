import { describe, expect, it } from 'vitest'
import { localDayKey, quietHoursState, startOfLocalDay } from '../../../src/domain/quiet-hours'

const SHANGHAI = 'Asia/Shanghai'
/** Shanghai is UTC+8 all year. */
const shanghai = (local: string): Date => new Date(`${local}+08:00`)

describe('quietHoursState', () => {
  const night = { start: '22:00', end: '08:00' }
  const lunch = { start: '12:00', end: '13:30' }

  it('is outside with no quiet hours or an empty window', () => {
    expect(quietHoursState(shanghai('2026-03-01T23:00:00'), null, SHANGHAI)).toEqual({ inside: false })
    expect(quietHoursState(shanghai('2026-03-01T23:00:00'), { start: '08:00', end: '08:00' }, SHANGHAI)).toEqual({ inside: false })
  })

  it('handles a window inside one day (start inclusive, end exclusive)', () => {
    expect(quietHoursState(shanghai('2026-03-01T11:59:59'), lunch, SHANGHAI)).toEqual({ inside: false })
    expect(quietHoursState(shanghai('2026-03-01T12:00:00'), lunch, SHANGHAI)).toEqual({
      inside: true,
      endsAt: shanghai('2026-03-01T13:30:00'),
    })
    expect(quietHoursState(shanghai('2026-03-01T13:30:00'), lunch, SHANGHAI)).toEqual({ inside: false })
  })

  it('spans midnight: before midnight it ends the next morning', () => {
    expect(quietHoursState(shanghai('2026-03-01T23:15:00'), night, SHANGHAI)).toEqual({
      inside: true,
      endsAt: shanghai('2026-03-02T08:00:00'),
    })
  })

  it('spans midnight: after midnight it ends the same morning', () => {
    expect(quietHoursState(shanghai('2026-03-02T07:59:00'), night, SHANGHAI)).toEqual({
      inside: true,
      endsAt: shanghai('2026-03-02T08:00:00'),
    })
    expect(quietHoursState(shanghai('2026-03-02T08:00:00'), night, SHANGHAI)).toEqual({ inside: false })
    expect(quietHoursState(shanghai('2026-03-02T21:59:00'), night, SHANGHAI)).toEqual({ inside: false })
  })

  it('crosses a month and a year end', () => {
    expect(quietHoursState(shanghai('2026-12-31T22:30:00'), night, SHANGHAI)).toEqual({
      inside: true,
      endsAt: shanghai('2027-01-01T08:00:00'),
    })
  })

  it('reads the clock in the given time zone, not the process’s', () => {
    const instant = new Date('2026-03-01T15:00:00Z') // 23:00 in Shanghai, 10:00 in New York, 15:00 in London
    expect(quietHoursState(instant, night, SHANGHAI)).toEqual({ inside: true, endsAt: new Date('2026-03-02T00:00:00Z') })
    expect(quietHoursState(instant, night, 'America/New_York')).toEqual({ inside: false })
    expect(quietHoursState(instant, { start: '14:00', end: '16:00' }, 'Europe/London')).toEqual({
      inside: true,
      endsAt: new Date('2026-03-01T16:00:00Z'),
    })
  })

  it('ends at the right instant across a daylight-saving change', () => {
    // New York springs forward on 2026-03-08 at 02:00 (UTC-5 → UTC-4).
    expect(quietHoursState(new Date('2026-03-08T03:00:00Z'), night, 'America/New_York')).toEqual({
      inside: true,
      endsAt: new Date('2026-03-08T12:00:00Z'), // 08:00 EDT
    })
    // A window that ends inside the skipped hour ends when the clocks jump (03:00 EDT).
    expect(quietHoursState(new Date('2026-03-08T05:00:00Z'), { start: '00:00', end: '02:30' }, 'America/New_York')).toEqual({
      inside: true,
      endsAt: new Date('2026-03-08T07:00:00Z'),
    })
    // Autumn: 2026-11-01 01:30 happens twice; the window ends at the first one (EDT).
    expect(quietHoursState(new Date('2026-11-01T04:00:00Z'), { start: '00:00', end: '01:30' }, 'America/New_York')).toEqual({
      inside: true,
      endsAt: new Date('2026-11-01T05:30:00Z'),
    })
  })
})

describe('localDayKey and startOfLocalDay', () => {
  it('gives the local calendar day in the time zone', () => {
    const instant = new Date('2026-03-01T17:30:00Z') // 01:30 on 2 March in Shanghai
    expect(localDayKey(instant, SHANGHAI)).toBe('2026-03-02')
    expect(localDayKey(instant, 'UTC')).toBe('2026-03-01')
    expect(startOfLocalDay(instant, SHANGHAI)).toEqual(new Date('2026-03-01T16:00:00Z'))
  })

  it('finds midnight on a daylight-saving day', () => {
    expect(startOfLocalDay(new Date('2026-11-01T20:00:00Z'), 'America/New_York')).toEqual(new Date('2026-11-01T04:00:00Z'))
    expect(localDayKey(new Date('2026-11-01T20:00:00Z'), 'America/New_York')).toBe('2026-11-01')
  })
})
