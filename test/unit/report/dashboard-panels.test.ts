import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { PhasegateError } from '../../../src/errors.js'
import { parsePolicyText } from '../../../src/policy/load.js'

const SEED = readFileSync(
  new URL('../../../policies/production_deployment.yaml', import.meta.url),
  'utf8'
)

describe('monitoring.dashboards', () => {
  it('accepts the seed panels and deployment', () => {
    const text = SEED.replace('    - alert_summary\n', '    - alert_summary\n    - deployment\n')
    expect(parsePolicyText(text, 'p.yaml').dashboards).toEqual([
      'production_overview',
      'experiment_results',
      'performance_comparison',
      'alert_summary',
      'deployment'
    ])
  })

  it('rejects an unknown panel name at its file:line:col, naming the valid ones', () => {
    const text = SEED.replace('    - alert_summary\n', '    - alert_sumary\n')
    const line = text.split('\n').findIndex(l => l.includes('alert_sumary')) + 1
    let error: unknown
    try {
      parsePolicyText(text, 'p.yaml')
    } catch (e) {
      error = e
    }
    expect(error).toBeInstanceOf(PhasegateError)
    const formatted = (error as PhasegateError).format()
    expect(formatted).toContain(`p.yaml:${line}:7`)
    expect(formatted).toContain('alert_summary')
  })
})
