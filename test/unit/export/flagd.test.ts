import { readFileSync } from 'node:fs'
import { FlagdCore } from '@openfeature/flagd-core'
import { describe, expect, it } from 'vitest'
import { combineDatafiles, featureDatafile } from '../../../src/export/datafile.js'
import { flagdDocument } from '../../../src/export/flagd.js'
import { Feature } from '../../../src/sdk/index.js'
import { seedPolicy, state } from '../../support/policies.js'

const ids = JSON.parse(
  readFileSync(new URL('../../fixtures/assignment/ids.json', import.meta.url), 'utf8')
) as string[]
const policy = seedPolicy()
const F = policy.feature
const X = `${F}/${policy.experiments[0]!.name}`

function flagdAt(overrides: Parameters<typeof state>[2] = {}, phase = 'limited_production') {
  const s = state(policy, phase, {
    experiments: { dspy_vs_traditional: { status: 'running' } },
    ...overrides
  })
  const core = new FlagdCore()
  const text = JSON.stringify(flagdDocument(combineDatafiles([featureDatafile(policy, s)])))
  core.setConfigurations(text)
  return { core, feature: new Feature(policy, s) }
}

describe('flagd export, evaluated by flagd-core', () => {
  it('is accepted by flagd (its schema) and has one flag per feature, experiment and configuration', () => {
    const { core } = flagdAt()
    expect([...core.getFlags().keys()].sort()).toEqual([F, X, `${X}/configuration`])
    // flagd-core does validate: a definition its schema refuses is rejected whole.
    expect(() =>
      new FlagdCore().setConfigurations(JSON.stringify({ flags: { f: { state: 'ON' } } }))
    ).toThrow(/invalid flagd flag configuration/)
  })

  it('turns on the phase’s percentage of users, within tolerance, as the SDK does', () => {
    const { core, feature } = flagdAt()
    const flagdOn = ids.filter(
      id => core.resolveBooleanEvaluation(F, false, { targetingKey: id }).value
    ).length
    const sdkOn = ids.filter(id => feature.isOn(id)).length
    const expected = (feature.phase().userPercentage / 100) * ids.length
    // Binomial standard deviation at 10%, 10k ids: about 30; allow four of them.
    expect(Math.abs(flagdOn - expected)).toBeLessThan(4 * Math.sqrt(expected))
    expect(Math.abs(sdkOn - expected)).toBeLessThan(4 * Math.sqrt(expected))
  })

  it('answers off for everyone when the kill switch is off, even for a caller whose default is true', () => {
    const { core } = flagdAt({ enabled: false })
    const answers = ids
      .slice(0, 2000)
      .map(id => core.resolveBooleanEvaluation(F, true, { targetingKey: id }))
    expect(answers.every(a => a.value === false && a.variant === 'off')).toBe(true)
  })

  it('splits users inside the rollout by the experiment’s weights; others get the caller’s default', () => {
    const { core } = flagdAt({}, 'full_production')
    const groups = ids.map(
      id =>
        core.resolveStringEvaluation(X, 'default', {
          targetingKey: id
        }).value
    )
    const weights = policy.experiments[0]!.groups
    const total = weights.reduce((s, g) => s + g.weight, 0)
    for (const g of weights) {
      const seen = groups.filter(x => x === g.name).length
      const expected = (g.weight / total) * ids.length
      expect(Math.abs(seen - expected)).toBeLessThan(4 * Math.sqrt(expected) + 1)
    }
    const canary = flagdAt({}, 'canary').core
    const outside = ids.filter(
      id =>
        canary.resolveStringEvaluation(X, 'default', {
          targetingKey: id
        }).value === 'default'
    ).length
    expect(outside / ids.length).toBeGreaterThan(0.95)
    const config = core.resolveObjectEvaluation(
      `${X}/configuration`,
      {},
      { targetingKey: 'user-1' }
    )
    expect(weights.map(g => g.configuration)).toContainEqual(config.value)
  })

  it('answers the caller’s default while the experiment is stopped', () => {
    const { core } = flagdAt(
      { experiments: { dspy_vs_traditional: { status: 'stopped' } } },
      'full_production'
    )
    const answer = core.resolveStringEvaluation(X, 'default', {
      targetingKey: 'user-1'
    })
    expect(answer.value).toBe('default')
  })
})
