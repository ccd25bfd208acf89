import { describe, expect, it } from 'vitest'
import { alertIssueBody } from '../../../src/action/alerts.js'
import { evaluateAlerts } from '../../../src/engine/alerts.js'
import { evaluateGate } from '../../../src/engine/gates.js'
import { knownUnit } from '../../../src/engine/metric-spec.js'
import { evaluateTriggers } from '../../../src/engine/triggers.js'
import type { MetricReading, Policy } from '../../../src/engine/types.js'
import { PhasegateError } from '../../../src/errors.js'
import { parsePolicyText } from '../../../src/policy/load.js'
import { gateTable } from '../../../src/report/markdown.js'
import type { Decision } from '../../../src/engine/types.js'
import { state } from '../../support/policies.js'

// Issue 12 item 1 (review F1 and F14): a threshold means what it says. A time written with a unit
// is compared in the unit the metric's readings are in, and a comparison that calls the better
// side of a metric a breach is refused at its line.

const FILE = 'policies/checkout.yaml'

/** A two-phase policy: `a` holds `phaseA` (flow YAML), then `extra` top-level YAML. */
function ladder(phaseA: string, extra = ''): string {
  return [
    'deployment:',
    '  order: [a, b]',
    '  phases:',
    `    a: {user_percentage: 5${phaseA ? `, ${phaseA}` : ''}}`,
    '    b: {user_percentage: 100}',
    extra
  ].join('\n')
}

const IN_SECONDS = 'metrics:\n  definitions:\n    response_time: {unit: s}\n'

function load(text: string): Policy {
  return parsePolicyText(text, FILE)
}

function refusal(text: string): PhasegateError {
  try {
    load(text)
  } catch (error) {
    if (error instanceof PhasegateError) return error
    throw error
  }
  throw new Error('the policy was accepted')
}

function lineOf(text: string, needle: string): number {
  return text.split('\n').findIndex(l => l.includes(needle)) + 1
}

const NOW = new Date('2026-03-02T10:00:00Z')
const obs = (...readings: MetricReading[]) => ({ readings, approvals: [], checks: [] })

