import { describe, expect, it } from 'vitest'
import { decide } from '../../../src/engine/decide.js'
import { nextState } from '../../../src/engine/next-state.js'
import { requiredReadings } from '../../../src/engine/requests.js'
import type { Transition } from '../../../src/engine/types.js'
import { PhasegateError } from '../../../src/errors.js'
import { HEALTHY, observations, policy, state } from '../../support/policies.js'

// Issue 15's controls in the pure engine: pause, on_fire, cool-down, freeze windows and
// sustained gates (for:).

const LADDER = `
deployment:
  order: [canary, wide]
  phases:
    canary:
      user_percentage: 5
      cooldown: 6h
      gates:
        - type: metrics_threshold
          name: health
          thresholds: { error_rate: < 0.01 }
    wide:
      user_percentage: 100
      cooldown: 2h
`
const T = new Date('2026-03-04T12:00:00Z') // a Wednesday
const hoursAfter = (h: number) => new Date(T.getTime() + h * 3_600_000)

function withTriggers(triggers: string, extra = ''): ReturnType<typeof policy> {
  return policy(`${LADDER}${extra}
rollback:
  automatic_triggers:
${triggers}
monitoring:
  alerts:
    error_rate: { warning: 0.01, critical: 0.02 }
    latency_ms: { warning: 500, critical: 900 }
metrics:
  definitions:
    latency_ms: { direction: higher_is_worse }
`)
}

const entered = { enteredAt: new Date(T.getTime() - 48 * 3_600_000).toISOString() }

describe('pause', () => {
  const p = withTriggers('    - error_rate > 0.02')
  const paused = { at: T.toISOString(), reason: 'paused by alice: investigating' }

  it('a paused rollout holds although every gate passes', () => {
    const d = decide(p, state(p, 'canary', { ...entered, paused }), observations(HEALTHY), T)
    expect(d.action).toBe('hold')
    expect(d.holdCause).toBe('paused')
    expect(d.reason).toContain('investigating')
    expect(d.awaitingApproval).toBe(false)
    // Unpaused, the same inputs advance: the pause is what holds it.
    expect(decide(p, state(p, 'canary', entered), observations(HEALTHY), T).action).toBe('advance')
  })

  it("a paused rollout's rollback triggers still act", () => {
    const d = decide(
      p,
      state(p, 'wide', { ...entered, paused }),
      observations({ ...HEALTHY, error_rate: 0.05 }),
      T
    )
    expect(d.action).toBe('rollback')
    expect(d.target).toBe('canary')
  })

  it('nextState: a pause keeps the phase clock and sets paused; a resume lifts it; a rollback keeps it', () => {
    const s = state(p, 'wide', entered)
    const pause: Transition = {
      kind: 'pause',
      from: 'wide',
      to: 'wide',
      at: T.toISOString(),
      reason: 'paused by alice: investigating',
      approvers: [],
      operator: 'alice',
      evidence: []
    }
    const p1 = nextState(s, pause)
    expect(p1.paused).toEqual({ at: T.toISOString(), reason: pause.reason, operator: 'alice' })
    expect(p1.enteredAt).toBe(s.enteredAt)
    const rolled = nextState(p1, {
      ...pause,
      kind: 'rollback',
      to: 'canary',
      at: hoursAfter(1).toISOString()
    })
    expect(rolled.paused).toEqual(p1.paused)
    const resumed = nextState(rolled, { ...pause, kind: 'resume', from: 'canary', to: 'canary' })
    expect(resumed.paused).toBeUndefined()
    expect(resumed.enteredAt).toBe(rolled.enteredAt)
    // Resuming the kill switch restarts the clock, as before.
    const off = { ...rolled, enabled: false }
    expect(
      nextState(off, { ...pause, kind: 'resume', from: 'canary', to: 'canary' })
    ).toMatchObject({ enabled: true, enteredAt: pause.at })
  })
})

