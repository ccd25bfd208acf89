// attack16: the experiments panel must say what the analysis says. Fisher's exact test stands in
// when a rate has too few events, and the analysis gives no verdict from it ("too little data").
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { dashboard } from '../../src/commands/dashboard.js'
import { init } from '../../src/commands/init.js'
import { at } from '../support/policies.js'
import { tempRepo, writeMetrics } from '../support/repo.js'

describe('attack16: significance as the analysis judges it', () => {
  it('a comparison with too little data is not shown as significant', async () => {
    const dir = tempRepo()
    await init({ cwd: dir, policies: [], now: at(0) })
    // accuracy (a rate): control 100/100 right, treatment 88/100: 12 failures in all, too few
    // expected failures per group for the normal approximation.
    writeMetrics(dir, {
      groups: {
        control: { accuracy: { value: 1, samples: 100 } },
        treatment: { accuracy: { value: 0.88, samples: 100 } }
      }
    })
    const { model, files } = await dashboard({
      cwd: dir,
      policies: [],
      out: join(dir, 'site'),
      now: at(1),
      env: {}
    })
    const analysis = model.features[0]!.experiments[0]!.analysis!
    const accuracy = analysis.metrics.find(m => m.metric === 'accuracy')!.comparisons[0]!
    expect(accuracy.outcome).toBe('too_little_data') // the analysis: no verdict
    const page = readFileSync(join(files.dir, 'features', 'production_deployment.html'), 'utf8')
    const row =
      /<tr data-metric="accuracy"><th scope="row">accuracy<\/th><td>treatment vs control<\/td>.*?<\/tr>/s.exec(
        page
      )?.[0] ?? ''
    expect(row).not.toBe('')
    expect(/data-cell="significant">(.*?)<\/td>/.exec(row)?.[1]).not.toBe('yes')
  })
})