describe('a threshold with a time unit is compared in the unit of the metric’s readings', () => {
  it('a success criterion "< 0.5s" or "< 500ms" on a metric in s is 0.5', () => {
    for (const written of ['< 0.5s', '< 500ms']) {
      const p = load(ladder(`success_criteria: {response_time: "${written}"}`, IN_SECONDS))
      expect(p.phases[0]!.successCriteria.response_time).toMatchObject({ value: 0.5, unit: 's' })
    }
  })

  it('the gate fails a 2 s reading against "< 0.5s" and says so in seconds', () => {
    const p = load(ladder('success_criteria: {response_time: "< 500ms"}', IN_SECONDS))
    const gate = p.phases[0]!.gates.find(g => g.name === 'success_criteria')!
    const result = evaluateGate(
      gate,
      state(p, 'a'),
      obs({ metric: 'response_time', value: 2 }),
      NOW
    )
    expect(result.outcome).toBe('fail')
    expect(result.reason).toBe('response_time 2 s is not < 0.5 s (written < 500ms)')
    // The report's table shows the value and the threshold in the same unit, never "2 | < 500ms".
    const table = gateTable({ gates: [result] } as unknown as Decision)
    expect(table).toContain(
      '| success_criteria | response_time | 2 s | < 0.5 s (written < 500ms) | ❌ fail |'
    )
    const ok = evaluateGate(gate, state(p, 'a'), obs({ metric: 'response_time', value: 0.3 }), NOW)
    expect(ok.outcome).toBe('pass')
  })

  it('a gate under gates: with for: is converted too', () => {
    const p = load(
      ladder(
        'gates: [{type: metrics_threshold, thresholds: {response_time: "< 250ms"}, for: 10m}]',
        IN_SECONDS
      )
    )
    const gate = p.phases[0]!.gates[0]!
    expect(gate.type === 'metrics_threshold' && gate.thresholds.response_time).toMatchObject({
      value: 0.25,
      unit: 's'
    })
  })

  it('a trigger "> 2s" (plain and sustained) fires on a reading of 3 s and not on 0.5 s', () => {
    const p = load(
      ladder(
        '',
        IN_SECONDS +
          'rollback:\n  automatic_triggers:\n    - response_time > 2s\n' +
          '    - { when: response_time > 2000ms, for: 10m, on_fire: pause }\n'
      )
    )
    const b = p.phases[1]!
    const minute = (m: number) => NOW.getTime() / 1000 - m * 60
    const series = (v: number) =>
      Array.from({ length: 11 }, (_, i) => [minute(10 - i), v] as [number, number])
    const fired = (v: number) =>
      evaluateTriggers(p, b, obs({ metric: 'response_time', value: v, series: series(v) }), [], NOW)
    expect(fired(3).map(t => t.fired)).toEqual([true, true])
    expect(fired(3)[0]!.reason).toBe('response_time 3 s breaches > 2 s (high)')
    expect(fired(0.5).map(t => t.status)).toEqual(['ok', 'ok'])
    expect(fired(0.5)[1]!.reason).toBe('response_time 0.5 s is within > 2 s (written > 2000ms)')
  })

  it('alerts and a phase’s rollback_threshold are converted into the metric’s unit', () => {
    const p = load(
      ladder(
        'rollback_threshold: {response_time: 3s}',
        IN_SECONDS + 'monitoring:\n  alerts:\n    response_time: {warning: 500ms, critical: 1s}\n'
      )
    )
    expect(p.alerts[0]).toMatchObject({ warning: 0.5, critical: 1, unit: 's' })
    expect(p.phases[0]!.rollbackThreshold).toEqual({ response_time: 3 })
    const alerts = evaluateAlerts(p.alerts, [{ metric: 'response_time', value: 1.2 }], NOW)
    expect(alerts[0]).toMatchObject({ severity: 'high' })
    expect(alerts[0]!.message).toBe(
      'response_time is 1.2 s, above its critical threshold 1 s (high)'
    )
    expect(
      alertIssueBody(alerts[0]!, { phase: 'a', action: 'hold', reason: 'r' }, undefined)
    ).toContain('warning at 0.5 s, critical at 1 s')
  })

  it('latency names without a declared unit are in ms (_seconds names in s): the documented defaults', () => {
    expect(knownUnit('response_time')).toBe('ms')
    expect(knownUnit('p99_latency')).toBe('ms')
    expect(knownUnit('http_request_duration_seconds')).toBe('s')
    expect(knownUnit('latency_ms')).toBe('ms')
    expect(knownUnit('error_rate')).toBeUndefined()
    const p = load(
      ladder(
        'success_criteria: {response_time: "< 0.5s", http_request_duration_seconds: "< 250ms"}'
      )
    )
    expect(p.phases[0]!.successCriteria).toMatchObject({
      response_time: { value: 500, unit: 'ms' },
      http_request_duration_seconds: { value: 0.25, unit: 's' }
    })
  })

  it('a time threshold on a metric with no unit is refused at its line, with a hint', () => {
    const text = ladder('success_criteria: {queue_wait: "< 5s"}')
    const error = refusal(text)
    expect(error.location).toMatchObject({ file: FILE, line: lineOf(text, 'queue_wait') })
    expect(error.message).toMatch(/queue_wait: "< 5s" is a time, but queue_wait has no unit/)
    expect(error.hint).toMatch(/definitions: \{ queue_wait: \{ unit: s \} \}/)
  })

  it('a time threshold on a metric in a unit that is not a time is refused', () => {
    const text = ladder(
      '',
      'metrics:\n  definitions:\n    checkout_share: {unit: "%"}\n' +
        'rollback:\n  automatic_triggers:\n    - checkout_share > 5s\n'
    )
    const error = refusal(text)
    expect(error.location).toMatchObject({ line: lineOf(text, 'checkout_share > 5s') })
    expect(error.message).toMatch(/checkout_share is in %.*cannot be converted/)
    expect(error.hint).toMatch(/bare number in %/)
  })

  it('an alert mixing a bare number with a time is refused at the bare one', () => {
    const text = ladder(
      '',
      'monitoring:\n  alerts:\n    response_time:\n      warning: 500\n      critical: 1s\n'
    )
    const error = refusal(text)
    expect(error.location).toMatchObject({ line: lineOf(text, 'warning: 500') })
    expect(error.message).toMatch(/warning 500 has no unit but critical 1s has one/)
    expect(error.hint).toMatch(/500ms/)
  })

  it('bare numbers stay in the readings’ unit', () => {
    const p = load(ladder('success_criteria: {response_time: "< 0.5"}', IN_SECONDS))
    expect(p.phases[0]!.successCriteria.response_time).toMatchObject({ value: 0.5, unit: 's' })
    const q = load(ladder('success_criteria: {widget_score: "> 3"}'))
    expect(q.phases[0]!.successCriteria.widget_score).toEqual({
      op: '>',
      value: 3,
      source: '> 3'
    })
  })
})

