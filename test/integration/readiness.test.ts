import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { at, HEALTHY } from '../support/policies.js'
import { cli, sh, tempRepo, writeMetrics } from '../support/repo.js'

// The seed's section 6 "Production Readiness Tests", translated: each runs the CLI against a real
// git repository holding the seed's policy, and reads the result back from git.

const statePhase = (dir: string) =>
  /^phase: (\S+)$/m.exec(
    readFileSync(join(dir, '.phasegate/state/production_deployment.yaml'), 'utf8')
  )![1]

describe('Deployment Phases', () => {
  it('can advance through all deployment phases, in order', async () => {
    const dir = tempRepo()
    writeMetrics(dir, HEALTHY)
    expect((await cli(dir, 'init', '--now', at(0).toISOString())).code).toBe(0)
    expect(statePhase(dir)).toBe('development')
    const seen = []
    // canary needs 24h, limited_production 72h: tick far enough apart that time gates pass.
    for (const hour of [1, 2, 30, 110]) {
      const run = await cli(dir, 'tick', '--approved-by', 'alice', '--now', at(hour).toISOString())
      expect(run.code, run.err).toBe(0)
      seen.push(statePhase(dir))
    }
    expect(seen).toEqual(['staging', 'canary', 'limited_production', 'full_production'])
    const final = await cli(dir, 'tick', '--approved-by', 'alice', '--now', at(500).toISOString())
    expect(final.out).toContain('full_production is the final phase')
    const history = JSON.parse((await cli(dir, 'history', '--json')).out)
    expect(history.map((h: { kind: string; to: string }) => `${h.kind}:${h.to}`).reverse()).toEqual(
      [
        'init:development',
        'advance:staging',
        'advance:canary',
        'advance:limited_production',
        'advance:full_production'
      ]
    )
  })

  it('rollback works correctly: after two advances it returns to staging', async () => {
    const dir = tempRepo()
    writeMetrics(dir, HEALTHY)
    await cli(dir, 'init', '--now', at(0).toISOString())
    await cli(dir, 'tick', '--approved-by', 'alice', '--now', at(1).toISOString())
    await cli(dir, 'tick', '--approved-by', 'alice', '--now', at(2).toISOString())
    expect(statePhase(dir)).toBe('canary')
    const advance = sh(dir, 'git', 'rev-parse', 'HEAD')
    const run = await cli(
      dir,
      'rollback',
      '--reason',
      'Test rollback',
      '--operator',
      'oncall-olga',
      '--now',
      at(3).toISOString()
    )
    expect(run.code, run.err).toBe(0)
    expect(statePhase(dir)).toBe('staging')
    const message = sh(dir, 'git', 'log', '-1', '--format=%B')
    expect(message).toContain(`This reverts commit ${advance}.`)
    expect(message).toContain('Phasegate-Kind: rollback')
    expect(message).toContain('Phasegate-Reason: manual rollback by oncall-olga: Test rollback')
    expect(sh(dir, 'git', 'status', '--porcelain')).toBe('')
  })
})

describe('Monitoring and Alerts', () => {
  it('alerts are triggered when thresholds are exceeded (error rate 0.05)', async () => {
    const dir = tempRepo()
    writeMetrics(dir, { ...HEALTHY, error_rate: 0.05 })
    // A rollout decides (and alerts) once started; before init, status says it has not started.
    await cli(dir, 'init', '--now', at(0).toISOString())
    const run = await cli(dir, 'status', '--json', '--now', at(1).toISOString())
    const [report] = JSON.parse(run.out)
    expect(report.decision.alerts.some((a: { metric: string }) => a.metric === 'error_rate')).toBe(
      true
    )
  })
})