describe('on_fire', () => {
  it('observe: the fired trigger is reported, alerts are raised, nothing rolls back', () => {
    const p = withTriggers('    - { when: error_rate > 0.02, on_fire: observe }')
    const d = decide(
      p,
      state(p, 'wide', entered),
      observations({ ...HEALTHY, error_rate: 0.05 }),
      T
    )
    expect(d.action).toBe('hold')
    expect(d.holdCause).toBe('final_phase')
    expect(d.triggers[0]).toMatchObject({ status: 'fired', onFire: 'observe' })
    expect(d.triggers[0]!.evidence[0]).toMatchObject({ value: 0.05, result: 'fired' })
    expect(d.alerts.map(a => a.severity)).toContain('critical')
    expect(d.reason).toContain('observe-only, nothing rolled back')
  })

  it('pause: a fired trigger pauses instead of rolling back, once', () => {
    const p = withTriggers('    - { when: error_rate > 0.02, on_fire: pause }')
    const bad = observations({ ...HEALTHY, error_rate: 0.05 })
    const d = decide(p, state(p, 'wide', entered), bad, T)
    expect(d.action).toBe('pause')
    expect(d.transition).toMatchObject({ kind: 'pause', from: 'wide', to: 'wide' })
    expect(d.transition!.evidence[0]).toMatchObject({ metric: 'error_rate', result: 'fired' })
    expect(d.triggers[0]!.onFire).toBe('pause')
    const after = nextState(state(p, 'wide', entered), d.transition!)
    expect(decide(p, after, bad, T)).toMatchObject({ action: 'hold', holdCause: 'paused' })
  })

  it('a rollback trigger wins over a pausing one', () => {
    const p = withTriggers(
      '    - { when: error_rate > 0.02, on_fire: pause }\n    - latency_ms > 900'
    )
    const d = decide(
      p,
      state(p, 'wide', entered),
      observations({ ...HEALTHY, error_rate: 0.05, latency_ms: 1000 }),
      T
    )
    expect(d.action).toBe('rollback')
  })

  it('defaults to rollback, shown on every trigger', () => {
    const p = withTriggers('    - error_rate > 0.02\n    - system_failure')
    const d = decide(p, state(p, 'wide', entered), observations(HEALTHY), T)
    expect(d.triggers.map(t => t.onFire)).toEqual(['rollback', 'rollback'])
  })

  it('refuses to soften system_failure, at the line of on_fire', () => {
    for (const mode of ['pause', 'observe']) {
      let error: unknown
      try {
        withTriggers(`    - error_rate > 0.02\n    - { when: system_failure, on_fire: ${mode} }`)
      } catch (e) {
        error = e
      }
      expect(error).toBeInstanceOf(PhasegateError)
      const text = (error as PhasegateError).format()
      expect(text).toMatch(/test\.yaml:\d+:\d+/)
      expect(text).toContain(`on_fire: ${mode} cannot soften it`)
    }
    // Written as rollback it is what it always was.
    expect(() => withTriggers('    - { when: system_failure, on_fire: rollback }')).not.toThrow()
  })
})

describe('cool-down after a rollback', () => {
  const p = withTriggers('    - error_rate > 0.02')
  const rolledBack = {
    rollbacks: [{ from: 'wide', to: 'canary', at: T.toISOString() }]
  }

  it('holds the advance into the phase rolled back from until its cool-down ends', () => {
    const s = state(p, 'canary', entered)
    const d = decide(p, s, observations(HEALTHY, rolledBack), hoursAfter(1))
    expect(d).toMatchObject({
      action: 'hold',
      holdCause: 'cooldown',
      awaitingApproval: false,
      cooldown: { phase: 'wide', endsAt: hoursAfter(2).toISOString() }
    })
    expect(d.reason).toContain('cool-down of 2h')
    expect(decide(p, s, observations(HEALTHY, rolledBack), hoursAfter(2)).action).toBe('advance')
  })

  it("reads the state's last transition when no history is given", () => {
    const s = state(p, 'canary', {
      ...entered,
      lastTransition: {
        kind: 'emergency',
        from: 'wide',
        to: 'canary',
        at: T.toISOString(),
        reason: 'x',
        approvers: [],
        evidence: []
      }
    })
    expect(decide(p, s, observations(HEALTHY), hoursAfter(1)).holdCause).toBe('cooldown')
  })

  it('a rollback out of another phase does not hold this advance', () => {
    const other = { rollbacks: [{ from: 'canary', to: 'canary', at: T.toISOString() }] }
    expect(
      decide(p, state(p, 'canary', entered), observations(HEALTHY, other), hoursAfter(1)).action
    ).toBe('advance')
  })
})

