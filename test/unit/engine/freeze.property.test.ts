import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { decide } from '../../../src/engine/decide.js'
import type { FreezeWindow, Policy } from '../../../src/engine/types.js'
import { observations, policy, state } from '../../support/policies.js'

// For random freeze windows in time zones with DST changes (including half-hour and midnight
// changes) and random tick times, many of them within hours of a DST change: no advance is ever
// decided inside a window, the end a report gives is the first minute no window is open, and a
// fired trigger rolls back whatever the window. Membership is checked here with Intl's own time
// zone data, not with the library the engine uses.

const RUNS = 400

const ZONES = [
  'UTC',
  'Europe/Berlin',
  'America/New_York',
  'Australia/Lord_Howe', // DST moves the clock by 30 minutes
  'America/Santiago', // DST changes at midnight: some days have no 00:00
  'America/Havana',
  'Pacific/Chatham', // +12:45 / +13:45
  'Asia/Kolkata' // no DST
]

const formatters = new Map(
  ZONES.map(zone => [
    zone,
    new Intl.DateTimeFormat('en-US', {
      timeZone: zone,
      hourCycle: 'h23',
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      weekday: 'short'
    })
  ])
)

/** The wall clock of `zone` at `t`, read by Intl. */
function wall(zone: string, t: number) {
  const parts = Object.fromEntries(
    formatters
      .get(zone)!
      .formatToParts(new Date(t))
      .map(p => [p.type, p.value])
  )
  return {
    date: `${parts.year}-${parts.month}-${parts.day}`,
    minute: Number(parts.hour) * 60 + Number(parts.minute),
    weekend: parts.weekday === 'Sat' || parts.weekday === 'Sun'
  }
}

const toMinutes = (hhmm: string) => Number(hhmm.slice(0, 2)) * 60 + Number(hhmm.slice(3))

/** The oracle: is `t` inside `w`, by Intl's wall clock. */
function inside(w: FreezeWindow, t: number): boolean {
  const clock = wall(w.timeZone, t)
  if (w.kind === 'weekends') return clock.weekend
  if (w.kind === 'dates') return clock.date >= w.from && clock.date <= w.to
  const from = toMinutes(w.from)
  const to = toMinutes(w.to)
  return from < to
    ? clock.minute >= from && clock.minute < to
    : clock.minute >= from || clock.minute < to
}

const START = Date.parse('2026-01-01T00:00:00Z')
const END = Date.parse('2027-12-31T00:00:00Z')

/** Every DST change of the zones over the test's span, found by Intl, to aim ticks near. */
const ZONE_CHANGES: Array<{ zone: string; t: number }> = (() => {
  const found: Array<{ zone: string; t: number }> = []
  for (const zone of ZONES) {
    let previous = wall(zone, START)
    for (let t = START + 3_600_000; t < END; t += 3_600_000) {
      const now = wall(zone, t)
      const expected = (previous.minute + 60) % 1440
      if (now.minute !== expected) found.push({ zone, t })
      previous = now
    }
  }
  return found
})()
const CHANGES = ZONE_CHANGES.map(c => c.t)

const pad = (n: number) => String(n).padStart(2, '0')
const hhmm = fc
  .tuple(fc.integer({ min: 0, max: 23 }), fc.constantFrom(0, 15, 30, 45, 59))
  .map(([h, m]) => `${pad(h)}:${pad(m)}`)
const day = fc
  .integer({ min: 0, max: 729 })
  .map(n => new Date(START + n * 86_400_000).toISOString().slice(0, 10))

const asHhmm = (minute: number) => `${pad(Math.floor(minute / 60))}:${pad(minute % 60)}`

/** A daily window of a zone that ends (or starts) at a wall time near one of its DST changes. */
const nearChangeArb: fc.Arbitrary<FreezeWindow> = fc
  .record({
    change: fc.constantFrom(...ZONE_CHANGES),
    shift: fc.integer({ min: -90, max: 90 }),
    length: fc.integer({ min: 1, max: 23 * 60 }),
    endsThere: fc.boolean()
  })
  .map(({ change, shift, length, endsThere }) => {
    const there = wall(change.zone, change.t + shift * 60_000).minute
    const other = (there + (endsThere ? 1440 - length : length)) % 1440
    return {
      name: 'daily',
      timeZone: change.zone,
      kind: 'daily' as const,
      from: asHhmm(endsThere ? other : there),
      to: asHhmm(endsThere ? there : other)
    }
  })