describe('a comparison that calls the better side of a metric a breach is refused', () => {
  const wrong: Array<[string, string, string]> = [
    [
      'a success criterion on error_rate ">"',
      ladder('success_criteria: {error_rate: "> 0.01"}'),
      'error_rate'
    ],
    [
      'a success criterion on user_satisfaction "<"',
      ladder('success_criteria: {user_satisfaction: "< 0.9"}'),
      'user_satisfaction'
    ],
    [
      'a rollback trigger "error_rate < 0.02"',
      ladder('', 'rollback:\n  automatic_triggers:\n    - error_rate < 0.02\n'),
      'error_rate < 0.02'
    ],
    [
      'a rollback trigger "user_satisfaction > 0.5"',
      ladder('', 'rollback:\n  automatic_triggers:\n    - user_satisfaction > 0.5\n'),
      'user_satisfaction > 0.5'
    ],
    [
      'an observe-only trigger',
      ladder(
        '',
        'rollback:\n  automatic_triggers:\n    - { when: error_rate < 0.02, on_fire: observe }\n'
      ),
      'error_rate < 0.02'
    ],
    [
      'a pause trigger with for:',
      ladder(
        '',
        'metrics:\n  provider: prometheus\n  url: http://127.0.0.1:9\n  queries: {accuracy: "x"}\nrollback:\n  automatic_triggers:\n    - when: accuracy > 0.8\n      for: 10m\n      on_fire: pause\n'
      ),
      'accuracy > 0.8'
    ],
    [
      'a metrics_threshold gate',
      ladder('gates: [{type: metrics_threshold, thresholds: {latency_ms: "> 200"}}]'),
      'latency_ms'
    ],
    [
      'a crash-free rate trigger ">"',
      ladder('', 'rollback:\n  automatic_triggers:\n    - crash_free_rate > 0.99\n'),
      'crash_free_rate > 0.99'
    ]
  ]
  for (const [name, text, needle] of wrong) {
    it(`${name}, at its line, with how to declare the direction`, () => {
      const error = refusal(text)
      expect(error.location).toMatchObject({ file: FILE, line: lineOf(text, needle) })
      expect(error.message).toMatch(/compares the wrong way/)
      expect(error.hint).toMatch(/direction: (higher|lower)_is_worse/)
    })
  }

  it('a trend watching the better way of its metric is refused at the key', () => {
    const text = ladder(
      '',
      'monitoring:\n  trends:\n    user_satisfaction: { window: 1h, increase: 0.1 }\n'
    )
    const error = refusal(text)
    expect(error.location).toMatchObject({ line: lineOf(text, 'user_satisfaction') })
    expect(error.message).toMatch(
      /alerts when user_satisfaction rises, but a lower user_satisfaction is worse/
    )
    expect(error.hint).toMatch(/write decrease: instead.*direction: higher_is_worse/)
    const ok = load(
      ladder('', 'monitoring:\n  trends:\n    error_rate: { window: 10m, increase: 0.5 }\n')
    )
    expect(ok.trends).toHaveLength(1)
  })

  it('a rollback_threshold on a metric where lower is worse (it rolls back above) is refused', () => {
    const text = ladder('rollback_threshold: {user_satisfaction: 0.9}')
    const error = refusal(text)
    expect(error.message).toMatch(/rolls back when user_satisfaction rises above 0.9/)
    expect(error.hint).toMatch(/"user_satisfaction < 0.9" under rollback.automatic_triggers/)
    // With the trigger written the way it means, the phase's number replaces the trigger's.
    const ok = load(
      ladder(
        'rollback_threshold: {user_satisfaction: 0.9}',
        'rollback:\n  automatic_triggers:\n    - user_satisfaction < 0.8\n'
      )
    )
    expect(ok.phases[0]!.rollbackThreshold).toEqual({ user_satisfaction: 0.9 })
  })

  it('a declared direction is obeyed: error_rate declared lower_is_worse may trigger on "<"', () => {
    const p = load(
      ladder(
        '',
        'metrics:\n  definitions:\n    error_rate: {direction: lower_is_worse}\n' +
          'rollback:\n  automatic_triggers:\n    - error_rate < 0.02\n'
      )
    )
    expect(p.triggers).toHaveLength(1)
    const error = refusal(
      ladder(
        '',
        'metrics:\n  definitions:\n    widget_score: {direction: lower_is_worse}\nrollback:\n  automatic_triggers:\n    - widget_score > 3\n'
      )
    )
    expect(error.message).toMatch(/metrics.definitions.widget_score.direction/)
  })

  it('a metric with no known direction may not be compared both ways (experiments read it)', () => {
    const text = ladder(
      'success_criteria: {widget_score: "> 5"}',
      'rollback:\n  automatic_triggers:\n    - widget_score > 10\n'
    )
    const error = refusal(text)
    expect(error.location).toMatchObject({ line: lineOf(text, 'widget_score: "> 5"') })
    expect(error.message).toMatch(
      /says a lower widget_score is worse, but rollback.automatic_triggers\[0\] says a higher one is/
    )
    expect(error.hint).toMatch(/direction: higher_is_worse/)
    const agreeing = load(
      ladder(
        'success_criteria: {widget_score: "> 5"}',
        'rollback:\n  automatic_triggers:\n    - widget_score < 2\n'
      )
    )
    expect(agreeing.triggers).toHaveLength(1)
  })

  it('an experiment success metric with no direction anywhere gets a notice at its line', () => {
    const experiment = (metrics: string, extra = '') =>
      ladder(
        '',
        extra +
          'experiments:\n  e:\n    groups: { control: { weight: 50 }, treatment: { weight: 50 } }\n' +
          `    success_metrics: [${metrics}]\n`
      )
    const text = experiment('time_on_page')
    expect(load(text).notices).toEqual([
      expect.stringMatching(
        new RegExp(
          `^${FILE}:${lineOf(text, 'success_metrics')}:\\d+: .*experiment "e": phasegate does not know whether a higher or a lower time_on_page is better.*hint: declare it`
        )
      )
    ])
    // Known, declared, or implied by the policy's own comparisons: no guess, no notice.
    expect(load(experiment('accuracy, response_time')).notices).toBeUndefined()
    expect(
      load(
        experiment(
          'time_on_page',
          'metrics:\n  definitions:\n    time_on_page: {direction: lower_is_worse}\n'
        )
      ).notices
    ).toBeUndefined()
    expect(
      load(
        experiment('time_on_page', 'rollback:\n  automatic_triggers:\n    - time_on_page < 10\n')
      ).notices
    ).toBeUndefined()
  })
})
