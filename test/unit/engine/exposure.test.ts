import { describe, expect, it } from 'vitest'
import { decide } from '../../../src/engine/decide.js'
import { exposureOf } from '../../../src/engine/exposure.js'
import { actionOutputs } from '../../../src/action/outcome.js'
import { exposureInForce } from '../../../src/rollout/exposure-raise.js'
import { renderReport } from '../../../src/report/markdown.js'
import { renderDecision } from '../../../src/report/text.js'
import { Feature } from '../../../src/sdk/index.js'
import { at, HEALTHY, observations, policy, seedPolicy, state } from '../../support/policies.js'

// Issue 12, kind 11: one answer to "is it on". Every surface (the text and markdown headers, the
// action's outputs, the SDK) must agree with exposureOf().

const seed = seedPolicy()
// canary at 1%, switched off by the phase itself
const disabledCanary = policy(
  'deployment:\n  phases:\n    canary: { user_percentage: 1, enabled: false }\n'
)

describe('exposureOf', () => {
  it('is the phase percentage and flags while everything is on', () => {
    expect(exposureOf(seed, state(seed, 'canary'))).toEqual({
      feature: 'production_deployment',
      phase: 'canary',
      enabled: true,
      userPercentage: 1,
      featureFlags: ['core_features'],
      monitoringLevel: 'warn',
      rollbackThreshold: {},
      finalPhase: false
    })
  })

  it.each([
    ['the kill switch is off', seed, state(seed, 'canary', { enabled: false }), 'kill switch'],
    [
      'the phase is enabled: false',
      disabledCanary,
      state(disabledCanary, 'canary'),
      'phase disabled'
    ],
    ['the rollout has not started', seed, null, 'not started']
  ] as const)('is off for everyone when %s', (_, p, s, off) => {
    expect(exposureOf(p, s)).toMatchObject({
      enabled: false,
      off,
      userPercentage: 0,
      featureFlags: []
    })
  })

  it('knows the final phase', () => {
    expect(exposureOf(seed, state(seed, 'full_production')).finalPhase).toBe(true)
  })
})

describe('every surface says what exposureOf says', () => {
  const cases = [
    ['kill switch off', seed, state(seed, 'canary', { enabled: false })],
    ['phase disabled', disabledCanary, state(disabledCanary, 'canary')],
    ['on', seed, state(seed, 'canary')]
  ] as const

  it.each(cases)('text and markdown headers (%s)', (_, p, s) => {
    const exposure = exposureOf(p, s)
    const decision = decide(p, s, observations(HEALTHY), at(1))
    const text = renderDecision(p, s, decision, at(1)).split('\n')[0]!
    const markdown = renderReport({ policy: p, state: s, decision })
    if (exposure.enabled) {
      expect(text).toContain('1% of users')
      expect(markdown).toContain('1% of users')
    } else {
      // Before: "1% of users" whatever the kill switch or the phase said.
      expect(text).not.toContain('% of users')
      expect(text).toContain(`off (${exposure.off})`)
      expect(markdown).not.toContain('% of users')
      expect(markdown).toContain(`off (${exposure.off})`)
    }
  })

  it.each(cases)("the action's outputs (%s)", (_, p, s) => {
    const exposure = exposureOf(p, s)
    const outputs = actionOutputs(exposureInForce(p, s, null, new Date()))
    // Before: a disabled phase was "enabled: true" at 1% in the outputs.
    expect(outputs.enabled).toBe(String(exposure.enabled))
    expect(outputs['user-percentage']).toBe(String(exposure.userPercentage))
    expect(JSON.parse(outputs['flags-json'])).toMatchObject({
      enabled: exposure.enabled,
      user_percentage: exposure.userPercentage,
      feature_flags: exposure.featureFlags
    })
  })

  it.each(cases)('the SDK (%s)', (_, p, s) => {
    const exposure = exposureOf(p, s)
    const phase = new Feature(p, s).phase()
    expect(phase).toMatchObject({
      name: exposure.phase,
      enabled: exposure.enabled,
      userPercentage: exposure.userPercentage,
      featureFlags: exposure.featureFlags
    })
  })
})

describe('the final phase', () => {
  it('shows no gate to pass, only its steady-state check, and says the rollout is complete', () => {
    const s = state(seed, 'full_production')
    const decision = decide(seed, s, observations(HEALTHY), at(100))
    // Before: a pending approval gate, with nothing to advance to. Now only the metric gate
    // (the seed's success_criteria), read as the steady-state check.
    expect(decision.gates.map(g => [g.gate, g.type, g.outcome])).toEqual([
      ['success_criteria', 'metrics_threshold', 'pass']
    ])
    expect(decision.awaitingApproval).toBe(false)
    const text = renderDecision(seed, s, decision, at(100))
    expect(text).not.toMatch(/approval/)
    expect(text).toContain('final phase: the rollout is complete; steady-state check')
  })
})
