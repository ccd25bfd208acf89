import { rmSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { tick } from '../../src/commands/tick.js'
import { decide } from '../../src/engine/decide.js'
import { previousPhase } from '../../src/engine/ladder.js'
import { requiredReadings } from '../../src/engine/requests.js'
import type { MetricReading, Policy, State } from '../../src/engine/types.js'
import { createProvider } from '../../src/metrics/index.js'
import type { MetricRequest } from '../../src/metrics/provider.js'
import { parsePolicyText } from '../../src/policy/load.js'
import { initialState, writeState } from '../../src/state/file.js'
import { scenarioPolicyText, scenarioRepo } from '../support/policy.js'
import { startPrometheus, type PrometheusServer } from '../support/prometheus.js'
import {
  expected,
  FEATURE,
  GROUPS,
  openMetrics,
  SPIKE_START,
  STEADY,
  type Group
} from '../support/scenario.js'

const WINDOW = '5m'
const WINDOW_S = 300
const MINUTE = 60

let prometheus: PrometheusServer
let policy: Policy

beforeAll(async () => {
  prometheus = await startPrometheus(openMetrics())
  policy = parsePolicyText(scenarioPolicyText(prometheus.url), 'production_deployment.yaml')
})

afterAll(async () => {
  await prometheus?.remove()
})

async function read(requests: MetricRequest[], atS: number): Promise<MetricReading[]> {
  return createProvider(policy.metrics).read(requests, {
    feature: FEATURE,
    phase: 'canary',
    now: new Date(atS * 1000),
    baseDir: '.',
    window: WINDOW,
    env: {}
  })
}

function canary(atS: number): State {
  return { ...initialState(policy, new Date(atS * 1000 - 3600_000)), phase: 'canary' }
}

async function decideAt(atS: number) {
  const state = canary(atS)
  const readings = await read(requiredReadings(policy, state), atS)
  return decide(policy, state, { readings, approvals: [], checks: [] }, new Date(atS * 1000))
}

/** The rollout-wide error rate at every point of the range query decide() asks for at `t`. */
function errorRateHeldFor10m(t: number): boolean {
  for (let point = t - 10 * MINUTE; point <= t; point += MINUTE)
    if (!(expected.errorRate(point, WINDOW_S) > 0.02)) return false
  return true
}

describe('the prometheus provider against a real Prometheus', () => {
  it('reads every seed metric per experiment group and for the whole rollout as the scenario says', async () => {
    const metrics = [
      'error_rate',
      'performance_degradation',
      'response_time',
      'user_satisfaction',
      'accuracy',
      'cost_per_request'
    ]
    const scopes: Array<Group | undefined> = [undefined, ...GROUPS]
    const requests = scopes.flatMap(group =>
      metrics.map(metric => (group ? { metric, group } : { metric }))
    )
    const readings = await read(requests, STEADY)
    const got = (metric: string, group?: Group) => {
      const found = readings.find(r => r.metric === metric && r.group === group)
      expect(found?.reason).toBeUndefined()
      return found!.value
    }
    const twoHoursEarlier = STEADY - 2 * 3600
    for (const group of scopes) {
      expect(got('error_rate', group)).toBeCloseTo(expected.errorRate(STEADY, WINDOW_S, group), 12)
      expect(got('response_time', group)).toBeCloseTo(
        expected.responseTimeMs(STEADY, WINDOW_S, group),
        9
      )
      expect(got('cost_per_request', group)).toBeCloseTo(
        expected.costPerRequest(STEADY, WINDOW_S, group),
        12
      )
      expect(got('user_satisfaction', group)).toBeCloseTo(
        expected.userSatisfaction(STEADY, group),
        12
      )
      expect(got('accuracy', group)).toBeCloseTo(expected.accuracy(STEADY, group), 12)
    }
    const latency = (group?: Group, at = STEADY) => expected.responseTimeMs(at, WINDOW_S, group)
    expect(got('performance_degradation', 'control')).toBe(0)
    expect(got('performance_degradation', 'treatment')).toBeCloseTo(
      latency('treatment') / latency('control') - 1,
      12
    )
    expect(got('performance_degradation')).toBeCloseTo(
      latency(undefined) / latency(undefined, twoHoursEarlier) - 1,
      12
    )
    // The scenario's own numbers, so a wrong expectation function cannot hide a wrong reading.
    expect(got('error_rate', 'treatment')).toBeCloseTo(0.006, 12)
    expect(got('response_time', 'treatment')).toBeCloseTo(840, 9)
    expect(got('performance_degradation', 'treatment')).toBeCloseTo(0.05, 12)
    expect(got('performance_degradation')).toBeCloseTo(0.025, 12)
  })

  it('returns range data oldest first, one point per step, ending at the evaluation time', async () => {
    const [reading] = await read(
      [{ metric: 'error_rate', rangeMs: 10 * 60_000 }],
      SPIKE_START + 5 * MINUTE
    )
    const end = SPIKE_START + 5 * MINUTE
    expect(reading!.series!.map(([t]) => t)).toEqual(
      Array.from({ length: 11 }, (_, i) => end - 10 * MINUTE + i * MINUTE)
    )
    for (const [t, value] of reading!.series!)
      expect(value).toBeCloseTo(expected.errorRate(t, WINDOW_S), 12)
    expect(reading!.value).toBeCloseTo(expected.errorRate(end, WINDOW_S), 12)
  })

  it('fires a `for: 10m` error-rate trigger only once the spike has lasted 10 minutes', async () => {
    const fired: number[] = []
    for (let t = SPIKE_START - 2 * MINUTE; t <= SPIKE_START + 20 * MINUTE; t += MINUTE) {
      const decision = await decideAt(t)
      const trigger = decision.triggers.find(r => r.trigger.startsWith('error_rate'))!
      expect(trigger.fired, `at spike + ${(t - SPIKE_START) / MINUTE}m: ${trigger.reason}`).toBe(
        errorRateHeldFor10m(t)
      )
      if (trigger.fired) fired.push(t)
    }
    // The breach starts a little after the spike (the 5m rate window fills), so the first firing
    // tick is 10 to 15 minutes into the spike, and it keeps firing after that.
    expect(fired.length).toBeGreaterThan(0)
    expect(fired[0]! - SPIKE_START).toBeGreaterThanOrEqual(10 * MINUTE)
    expect(fired[0]! - SPIKE_START).toBeLessThanOrEqual(10 * MINUTE + WINDOW_S)
    expect(fired).toEqual(Array.from({ length: fired.length }, (_, i) => fired[0]! + i * MINUTE))
    // A single-sample trigger would already have fired at the first minute of the breach.
    expect(expected.errorRate(fired[0]! - 5 * MINUTE, WINDOW_S)).toBeGreaterThan(0.02)
  })

  it('decides rollback at a moment inside the spike and hold before it', async () => {
    const before = await decideAt(SPIKE_START - MINUTE)
    expect(before.action).toBe('hold')
    expect(before.triggers.every(t => !t.fired)).toBe(true)
    const inside = await decideAt(SPIKE_START + 16 * MINUTE)
    expect(inside.action).toBe('rollback')
    expect(inside.target).toBe(previousPhase(policy, 'canary')!.name)
    expect(inside.reason).toMatch(/error_rate 0\.04\d* breaches > 0\.02/)
  })

  it('runs a dry-run tick of the seed policy: hold before the spike, rollback inside it', async () => {
    const repo = scenarioRepo(prometheus.url)
    try {
      const state = canary(SPIKE_START)
      writeState(join(repo.root, repo.policy.statePath), state)
      const tickAt = async (t: number) => {
        const [outcome] = await tick({
          cwd: repo.root,
          policies: [],
          now: new Date(t * 1000),
          dryRun: true,
          approvedBy: [],
          checks: []
        })
        return outcome!.decision
      }
      expect((await tickAt(SPIKE_START - MINUTE)).action).toBe('hold')
      const inside = await tickAt(SPIKE_START + 16 * MINUTE)
      expect(inside.action).toBe('rollback')
      expect(inside.transition?.evidence).toContainEqual(
        expect.objectContaining({ metric: 'error_rate', result: 'fired' })
      )
    } finally {
      rmSync(repo.root, { recursive: true, force: true })
    }
  })

  it("reads over the policy's metrics.window: 10m instead of the default 5m", async () => {
    const text = scenarioPolicyText(prometheus.url, { window: '10m' })
    const repo = scenarioRepo(prometheus.url, text)
    try {
      writeState(join(repo.root, repo.policy.statePath), canary(SPIKE_START))
      // Three minutes into the spike, a 10m window holds more of the calm before it than 5m does.
      const t = SPIKE_START + 3 * MINUTE
      const [outcome] = await tick({
        cwd: repo.root,
        policies: [],
        now: new Date(t * 1000),
        dryRun: true,
        approvedBy: [],
        checks: []
      })
      const alert = outcome!.decision.alerts.find(a => a.metric === 'error_rate')
      const tenMinutes = expected.errorRate(t, 600)
      expect(tenMinutes).not.toBeCloseTo(expected.errorRate(t, WINDOW_S), 3)
      expect(alert?.value).toBeCloseTo(tenMinutes, 12)
    } finally {
      rmSync(repo.root, { recursive: true, force: true })
    }
  })

  it('reports how many requests a value rests on, from the sample queries', async () => {
    const requests = (group: boolean) =>
      `sum(increase(app_requests_total{feature="{{feature}}"${group ? ',group="{{group}}"' : ''}}[{{window}}]))`
    const counted = parsePolicyText(
      scenarioPolicyText(prometheus.url, {
        sample_queries: { error_rate: requests(false) },
        group_sample_queries: { error_rate: requests(true) }
      }),
      'production_deployment.yaml'
    )
    const readings = await createProvider(counted.metrics).read(
      [
        { metric: 'error_rate' },
        { metric: 'error_rate', group: 'treatment' },
        { metric: 'accuracy' }
      ],
      {
        feature: FEATURE,
        phase: 'canary',
        now: new Date(STEADY * 1000),
        baseDir: '.',
        window: WINDOW,
        env: {}
      }
    )
    expect(readings[0]!.samples).toBe(expected.requests(WINDOW_S))
    expect(readings[1]!.samples).toBe(expected.requests(WINDOW_S, 'treatment'))
    expect(readings[1]!.samples).toBe(6000)
    expect(readings[2]).toEqual({ metric: 'accuracy', value: expect.closeTo(0.925, 12) })
  })

  it('reads system_failure from its query: the scenario system is up', async () => {
    const [reading] = await read([{ metric: 'system_failure' }], STEADY)
    expect(reading).toEqual({ metric: 'system_failure', value: 0 })
  })
})
