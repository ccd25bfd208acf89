import { afterAll, describe, expect, test } from 'vitest'
import { rollback, type RollbackOutcome } from '../../../src/commands/rollback.js'
import { tick } from '../../../src/commands/tick.js'
import { parsePolicyText } from '../../../src/policy/load.js'
import { initialState, renderState } from '../../../src/state/file.js'
import { removeTempRepos, sh, tempRepo, writeMetrics } from '../../support/repo.js'

// Reverting an advance whose state and datafile changed since (an advance and a rollback after
// it) conflicts only in phasegate's own files, which the rollback writes afresh: it must not stop.

afterAll(removeTempRepos)

const POLICY = `feature: ladder
deployment:
  order: [a, b, c]
  phases:
    a:
      user_percentage: 5
      gates:
        - type: metrics_threshold
          thresholds: { error_rate: "< 0.01" }
    b:
      user_percentage: 50
      gates:
        - type: metrics_threshold
          thresholds: { error_rate: "< 0.01" }
    c: { user_percentage: 100 }
rollback:
  automatic_triggers:
    - error_rate > 0.05
`

describe('an emergency after a rollback', () => {
  test('reverts the older advance although its state and datafile changed since', async () => {
    const policy = parsePolicyText(POLICY, 'ladder.yaml')
    const dir = tempRepo({
      'policies/ladder.yaml': POLICY,
      [policy.statePath]: renderState(initialState(policy, new Date('2026-11-27T09:00:00Z')))
    })
    const at = (h: number) => new Date(Date.parse('2026-11-28T00:00:00Z') + h * 3_600_000)
    const options = { cwd: dir, policies: [], dryRun: false, approvedBy: [], checks: [] }
    writeMetrics(dir, { error_rate: 0.001 }, 'ladder')
    await tick({ ...options, now: at(1) }) // a -> b
    await tick({ ...options, now: at(2) }) // b -> c
    writeMetrics(dir, { error_rate: 0.5 }, 'ladder')
    await tick({ ...options, now: at(3) }) // c -> b, reverting b -> c
    const done = await rollback({
      cwd: dir,
      policies: [],
      reason: 'still broken',
      emergency: true,
      operator: 'alice',
      now: at(4)
    })
    expect((done as RollbackOutcome).transition).toMatchObject({
      kind: 'emergency',
      from: 'b',
      to: 'a'
    })
    const state = sh(dir, 'git', 'show', `HEAD:${policy.statePath}`)
    expect(state).toMatch(/^phase: a$/m)
    expect(state).toMatch(/^enabled: false$/m)
    expect(sh(dir, 'git', 'status', '--porcelain')).toBe('')
  })
})
