import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { SEVERITY_RANK, severityOf } from '../../../src/engine/alerts.js'
import { decide } from '../../../src/engine/decide.js'
import type { Comparator, Gate, Observations, State } from '../../../src/engine/types.js'
import { inputsArb, type DecideInputs } from '../../support/arbitraries.js'

// Properties of decide() over random policies, states, observations and times. The gate oracle
// below is written from the design's rules, not from the engine's code, so that a gate the
// engine wrongly reports as passing is caught here rather than trusted.

const RUNS = { numRuns: 1000 }

const COMPARE: Record<Comparator, (a: number, b: number) => boolean> = {
  '<': (a, b) => a < b,
  '<=': (a, b) => a <= b,
  '>': (a, b) => a > b,
  '>=': (a, b) => a >= b,
  '==': (a, b) => a === b
}

/** Whether a gate passes, by the design: missing or non-finite data never passes. */
function gatePasses(gate: Gate, state: State, obs: Observations, now: Date): boolean {
  switch (gate.type) {
    case 'metrics_threshold':
      return Object.entries(gate.thresholds).every(([metric, t]) => {
        const r = obs.readings.find(x => x.metric === metric && x.group === gate.group)
        if (!r || r.value === null || !Number.isFinite(r.value)) return false
        if (gate.minSamples !== undefined && (r.samples ?? 0) < gate.minSamples) return false
        return COMPARE[t.op](r.value, t.value)
      })
    case 'manual_approval': {
      const counted = new Set(
        obs.approvals
          .filter(a => !a.bot && !a.author && !a.stale)
          .filter(
            a =>
              gate.approvers.length === 0 ||
              gate.approvers.some(who =>
                who.startsWith('@')
                  ? (a.teams ?? []).some(t => t.toLowerCase() === who.toLowerCase())
                  : who.toLowerCase() === a.user.toLowerCase()
              )
          )
          .map(a => a.user.toLowerCase())
      )
      return counted.size >= gate.required
    }
    case 'automated_test':
      return gate.checks.every(
        name => obs.checks.find(c => c.name === name)?.conclusion === 'success'
      )
    case 'time_based':
      return now.getTime() - Date.parse(state.enteredAt) >= gate.durationMs
  }
}

/** 0 below warning, then low 1 .. critical 4. */
function rank(rule: Parameters<typeof severityOf>[0], value: number): number {
  const severity = severityOf(rule, value)
  return severity ? SEVERITY_RANK[severity] : 0
}

function indexOf({ policy }: DecideInputs, phase: string | undefined): number {
  return policy.phases.findIndex(p => p.name === phase)
}

function run(inputs: DecideInputs) {
  return decide(inputs.policy, inputs.state, inputs.observations, inputs.now)
}

describe('alert severity', () => {
  // "Severity from how far past the threshold the value is": further past is never less severe.
  it('never falls as a value moves further past the thresholds', () => {
    fc.assert(
      fc.property(
        fc.double({ min: -10, max: 10, noNaN: true }),
        fc.double({ min: 1e-6, max: 10, noNaN: true }),
        fc.boolean(),
        fc.double({ min: -20, max: 20, noNaN: true }),
        fc.double({ min: 0, max: 20, noNaN: true }),
        (warning, gap, higherIsWorse, value, further) => {
          const rule = {
            warning,
            critical: higherIsWorse ? warning + gap : warning - gap,
            direction: higherIsWorse ? ('higher_is_worse' as const) : ('lower_is_worse' as const)
          }
          const worse = higherIsWorse ? value + further : value - further
          expect(rank(rule, worse)).toBeGreaterThanOrEqual(rank(rule, value))
        }
      ),
      RUNS
    )
  })
})

