import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import {
  assessHeartbeat,
  DEFAULT_SCHEDULE_INTERVAL_MS,
  scheduleIntervalOf,
  STALE_INTERVALS
} from '../../../src/engine/heartbeat.js'
import { CLOCK_SKEW_MS } from '../../../src/engine/time.js'
import { PhasegateError } from '../../../src/errors.js'
import { policy, SEED_POLICY_TEXT } from '../../support/policies.js'

// Liveness, the pure rule: a feature's heartbeat is stale once its last evaluation is more than
// three schedule intervals old; none recorded is stale, never fresh.

const AT = '2026-03-02T09:00:00.000Z'
const MIN = 60_000
const after = (ms: number) => new Date(Date.parse(AT) + ms)
const entry = { evaluatedAt: AT, outcome: 'hold' }

describe('assessHeartbeat', () => {
  it('is fresh up to exactly three intervals, stale a millisecond later', () => {
    const fresh = assessHeartbeat(entry, 15 * MIN, after(45 * MIN))
    expect(fresh).toMatchObject({
      stale: false,
      evaluatedAt: AT,
      outcome: 'hold',
      staleAfter: '2026-03-02T09:45:00.000Z',
      ageMs: 45 * MIN
    })
    expect(assessHeartbeat(entry, 15 * MIN, after(45 * MIN + 1)).stale).toBe(true)
  })

  it('says no heartbeat was recorded, as stale, when there is none or its time is unreadable', () => {
    expect(assessHeartbeat(undefined, 15 * MIN, after(0))).toEqual({
      evaluatedAt: null,
      stale: true,
      intervalMs: 15 * MIN
    })
    expect(
      assessHeartbeat({ evaluatedAt: 'yesterday', outcome: 'hold' }, 15 * MIN, after(0))
    ).toMatchObject({ evaluatedAt: null, stale: true })
  })

  // Attack A2: a record from the future was fresh until its own time + 3 intervals (2099...).
  it('for any interval and age: stale exactly when the age exceeds three intervals or the record is more than the clock skew in the future', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 5, max: 7 * 24 * 60 }),
        fc.integer({ min: -50 * 365 * 24 * 60 * MIN, max: 30 * 24 * 60 * MIN }),
        (minutes, age) => {
          const beat = assessHeartbeat(entry, minutes * MIN, after(age))
          const future = age < -CLOCK_SKEW_MS
          expect(beat.stale).toBe(future || age > STALE_INTERVALS * minutes * MIN)
          if (beat.evaluatedAt === null) throw new Error('a heartbeat was recorded')
          expect(beat.future).toBe(future ? true : undefined)
          // Never fresh past the evaluation time by more than the intervals it allows.
          expect(Date.parse(beat.staleAfter)).toBeLessThanOrEqual(
            after(age).getTime() + CLOCK_SKEW_MS + STALE_INTERVALS * minutes * MIN
          )
        }
      ),
      { numRuns: 300 }
    )
  })

  it('a record within the clock skew ahead counts as just evaluated; beyond it, stale since ever', () => {
    expect(assessHeartbeat(entry, 15 * MIN, after(-CLOCK_SKEW_MS)).stale).toBe(false)
    const ahead = assessHeartbeat(entry, 15 * MIN, after(-CLOCK_SKEW_MS - 1))
    expect(ahead).toMatchObject({
      stale: true,
      future: true,
      staleAfter: new Date(0).toISOString()
    })
  })
})

describe('monitoring.schedule_interval', () => {
  const withInterval = (value: string) =>
    policy(
      SEED_POLICY_TEXT.replace(/^monitoring:\n/m, `monitoring:\n  schedule_interval: ${value}\n`)
    )

  it('defaults to 15 minutes and reads the written duration', () => {
    expect(SEED_POLICY_TEXT).toMatch(/^monitoring:\n/m)
    expect(scheduleIntervalOf(policy(SEED_POLICY_TEXT))).toBe(DEFAULT_SCHEDULE_INTERVAL_MS)
    expect(DEFAULT_SCHEDULE_INTERVAL_MS).toBe(15 * MIN)
    expect(scheduleIntervalOf(withInterval('1h'))).toBe(60 * MIN)
  })

  it.each([['1m'], ['8d'], ['15']])('refuses %s at its file:line:col', value => {
    let error: unknown
    try {
      withInterval(value)
    } catch (e) {
      error = e
    }
    expect(error).toBeInstanceOf(PhasegateError)
    const text = (error as PhasegateError).format()
    expect(text).toMatch(/test\.yaml:\d+:\d+/)
    expect(text).toMatch(/schedule interval is between 5m and 7d|unit/)
  })
})