const windowArb: fc.Arbitrary<FreezeWindow> = fc.oneof(
  nearChangeArb,
  fc.record({ zone: fc.constantFrom(...ZONES) }).map(({ zone }) => ({
    name: 'weekends',
    timeZone: zone,
    kind: 'weekends' as const
  })),
  fc
    .record({ zone: fc.constantFrom(...ZONES), from: day, days: fc.integer({ min: 0, max: 10 }) })
    .map(({ zone, from, days }) => ({
      name: 'dates',
      timeZone: zone,
      kind: 'dates' as const,
      from,
      to: new Date(Date.parse(from) + days * 86_400_000).toISOString().slice(0, 10)
    })),
  fc
    .record({ zone: fc.constantFrom(...ZONES), from: hhmm, to: hhmm })
    .filter(w => w.from !== w.to)
    .map(({ zone, from, to }) => ({
      name: 'daily',
      timeZone: zone,
      kind: 'daily' as const,
      from,
      to
    }))
)

const tickArb = fc.oneof(
  fc.integer({ min: START, max: END }),
  fc
    .tuple(fc.constantFrom(...CHANGES), fc.integer({ min: -4 * 3_600_000, max: 4 * 3_600_000 }))
    .map(([change, offset]) => change + offset)
)

const BASE = policy(`
deployment:
  order: [canary, wide]
  phases:
    canary: { user_percentage: 5, gates: [] }
    wide: { user_percentage: 100, rollback_threshold: { error_rate: 0.02 } }
`)

const frozen = (windows: FreezeWindow[]): Policy => ({ ...BASE, freezeWindows: windows })

describe('freeze windows (property)', () => {
  it('sees DST changes to aim at', () => {
    expect(CHANGES.length).toBeGreaterThan(20)
  })

  it('never decides an advance inside a window, and reports the first minute none is open', () => {
    fc.assert(
      fc.property(fc.array(windowArb, { minLength: 1, maxLength: 3 }), tickArb, (windows, t) => {
        const now = new Date(t)
        const d = decide(frozen(windows), state(BASE, 'canary'), observations(), now)
        const open = windows.some(w => inside(w, t))
        if (!open) {
          expect(d.action).toBe('advance')
          return
        }
        expect(d.action).toBe('hold')
        expect(d.holdCause).toBe('freeze')
        const end = Date.parse(d.freeze!.endsAt)
        expect(end).toBeGreaterThan(t)
        // Windows that together cover all time (a 23h daily one beside a 1h one) have no end.
        if (d.freeze!.endless) return
        expect(windows.some(w => inside(w, end))).toBe(false)
        // Tight: a minute earlier some window was still open (unless that is before now).
        if (end - 60_000 > t) expect(windows.some(w => inside(w, end - 60_000))).toBe(true)
        // At the end, the same inputs advance.
        expect(
          decide(frozen(windows), state(BASE, 'canary'), observations(), new Date(end)).action
        ).toBe('advance')
      }),
      { numRuns: RUNS, seed: 15 }
    )
  })

  // The property above holds vacuously if the generators never put a tick inside a window.
  it('draws ticks inside and outside windows, near DST changes too', () => {
    const counts = { open: 0, closed: 0, endless: 0, nearChange: 0 }
    const draws = fc.sample(
      fc.tuple(fc.array(windowArb, { minLength: 1, maxLength: 3 }), tickArb),
      {
        numRuns: RUNS,
        seed: 15
      }
    )
    for (const [windows, t] of draws) {
      const d = decide(frozen(windows), state(BASE, 'canary'), observations(), new Date(t))
      if (d.freeze?.endless) counts.endless++
      else if (d.freeze) counts.open++
      else counts.closed++
      if (d.freeze && CHANGES.some(c => Math.abs(c - t) < 4 * 3_600_000)) counts.nearChange++
    }
    expect(counts.open).toBeGreaterThan(RUNS / 10)
    expect(counts.closed).toBeGreaterThan(RUNS / 10)
    expect(counts.nearChange).toBeGreaterThan(RUNS / 20)
    expect(counts.endless).toBeLessThan(RUNS / 10)
  })

  it('never suppresses a rollback, paused or not', () => {
    fc.assert(
      fc.property(
        fc.array(windowArb, { minLength: 1, maxLength: 3 }),
        tickArb,
        fc.boolean(),
        (windows, t, paused) => {
          const now = new Date(t)
          const s = state(BASE, 'wide', {
            ...(paused ? { paused: { at: new Date(START).toISOString(), reason: 'test' } } : {})
          })
          const d = decide(frozen(windows), s, observations({ error_rate: 0.05 }), now)
          expect(d.action).toBe('rollback')
          expect(d.target).toBe('canary')
        }
      ),
      { numRuns: RUNS, seed: 16 }
    )
  })
})
