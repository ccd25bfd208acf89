import { readFileSync } from 'node:fs'
import { Ajv2020 } from 'ajv/dist/2020.js'
import { describe, expect, it } from 'vitest'
import {
  combineDatafiles,
  datafileJsonSchema,
  featureDatafile,
  parseDatafile,
  renderDatafile
} from '../../../src/export/datafile.js'
import { seedPolicy, state } from '../../support/policies.js'

const policy = seedPolicy()
const schemaText = readFileSync(
  new URL('../../../schema/datafile.schema.json', import.meta.url),
  'utf8'
)

describe('the datafile', () => {
  it('the published JSON Schema is current (`npm run schema` writes it)', () => {
    expect(schemaText).toBe(datafileJsonSchema())
  })

  it('validates against its published JSON Schema, for one feature and the combined document', () => {
    const validate = new Ajv2020({ strict: false }).compile(JSON.parse(schemaText) as object)
    const one = featureDatafile(policy, state(policy, 'canary'), 'a'.repeat(40))
    expect(validate(one), JSON.stringify(validate.errors)).toBe(true)
    expect(validate(combineDatafiles([one]))).toBe(true)
    expect(validate({ ...one, user_percentage: 'ten' })).toBe(false)
  })

  it('carries what the feature exposes: phase, enabled, percentage, flags, monitoring, experiments', () => {
    const df = featureDatafile(policy, state(policy, 'canary'))
    const canary = policy.phases.find(p => p.name === 'canary')!
    expect(df).toMatchObject({
      feature: policy.feature,
      phase: 'canary',
      enabled: true,
      user_percentage: canary.userPercentage,
      feature_flags: canary.featureFlags,
      monitoring_level: canary.monitoringLevel,
      rollout: { hash_version: 2, salt: `rollout:${policy.feature}`, buckets: 10000 }
    })
    expect(df.experiments[0]).toMatchObject({
      name: policy.experiments[0]!.name,
      seed: policy.experiments[0]!.seed,
      hash_version: policy.experiments[0]!.hashVersion,
      status: 'running'
    })
  })

  it('turns the feature off when the kill switch is off, and before the rollout started', () => {
    expect(
      featureDatafile(policy, state(policy, 'full_production', { enabled: false })).enabled
    ).toBe(false)
    const notStarted = featureDatafile(policy, null)
    expect(notStarted).toMatchObject({ enabled: false, transition: null })
  })

  it('names the transition it reflects and the commit it was made on', () => {
    const s = state(policy, 'canary', {
      lastTransition: {
        kind: 'advance',
        from: 'staging',
        to: 'canary',
        at: '2026-03-02T09:00:00.000Z',
        reason: 'gates passed',
        approvers: [],
        evidence: []
      }
    })
    expect(featureDatafile(policy, s, 'b'.repeat(40)).transition).toEqual({
      kind: 'advance',
      from: 'staging',
      to: 'canary',
      at: '2026-03-02T09:00:00.000Z',
      made_on: 'b'.repeat(40)
    })
  })

  it('renders with a stable key order and reads back unchanged', () => {
    const df = featureDatafile(policy, state(policy, 'canary'))
    const text = renderDatafile(df)
    expect(Object.keys(JSON.parse(text) as object)).toEqual([
      'datafile_version',
      'feature',
      'phase',
      'enabled',
      'user_percentage',
      'feature_flags',
      'monitoring_level',
      'rollout',
      'experiments',
      'transition'
    ])
    expect(parseDatafile(text)).toEqual(combineDatafiles([df]))
    expect(renderDatafile(parseDatafile(text).features[policy.feature]!)).toBe(text)
  })

  it('refuses what is not a datafile, saying where', () => {
    expect(() => parseDatafile('{')).toThrow(/not JSON/)
    expect(() =>
      parseDatafile('{"datafile_version": 1, "features": {"a": {"feature": "a"}}}')
    ).toThrow(/not a phasegate datafile: features\.a/)
    const df = featureDatafile(policy, state(policy, 'canary'))
    expect(() =>
      parseDatafile(JSON.stringify({ datafile_version: 1, features: { other: df } }))
    ).toThrow(/features\.other describes feature/)
  })
})
