// usersPercentOf: the share of users a transition's datafile recorded, for the dashboard's audit
// trail; undefined (unknown) for anything that does not say it plainly.
import { describe, expect, it } from 'vitest'
import { featureDatafile, renderDatafile } from '../../../src/export/datafile.js'
import { usersPercentOf } from '../../../src/git/transitions.js'
import { parsePolicyText } from '../../../src/policy/load.js'

const policy = parsePolicyText(
  'feature: f\ndeployment:\n  order: [a, b]\n  phases:\n    a: {user_percentage: 7}\n    b: {user_percentage: 100}\n',
  'f.yaml'
)
const state = (enabled: boolean) => ({
  feature: 'f',
  phase: 'a',
  enteredAt: '2026-03-01T00:00:00.000Z',
  enabled,
  experiments: {}
})

describe('usersPercentOf', () => {
  it('reads the percentage a datafile phasegate rendered exposes, 0 with the kill switch off', () => {
    expect(usersPercentOf(renderDatafile(featureDatafile(policy, state(true))))).toBe(7)
    expect(usersPercentOf(renderDatafile(featureDatafile(policy, state(false))))).toBe(0)
  })

  it.each([
    ['not JSON', '{"enabled": true,'],
    ['no percentage', '{"enabled": true}'],
    ['a percentage of another type', '{"enabled": true, "user_percentage": "7"}'],
    ['no enabled', '{"user_percentage": 7}'],
    ['an array', '[1]'],
    ['null', 'null']
  ])('is unknown for %s', (_, text) => {
    expect(usersPercentOf(text)).toBeUndefined()
  })
})