describe('sustained gates (for:)', () => {
  const p = policy(`
deployment:
  order: [canary, wide]
  phases:
    canary:
      user_percentage: 5
      gates:
        - type: metrics_threshold
          name: health
          thresholds: { error_rate: < 0.01 }
          for: 30m
    wide: { user_percentage: 100 }
`)
  const now = T.getTime() / 1000
  const minutes = (from: number, value: (i: number) => number, step = 60) =>
    Array.from(
      { length: Math.floor(from / (step / 60)) + 1 },
      (_, i) => [now - from * 60 + i * step, value(i)] as [number, number]
    )
  const reading = (series: Array<[number, number]>) => ({
    readings: [{ metric: 'error_rate', value: series.at(-1)?.[1] ?? null, series }],
    approvals: [],
    checks: []
  })

  it('asks for range data covering the window', () => {
    expect(requiredReadings(p, state(p, 'canary'))).toContainEqual({
      metric: 'error_rate',
      rangeMs: 1_800_000
    })
  })

  it('passes only when every point of the window meets the criteria', () => {
    const s = state(p, 'canary', entered)
    expect(decide(p, s, reading(minutes(30, () => 0.001)), T).action).toBe('advance')
    const once = decide(p, s, reading(minutes(30, i => (i === 10 ? 0.02 : 0.001))), T).gates[0]!
    expect(once.outcome).toBe('pending')
    expect(once.reason).toContain('not sustained')
  })

  it('a gap in the window is not "held"', () => {
    const gappy = minutes(30, () => 0.001).filter((_, i) => i < 5 || i > 15)
    const gate = decide(p, state(p, 'canary', entered), reading(gappy), T).gates[0]!
    expect(gate.outcome).toBe('pending')
    expect(gate.reason).toContain('no data between')
  })

  it('the window must lie inside the phase', () => {
    const justEntered = state(p, 'canary', {
      enteredAt: new Date(T.getTime() - 10 * 60_000).toISOString()
    })
    const gate = decide(p, justEntered, reading(minutes(30, () => 0.001)), T).gates[0]!
    expect(gate.outcome).toBe('pending')
    expect(gate.reason).toContain('before the phase was entered')
  })
})

