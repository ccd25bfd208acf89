import { readFileSync } from 'node:fs'
import { afterAll, describe, expect, it } from 'vitest'
import { at, HEALTHY, SEED_POLICY_PATH } from '../support/policies.js'
import { cli, removeTempRepos, sh, tempRepo, writeMetrics } from '../support/repo.js'

// Issue 12 through the CLI: what a policy says is what `validate` and `status` report.

afterAll(removeTempRepos)

describe('validate', () => {
  // monitoring.dashboards is read by `phasegate dashboard` (its panels), so it needs no notice.
  it('the seed policy validates with no notices: every key it writes is read', async () => {
    const dir = tempRepo()
    const run = await cli(dir, 'validate')
    expect(run.code).toBe(0)
    expect(run.out).not.toMatch(/notice:/)
    const json = JSON.parse((await cli(dir, 'validate', '--json')).out)
    expect(json[0].notices).toHaveLength(0)
  })
})

describe('status shows where each threshold came from', () => {
  it('--json lists every threshold in force with its policy path, and where each setting came from', async () => {
    const dir = tempRepo()
    writeMetrics(dir, HEALTHY)
    await cli(dir, 'init', '--now', at(0).toISOString())
    const run = await cli(dir, 'status', '--json', '--now', at(1).toISOString())
    expect(run.code).toBe(0)
    const [report] = JSON.parse(run.out)
    expect(report.settingOrigins).toEqual({
      userPercentage: 'seed default',
      featureFlags: 'seed default',
      monitoringLevel: 'seed default'
    })
    expect(report.exposure).toMatchObject({
      phase: 'development',
      enabled: true,
      userPercentage: 100
    })
    expect(report.thresholds).toEqual(
      expect.arrayContaining([
        {
          use: 'trigger',
          name: 'error_rate > 0.02',
          metric: 'error_rate',
          threshold: '> 0.02',
          from: 'rollback.automatic_triggers[0]'
        },
        {
          use: 'alert',
          name: 'alert',
          metric: 'error_rate',
          threshold: 'warning 0.01, critical 0.02 (higher is worse)',
          from: 'monitoring.alerts.error_rate'
        }
      ])
    )
    // The seed's built-in rollback_threshold for development (0.1) is not in force.
    expect(report.thresholds.filter((t: { use: string }) => t.use === 'trigger')).toHaveLength(2)
  })

  it('the text report lists them too', async () => {
    const dir = tempRepo()
    writeMetrics(dir, HEALTHY)
    await cli(dir, 'init', '--now', at(0).toISOString())
    const run = await cli(dir, 'status', '--now', at(1).toISOString())
    expect(run.out).toContain('thresholds, and where the policy writes them:')
    expect(run.out).toMatch(/trigger error_rate\s+> 0\.02 {2}\(rollback\.automatic_triggers\[0\]\)/)
  })
})

describe('a metric the file provider cannot know in advance (kind 6)', () => {
  it('a misspelt trigger metric is a visible "no data" with a did-you-mean, not silence', async () => {
    const text = readFileSync(SEED_POLICY_PATH, 'utf8').replace(
      '- error_rate > 0.02',
      '- eror_rate > 0.02'
    )
    const dir = tempRepo({ 'policies/production_deployment.yaml': text })
    writeMetrics(dir, HEALTHY)
    await cli(dir, 'init', '--now', at(0).toISOString())
    const run = await cli(dir, 'status', '--json', '--now', at(1).toISOString())
    const [report] = JSON.parse(run.out)
    const trigger = report.decision.triggers.find((t: { trigger: string }) =>
      t.trigger.startsWith('eror_rate')
    )
    expect(trigger.fired).toBe(false)
    expect(trigger.reason).toMatch(/eror_rate is not in .* \(did you mean "error_rate"\?/)
  })
})

describe('tick with rollback.manual_approval_required (kind 4)', () => {
  it('commits no automatic metric rollback and says it needs approval', async () => {
    const text = readFileSync(SEED_POLICY_PATH, 'utf8').replace(
      'manual_approval_required: false',
      'manual_approval_required: true'
    )
    const dir = tempRepo({ 'policies/production_deployment.yaml': text })
    writeMetrics(dir, HEALTHY)
    await cli(dir, 'init', '--now', at(0).toISOString())
    await cli(dir, 'tick', '--approved-by', 'alice', '--now', at(1).toISOString())
    const head = sh(dir, 'git', 'rev-parse', 'HEAD')
    writeMetrics(dir, { ...HEALTHY, error_rate: 0.05 })
    const run = await cli(dir, 'tick', '--now', at(2).toISOString())
    expect(run.code).toBe(0)
    expect(run.out).toContain('ROLLBACK NEEDS APPROVAL (rollback.manual_approval_required)')
    expect(sh(dir, 'git', 'rev-parse', 'HEAD')).toBe(head)
  })
})
