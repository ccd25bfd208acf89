import { createHash } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import { PhasegateError } from '../../../src/errors.js'
import { parsePolicyText } from '../../../src/policy/load.js'
import { SEED_POLICY_TEXT, seedPolicy } from '../../support/policies.js'

describe("the seed's production_deployment.yaml", () => {
  it('is byte for byte the restored seed file (shared/seed/production_deployment.yaml)', () => {
    expect(createHash('sha256').update(SEED_POLICY_TEXT).digest('hex')).toBe(
      '4fdd144b2143a94c42a44516d1eb6d8152d43a1cfbb636b42fd60eaf92cdf858'
    )
  })

  it('validates unchanged and yields the five-phase ladder', () => {
    const policy = seedPolicy()
    expect(policy.feature).toBe('production_deployment')
    expect(policy.phases.map(p => p.name)).toEqual([
      'development',
      'staging',
      'canary',
      'limited_production',
      'full_production'
    ])
  })

  it("carries the seed's PhaseConfig as per-phase defaults, but no rollback threshold nobody wrote", () => {
    const byName = Object.fromEntries(seedPolicy().phases.map(p => [p.name, p]))
    expect(byName.development).toMatchObject({
      enabled: true,
      userPercentage: 100,
      featureFlags: ['all_features'],
      monitoringLevel: 'debug'
    })
    expect(byName.staging).toMatchObject({
      userPercentage: 100,
      featureFlags: ['core_features'],
      monitoringLevel: 'info'
    })
    expect(byName.canary).toMatchObject({
      userPercentage: 1,
      monitoringLevel: 'warn'
    })
    expect(byName.limited_production).toMatchObject({
      userPercentage: 10,
      monitoringLevel: 'warn'
    })
    expect(byName.full_production).toMatchObject({
      userPercentage: 100,
      monitoringLevel: 'error'
    })
    for (const phase of Object.values(byName)) expect(phase.rollbackThreshold).toEqual({})
    expect(byName.development!.origins).toEqual({
      userPercentage: 'seed default',
      featureFlags: 'seed default',
      monitoringLevel: 'seed default'
    })
    expect(byName.canary!.origins.userPercentage).toBe('policy')
  })

  it('reads thresholds, durations and units as the seed writes them', () => {
    const policy = seedPolicy()
    const canary = policy.phases[2]!
    expect(canary.durationMs).toBe(24 * 3_600_000)
    expect(canary.successCriteria.error_rate).toEqual({ op: '<', value: 0.01, source: '< 0.01' })
    expect(canary.successCriteria.user_satisfaction).toEqual({
      op: '>',
      value: 0.95,
      source: '> 0.95'
    })
    expect(policy.phases[3]!.durationMs).toBe(72 * 3_600_000)
    expect(policy.phases[4]!.durationMs).toBeNull()
    expect(policy.alerts.find(a => a.metric === 'response_time')).toMatchObject({
      warning: 5000,
      critical: 10000
    })
    expect(policy.experiments[0]).toMatchObject({
      name: 'dspy_vs_traditional',
      durationMs: 30 * 86_400_000,
      minimumSampleSize: 1000,
      seed: 'dspy_vs_traditional'
    })
    expect(policy.triggers).toEqual([
      {
        kind: 'metric',
        metric: 'error_rate',
        threshold: { op: '>', value: 0.02, source: '> 0.02' },
        forMs: 0,
        source: 'error_rate > 0.02'
      },
      {
        kind: 'metric',
        metric: 'performance_degradation',
        threshold: { op: '>', value: 0.3, source: '> 0.3' },
        forMs: 0,
        source: 'performance_degradation > 0.3'
      },
      { kind: 'system_failure', source: 'system_failure' }
    ])
    expect(policy.rollback.emergencyContacts).toEqual([
      { team: 'engineering', oncall: true },
      { team: 'product', oncall: false }
    ])
  })

  it('turns success_criteria and duration into gates, with a manual approval on every phase', () => {
    const canary = seedPolicy().phases[2]!
    expect(canary.gates.map(g => `${g.type}:${g.name}`)).toEqual([
      'metrics_threshold:success_criteria',
      'time_based:duration',
      'manual_approval:approval'
    ])
  })

  it('with "> 0.95" unquoted, fails at that line and says to quote it', () => {
    const broken = SEED_POLICY_TEXT.replace(
      'user_satisfaction: "> 0.95"',
      'user_satisfaction: > 0.95'
    )
    const line = broken.split('\n').findIndex(l => l.includes('user_satisfaction: > 0.95')) + 1
    let error: unknown
    try {
      parsePolicyText(broken, 'policies/production_deployment.yaml')
    } catch (e) {
      error = e
    }
    expect(error).toBeInstanceOf(PhasegateError)
    const formatted = (error as PhasegateError).format()
    expect(formatted).toMatch(new RegExp(`^policies/production_deployment\\.yaml:${line}:\\d+: `))
    expect(formatted).toContain('quote the threshold')
    expect(formatted.split('\n')).toHaveLength(1)
  })
})
