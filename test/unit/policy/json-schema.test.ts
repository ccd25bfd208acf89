import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { policyJsonSchema } from '../../../src/policy/json-schema.js'

describe('schema/policy.schema.json', () => {
  it('is what the zod schema generates (run `npm run schema` after changing the schema)', () => {
    const committed = readFileSync(
      new URL('../../../schema/policy.schema.json', import.meta.url),
      'utf8'
    )
    expect(committed).toBe(policyJsonSchema())
  })

  it('describes the seed policy keys editors complete', () => {
    const schema = JSON.parse(policyJsonSchema())
    expect(Object.keys(schema.properties)).toEqual([
      'feature',
      'state',
      'deployment',
      'experiments',
      'guardrails',
      'monitoring',
      'rollback',
      'metrics',
      'notifications'
    ])
    expect(schema.required).toEqual(['deployment'])
    expect(Object.keys(schema.properties.guardrails.additionalProperties.properties)).toEqual([
      'margin',
      'alpha',
      'minimum_sample_size',
      'on_fire'
    ])
    expect(schema.properties.guardrails.additionalProperties.properties.on_fire.enum).toEqual([
      'rollback',
      'pause',
      'observe'
    ])
  })
})
