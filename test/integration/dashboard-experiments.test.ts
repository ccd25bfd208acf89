// The experiments panel says what the analysis (experiments/analysis.ts) says: significance only
// where it gives a verdict, and the interval named by the kind it is.
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { dashboard } from '../../src/commands/dashboard.js'
import { init } from '../../src/commands/init.js'
import { at } from '../support/policies.js'
import { tempRepo, writeMetrics } from '../support/repo.js'

describe('dashboard experiments panel', () => {
  it('a comparison with too little data is not shown as significant, and its interval is named fixed-horizon', async () => {
    const dir = tempRepo()
    await init({ cwd: dir, policies: [], now: at(0) })
    // accuracy (a rate): control 100/100 right, treatment 88/100: 12 failures in all, too few
    // expected failures per group for the normal approximation: Fisher's exact p < alpha, and
    // the analysis gives no verdict from it.
    writeMetrics(dir, {
      groups: {
        control: {
          accuracy: { value: 1, samples: 100 },
          user_satisfaction: { value: 0.5, samples: 2000 }
        },
        treatment: {
          accuracy: { value: 0.88, samples: 100 },
          user_satisfaction: { value: 0.52, samples: 2000 }
        }
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
    expect(accuracy.outcome).toBe('too_little_data')
    expect(accuracy.adjustedPValue).toBeLessThan(analysis.alpha)
    const satisfaction = analysis.metrics.find(m => m.metric === 'user_satisfaction')!
    expect(satisfaction.comparisons[0]!.sequential).toBeDefined()
    const page = readFileSync(join(files.dir, 'features', 'production_deployment.html'), 'utf8')
    const row =
      /<tr data-metric="accuracy"><th scope="row">accuracy<\/th><td>treatment vs control<\/td>.*?<\/tr>/s.exec(
        page
      )?.[0] ?? ''
    expect(row).not.toBe('')
    expect(/data-cell="significant">(.*?)<\/td>/.exec(row)?.[1]).toBe(
      'no verdict (too little data)'
    )
    // The caption names both kinds, and the row with a fixed-horizon interval says it is one.
    expect(/data-cell="interval">(.*?)<\/td>/.exec(row)?.[1]).toMatch(/\(fixed-horizon\)/)
    expect(page).toMatch(
      /Statistical significance \(always-valid; fixed-horizon where there is too little data,/
    )
    expect(page).toMatch(
      /relative change and interval \(always-valid; fixed-horizon where there is too little data\)/
    )
    // The performance table names its intervals' kind, and the outcome in words.
    expect(page).toContain(
      '<th scope="col">Interval (always-valid; fixed-horizon where there is too little data)</th>'
    )
    expect(page).toMatch(/\(fixed-horizon\)<\/small><\/td><td>too little data<\/td>/)
  })
})
