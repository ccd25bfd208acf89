import { describe, expect, it } from 'vitest'
import { HEALTHY, SEED_POLICY_TEXT } from '../support/policies.js'
import { writeMetrics } from '../support/repo.js'
import { rolloutAtCanary, tick } from '../support/rollouts.js'

// attack15 F4: a phase's rollback_threshold replaces the threshold of a written trigger that
// rolls back; an observe-only (or pausing) trial on the same metric must neither take that
// threshold nor turn the phase's own rollback into a report.

/** The seed policy with canary's own rollback_threshold for error_rate, and `triggers` instead of its error_rate trigger. */
const withCanaryThreshold = (errorRateTrigger: string) =>
  SEED_POLICY_TEXT.replace(
    '    canary:\n      user_percentage: 1\n',
    '    canary:\n      user_percentage: 1\n      rollback_threshold:\n        error_rate: 0.03\n'
  ).replace('    - error_rate > 0.02\n', errorRateTrigger)

async function canaryAtErrorRate(policyText: string, errorRate: number) {
  const dir = await rolloutAtCanary(policyText)
  writeMetrics(dir, { ...HEALTHY, error_rate: errorRate })
  return tick(dir, 3)
}

describe('an observe-only trial never softens a rollback the policy already has', () => {
  it("adding an observe-only trigger on a metric leaves canary's own rollback_threshold rolling back", async () => {
    const before = await canaryAtErrorRate(withCanaryThreshold(''), 0.05)
    expect(before.out).toContain('ROLL BACK canary -> staging')
    const trial = await canaryAtErrorRate(
      withCanaryThreshold('    - { when: error_rate > 0.01, on_fire: observe }\n'),
      0.05
    )
    expect(trial.out, trial.out).toContain('ROLL BACK canary -> staging')
  })

  it('the trial keeps its own threshold: it fires at 0.02, where the rollback threshold does not', async () => {
    const trial = await canaryAtErrorRate(
      withCanaryThreshold('    - { when: error_rate > 0.01, on_fire: observe }\n'),
      0.02
    )
    expect(trial.out, trial.out).not.toContain('ROLL BACK')
    expect(trial.out, trial.out).toMatch(/observe-only.*error_rate 0\.02/)
  })
})