describe('decide() over random policies, states and observations', () => {
  it('never advances while any gate is not passing', () => {
    fc.assert(
      fc.property(inputsArb(), inputs => {
        const decision = run(inputs)
        const phase = inputs.policy.phases[indexOf(inputs, inputs.state.phase)]!
        const blocked = phase.gates.filter(
          g => !gatePasses(g, inputs.state, inputs.observations, inputs.now)
        )
        if (decision.gates.some(g => g.outcome !== 'pass') || blocked.length > 0)
          expect(decision.action).not.toBe('advance')
      }),
      RUNS
    )
  })

  it("reports each gate's outcome as the rules give it", () => {
    fc.assert(
      fc.property(inputsArb(), inputs => {
        const decision = run(inputs)
        const index = indexOf(inputs, inputs.state.phase)
        const phase = inputs.policy.phases[index]!
        // The final phase has no step to guard: only its metric gates are evaluated, as its
        // steady-state check.
        const gates =
          index === inputs.policy.phases.length - 1
            ? phase.gates.filter(g => g.type === 'metrics_threshold')
            : phase.gates
        expect(decision.gates.map(g => g.gate)).toEqual(gates.map(g => g.name))
        gates.forEach((gate, i) => {
          const passes = gatePasses(gate, inputs.state, inputs.observations, inputs.now)
          expect(decision.gates[i]!.outcome === 'pass', decision.gates[i]!.reason).toBe(passes)
        })
      }),
      RUNS
    )
  })

  it('moves at most one phase, up on advance and down on rollback', () => {
    fc.assert(
      fc.property(inputsArb(), inputs => {
        const decision = run(inputs)
        const from = indexOf(inputs, inputs.state.phase)
        expect(decision.phase).toBe(inputs.state.phase)
        if (decision.action === 'hold') {
          expect(decision.target).toBeUndefined()
          expect(decision.transition).toBeUndefined()
          return
        }
        const step = decision.action === 'advance' ? 1 : -1
        expect(indexOf(inputs, decision.target)).toBe(from + step)
        expect(decision.transition).toMatchObject({
          kind: decision.action,
          from: inputs.state.phase,
          to: decision.target,
          at: inputs.now.toISOString()
        })
      }),
      RUNS
    )
  })

  it('never advances from the final phase, and says the rollout is complete', () => {
    fc.assert(
      fc.property(inputsArb({ phase: 'final', enabled: true }), inputs => {
        const decision = run(inputs)
        expect(decision.action).not.toBe('advance')
        if (decision.action === 'hold' && !decision.triggers.some(t => t.fired))
          expect(decision.reason).toMatch(/final phase/)
      }),
      RUNS
    )
  })

  it('never rolls back from the first phase, and says there is nothing to roll back to', () => {
    fc.assert(
      fc.property(inputsArb({ phase: 'first', enabled: true }), inputs => {
        const decision = run(inputs)
        expect(decision.action).not.toBe('rollback')
        if (decision.triggers.some(t => t.fired))
          expect(decision.reason).toMatch(/first phase.*nothing to roll back to/)
      }),
      RUNS
    )
  })

  it('never moves while the kill switch is off', () => {
    fc.assert(
      fc.property(inputsArb({ enabled: false }), inputs => {
        const decision = run(inputs)
        expect(decision.action).toBe('hold')
        expect(decision.transition).toBeUndefined()
        expect(decision.reason).toMatch(/kill switch is off/)
      }),
      RUNS
    )
  })

  it('advances only when enabled, no trigger fired and every gate passes', () => {
    fc.assert(
      fc.property(inputsArb(), inputs => {
        const decision = run(inputs)
        if (decision.action !== 'advance') return
        expect(inputs.state.enabled).toBe(true)
        expect(decision.triggers.filter(t => t.fired)).toEqual([])
        expect(decision.gates.every(g => g.outcome === 'pass')).toBe(true)
      }),
      RUNS
    )
  })

  it('is deterministic and leaves its inputs as they were', () => {
    fc.assert(
      fc.property(inputsArb(), inputs => {
        const copy = structuredClone(inputs)
        const first = run(inputs)
        expect(inputs).toEqual(copy)
        expect(run(copy)).toEqual(first)
        expect(run(inputs)).toEqual(first)
      }),
      RUNS
    )
  })

  it('rolls back on a metric only when its alert severity is high or critical', () => {
    fc.assert(
      fc.property(inputsArb({ enabled: true }), inputs => {
        const decision = run(inputs)
        if (decision.action !== 'rollback') return
        for (const fired of decision.triggers.filter(t => t.fired)) {
          const metric = fired.evidence[0]?.metric
          const rule = inputs.policy.alerts.find(a => a.metric === metric)
          const value = fired.evidence[0]?.value
          if (metric === 'system_failure' || !rule || typeof value !== 'number') continue
          expect(rank(rule, value)).toBeGreaterThanOrEqual(SEVERITY_RANK.high)
        }
      }),
      RUNS
    )
  })

  // The properties above hold vacuously if the generators never produce an advance or a rollback.
  it('draws inputs that advance, hold and roll back', () => {
    const counts = { advance: 0, hold: 0, rollback: 0, pause: 0 }
    for (const inputs of fc.sample(inputsArb(), { numRuns: 2000, seed: 42 }))
      counts[run(inputs).action]++
    expect(counts.advance).toBeGreaterThan(20)
    expect(counts.rollback).toBeGreaterThan(20)
    expect(counts.hold).toBeGreaterThan(20)
  })
})
