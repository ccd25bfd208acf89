import { execFileSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { createAssigner, isInRollout } from '../../../src/experiments/assignment.js'
import { featureDatafile } from '../../../src/export/datafile.js'
import { seedPolicy, state } from '../../support/policies.js'

const ids = JSON.parse(
  readFileSync(new URL('../../fixtures/assignment/ids.json', import.meta.url), 'utf8')
) as string[]

describe('the datafile carries what any language needs to assign users as `assign` does', () => {
  it('the Python reference in docs/assignment.md, fed only the datafile, agrees on every held id', () => {
    const policy = seedPolicy()
    const datafile = featureDatafile(policy, state(policy, 'limited_production'))
    const experiment = datafile.experiments[0]!
    const spec = {
      ids,
      rollout_salt: datafile.rollout.salt,
      percentage: datafile.user_percentage,
      seed: experiment.seed,
      groups: experiment.groups.map(g => [g.name, g.weight])
    }
    const python = JSON.parse(
      execFileSync(
        'python3',
        [new URL('../../support/assignment-reference.py', import.meta.url).pathname],
        {
          input: JSON.stringify(spec),
          maxBuffer: 64 * 1024 * 1024
        }
      ).toString()
    ) as { in_rollout: boolean[]; group: string[] }
    const assign = createAssigner(policy.experiments[0]!)
    expect(ids.length).toBeGreaterThanOrEqual(10_000)
    expect(python.in_rollout).toEqual(
      ids.map(id =>
        isInRollout(
          policy.feature,
          id,
          policy.phases.find(p => p.name === 'limited_production')!.userPercentage
        )
      )
    )
    expect(python.group).toEqual(ids.map(assign))
  })
})
