import { afterAll, describe, expect, test } from 'vitest'
import { parsePolicyText } from '../../../src/policy/load.js'
import { initialState, renderState } from '../../../src/state/file.js'
import { cli, removeTempRepos, sh, tempRepo, writeMetrics } from '../../support/repo.js'

// The CLI's tick with one policy that cannot be evaluated: rolling back may not wait, so another
// feature's rollback is committed; advancing may, so no advance is; the exit code says it failed.

afterAll(removeTempRepos)

const policyText = (feature: string) => `feature: ${feature}
deployment:
  order: [canary, limited, full]
  phases:
    canary: { user_percentage: 5 }
    limited:
      user_percentage: 25
      gates:
        - type: metrics_threshold
          thresholds: { error_rate: "< 0.01" }
    full: { user_percentage: 100 }
rollback:
  automatic_triggers:
    - error_rate > 0.05
`

const BROKEN = `feature: broken
deployment:
  order: [canary, full]
  phases:
    canary: { user_percentage: 5 }
    full: { user_percentage: 100 }
rollback:
  automatic_triggers:
    - error_rate >> 0.05
`

function files(feature: string, phase: string): Record<string, string> {
  const text = policyText(feature)
  const policy = parsePolicyText(text, `${feature}.yaml`)
  return {
    [`policies/${feature}.yaml`]: text,
    [policy.statePath]: renderState({
      ...initialState(policy, new Date('2026-11-27T09:00:00Z')),
      phase
    })
  }
}

describe('phasegate tick beside a broken policy', () => {
  test("commits another feature's rollback, no advance, and exits 1 naming the broken file", async () => {
    const dir = tempRepo({
      ...files('search', 'full'),
      ...files('ladder', 'limited'),
      'policies/broken.yaml': BROKEN
    })
    writeMetrics(dir, { error_rate: 0.5 }, 'search')
    writeMetrics(dir, { error_rate: 0.001 }, 'ladder')
    const run = await cli(dir, 'tick', '--now', '2026-11-28T09:00:00Z')
    expect(run.code).toBe(1)
    expect(run.err).toMatch(/^phasegate: policies\/broken\.yaml:9:/)
    expect(run.out).toMatch(/search: rollback full -> limited; committed [0-9a-f]{10}/)
    expect(sh(dir, 'git', 'show', 'HEAD:.phasegate/state/search.yaml')).toContain('phase: limited')
    // ladder would advance limited -> full; advancing waits while a policy is broken.
    expect(sh(dir, 'git', 'show', 'HEAD:.phasegate/state/ladder.yaml')).toContain('phase: limited')
    expect(sh(dir, 'git', 'log', '--format=%s')).not.toMatch(/ladder/)
  })
})
