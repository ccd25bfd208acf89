import { describe, expect, it } from 'vitest'
import { decide } from '../../../src/engine/decide.js'
import { renderReport } from '../../../src/report/markdown.js'
import { renderDecision } from '../../../src/report/text.js'
import { at, observations, seedPolicy, state } from '../../support/policies.js'

// Every report lists every rollback trigger: fired, breached but not fired (and why), no data,
// and ok. A trigger with no data is never shown, or recorded, as passing.

const seed = seedPolicy()
// The seed's triggers, with performance_degradation's at 0.15, below its 0.2 critical alert.
const policy = {
  ...seed,
  triggers: seed.triggers.map(t =>
    t.kind === 'metric' && t.metric === 'performance_degradation'
      ? {
          ...t,
          threshold: { op: '>' as const, value: 0.15, source: '> 0.15' },
          source: 'performance_degradation > 0.15'
        }
      : t
  )
}
const canary = state(policy, 'canary')
// 0.17 breaches 0.15 but its alert is only medium: breached, not fired. error_rate has no reading.
const decision = decide(
  policy,
  canary,
  observations({ performance_degradation: 0.17, system_failure: 0 }),
  at(2)
)

describe('the triggers section', () => {
  it('gives each trigger a status: breached, no data, ok', () => {
    expect(decision.triggers.map(t => [t.trigger, t.status])).toEqual([
      ['error_rate > 0.02', 'no_data'],
      ['performance_degradation > 0.15', 'breached'],
      ['system_failure', 'ok']
    ])
  })

  it('never records a trigger without data as pass', () => {
    const evidence = decision.triggers.flatMap(t => t.evidence)
    expect(evidence.map(e => e.result)).toEqual(['no_data', 'breached', 'ok'])
    expect(JSON.stringify(decision.triggers)).not.toContain('"pass"')
  })

  it('is in the text report, most urgent first, with why', () => {
    const text = renderDecision(policy, canary, decision, at(2))
    const lines = text.split('\n')
    const start = lines.indexOf('  rollback triggers:')
    expect(start).toBeGreaterThan(0)
    expect(lines.slice(start + 1, start + 4)).toEqual([
      expect.stringMatching(
        /^ {4}\[BREACH\] performance_degradation > 0\.15 +performance_degradation 0\.17 breaches > 0\.15 but its alert severity is medium; rollback needs high or critical$/
      ),
      expect.stringMatching(/^ {4}\[NO DATA\] error_rate > 0\.02 .* no reading for error_rate$/),
      expect.stringMatching(/^ {4}\[ok\] system_failure +system_failure reports the system up$/)
    ])
  })

  it('is in the markdown report as a table, with why for each that is not ok', () => {
    const md = renderReport({ policy, state: canary, decision })
    expect(md).toContain('#### Rollback triggers')
    expect(md).toContain(
      '| performance_degradation > 0.15 | 0.17 | > 0.15 | ⚠️ breached, not fired |'
    )
    expect(md).toContain('| error_rate > 0.02 | — | > 0.02 | ❔ no data |')
    expect(md).toContain('| system_failure | 0 | > 0 | ✅ ok |')
    expect(md).toContain('- **error_rate > 0.02** no data: no reading for error_rate')
  })

  it('says so when the policy has no triggers', () => {
    const bare = {
      ...policy,
      triggers: [],
      phases: policy.phases.map(p => ({ ...p, rollbackThreshold: {} }))
    }
    const d = decide(bare, canary, observations({}), at(2))
    expect(renderDecision(bare, canary, d, at(2))).toContain('  rollback triggers: none')
    expect(renderReport({ policy: bare, state: canary, decision: d })).toContain(
      '_No rollback triggers._'
    )
  })
})