describe('freeze windows', () => {
  const frozen = (windows: string) =>
    withTriggers(
      '    - error_rate > 0.02',
      `  freeze:\n    time_zone: Europe/Berlin\n    windows:\n${windows}`
    )
  const s = (p: ReturnType<typeof policy>) => state(p, 'canary', entered)

  it('weekends: holds from Saturday 00:00 to Monday 00:00 local, and says when it ends', () => {
    const p = frozen('      - weekends: true')
    // Saturday 2026-03-07 10:00 in Berlin (UTC+1).
    const saturday = new Date('2026-03-07T09:00:00Z')
    const d = decide(p, s(p), observations(HEALTHY), saturday)
    expect(d).toMatchObject({
      action: 'hold',
      holdCause: 'freeze',
      freeze: { window: 'weekends', endsAt: '2026-03-08T23:00:00.000Z' }
    })
    expect(d.reason).toContain('2026-03-09 00:00 Europe/Berlin')
    // Friday 23:59 Berlin is not frozen; Monday 00:00 Berlin is not.
    expect(decide(p, s(p), observations(HEALTHY), new Date('2026-03-06T22:59:00Z')).action).toBe(
      'advance'
    )
    expect(decide(p, s(p), observations(HEALTHY), new Date('2026-03-08T23:00:00Z')).action).toBe(
      'advance'
    )
  })

  it('a rollback is never held by a window', () => {
    const p = frozen('      - weekends: true')
    const d = decide(
      p,
      state(p, 'wide', entered),
      observations({ ...HEALTHY, error_rate: 0.05 }),
      new Date('2026-03-07T09:00:00Z')
    )
    expect(d.action).toBe('rollback')
  })

  it('date range, inclusive, in its own time zone', () => {
    const p = frozen(
      '      - name: year-end\n        time_zone: America/New_York\n        dates: { from: 2026-12-24, to: 2026-12-26 }'
    )
    const inside = decide(p, s(p), observations(HEALTHY), new Date('2026-12-27T04:59:00Z'))
    expect(inside.freeze).toEqual({ window: 'year-end', endsAt: '2026-12-27T05:00:00.000Z' })
    expect(decide(p, s(p), observations(HEALTHY), new Date('2026-12-24T04:59:00Z')).action).toBe(
      'advance'
    )
  })

  it('daily across midnight, over a DST change', () => {
    const p = frozen('      - name: nights\n        daily: { from: "22:00", to: "02:30" }')
    // Berlin springs forward on 2026-03-29 at 02:00 -> 03:00: 02:30 never happens that night,
    // so the window closes at the jump, 01:00Z.
    const d = decide(p, s(p), observations(HEALTHY), new Date('2026-03-28T23:30:00Z'))
    expect(d.freeze?.endsAt).toBe('2026-03-29T01:00:00.000Z')
    // Autumn, 2026-10-25 03:00 CEST -> 02:00 CET: 02:00-02:30 happens twice, and the window is
    // open both times (read on the wall clock): the second time it ends at 02:30 CET, 01:30Z.
    const first = decide(p, s(p), observations(HEALTHY), new Date('2026-10-25T00:15:00Z'))
    expect(first.freeze?.endsAt).toBe('2026-10-25T00:30:00.000Z')
    expect(decide(p, s(p), observations(HEALTHY), new Date('2026-10-25T00:45:00Z')).action).toBe(
      'advance'
    )
    const second = decide(p, s(p), observations(HEALTHY), new Date('2026-10-25T01:10:00Z'))
    expect(second.freeze?.endsAt).toBe('2026-10-25T01:30:00.000Z')
  })

  it('lets the advance PR open and be approved: only approval missing still awaits approval', () => {
    const p = policy(`
deployment:
  order: [canary, wide]
  phases:
    canary:
      user_percentage: 5
      gates: [{ type: manual_approval }]
    wide: { user_percentage: 100 }
  freeze:
    time_zone: UTC
    windows: [{ weekends: true }]
`)
    const d = decide(p, s(p), observations(HEALTHY), new Date('2026-03-07T09:00:00Z'))
    expect(d).toMatchObject({ action: 'hold', holdCause: 'gates', awaitingApproval: true })
    expect(d.freeze?.window).toBe('weekends')
    const approved = decide(
      p,
      s(p),
      observations(HEALTHY, { approvals: [{ user: 'alice' }] }),
      new Date('2026-03-07T09:00:00Z')
    )
    expect(approved).toMatchObject({ action: 'hold', holdCause: 'freeze', awaitingApproval: true })
  })

  it('refuses an unknown time zone and an empty window, with their location', () => {
    expect(() => frozen('      - weekends: true').feature).not.toThrow()
    const bad = (text: string) => {
      try {
        policy(text)
      } catch (e) {
        return (e as PhasegateError).format()
      }
      return 'accepted'
    }
    expect(
      bad(`${LADDER}  freeze:\n    time_zone: Europe/Berln\n    windows: [{ weekends: true }]\n`)
    ).toMatch(/test\.yaml:\d+:\d+.*not an IANA time zone/)
    expect(bad(`${LADDER}  freeze:\n    time_zone: UTC\n    windows: [{ name: x }]\n`)).toContain(
      'needs one of weekends, dates or daily'
    )
    expect(
      bad(
        `${LADDER}  freeze:\n    time_zone: UTC\n    windows: [{ daily: { from: "9:00", to: "17:00" } }]\n`
      )
    ).toContain('HH:MM')
  })
})
