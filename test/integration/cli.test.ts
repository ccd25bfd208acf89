import { execFileSync, spawnSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it, onTestFinished } from 'vitest'
import { at, HEALTHY } from '../support/policies.js'
import { cli, sh, tempRepo, writeMetrics } from '../support/repo.js'

const BIN = new URL('../../bin/phasegate.js', import.meta.url).pathname
const STATE = '.phasegate/state/production_deployment.yaml'

describe('the quick start (phasegate demo)', () => {
  it('runs a whole rollout, and history --json lists every transition with its evidence', () => {
    const scratch = mkdtempSync(join(tmpdir(), 'phasegate-demo-test-'))
    onTestFinished(() => rmSync(scratch, { recursive: true, force: true }))
    const dir = join(scratch, 'repo')
    const out = execFileSync('node', [BIN, 'demo', '--keep', dir], { encoding: 'utf8' })
    expect(out).toContain('ADVANCE development -> staging')
    expect(out).toContain('ROLL BACK canary -> staging')
    const history = JSON.parse(
      execFileSync('node', [BIN, 'history', '--json', '-C', dir], { encoding: 'utf8' })
    )
    expect(
      history.map((h: { kind: string; from: string; to: string }) => `${h.kind} ${h.from}->${h.to}`)
    ).toEqual([
      'rollback canary->staging',
      'advance staging->canary',
      'advance development->staging',
      'init development->development'
    ])
    const [rollback, toCanary, toStaging] = history
    expect(rollback.reverts).toBe(toCanary.sha)
    expect(rollback.evidence).toEqual([
      expect.objectContaining({
        metric: 'error_rate',
        value: 0.05,
        threshold: '> 0.02',
        result: 'fired'
      })
    ])
    expect(toStaging.approvers).toEqual(['alice'])
    expect(toCanary.evidence).toEqual([
      expect.objectContaining({ gate: 'approval', value: 'bob', result: 'pass' })
    ])
  })
})

describe('tick', () => {
  it('--dry-run decides but commits nothing', async () => {
    const dir = tempRepo()
    writeMetrics(dir, HEALTHY)
    await cli(dir, 'init', '--now', at(0).toISOString())
    const head = sh(dir, 'git', 'rev-parse', 'HEAD')
    const run = await cli(
      dir,
      'tick',
      '--dry-run',
      '--approved-by',
      'alice',
      '--now',
      at(1).toISOString()
    )
    expect(run.out).toContain('ADVANCE development -> staging')
    expect(run.out).toContain('dry run: nothing committed')
    expect(sh(dir, 'git', 'rev-parse', 'HEAD')).toBe(head)
    expect(sh(dir, 'git', 'status', '--porcelain')).toBe('')
  })

  it('keeps the comments and key order of the state file', async () => {
    const dir = tempRepo()
    writeMetrics(dir, HEALTHY)
    await cli(dir, 'init', '--now', at(0).toISOString())
    const file = join(dir, STATE)
    const edited = readFileSync(file, 'utf8').replace(
      'enabled: true',
      'enabled: true # the kill switch'
    )
    writeFileSync(file, `# owned by the release team\n${edited}`)
    sh(dir, 'git', 'commit', '-qam', 'annotate state')
    await cli(dir, 'tick', '--approved-by', 'alice', '--now', at(1).toISOString())
    const after = readFileSync(file, 'utf8')
    expect(after).toMatch(/^# owned by the release team\n/)
    expect(after).toContain('enabled: true # the kill switch')
    expect(after.indexOf('feature:')).toBeLessThan(after.indexOf('phase:'))
    expect(after).toContain('phase: staging')
  })

  it('refuses to commit over hand edits to the state file', async () => {
    const dir = tempRepo()
    writeMetrics(dir, HEALTHY)
    await cli(dir, 'init', '--now', at(0).toISOString())
    const file = join(dir, STATE)
    writeFileSync(file, readFileSync(file, 'utf8') + '# scribble\n')
    const head = sh(dir, 'git', 'rev-parse', 'HEAD')
    const run = await cli(dir, 'tick', '--approved-by', 'alice', '--now', at(1).toISOString())
    expect(run.code).toBe(1)
    expect(run.err).toContain('the state file has uncommitted changes')
    expect(sh(dir, 'git', 'rev-parse', 'HEAD')).toBe(head)
  })
})

describe('rollback and resume', () => {
  it('an emergency rollback steps back and turns the kill switch off in one commit; resume turns it on', async () => {
    const dir = tempRepo()
    writeMetrics(dir, HEALTHY)
    await cli(dir, 'init', '--now', at(0).toISOString())
    await cli(dir, 'tick', '--approved-by', 'alice', '--now', at(1).toISOString())
    const run = await cli(
      dir,
      'rollback',
      '--emergency',
      '--reason',
      'pager went off',
      '--operator',
      'olga',
      '--now',
      at(2).toISOString()
    )
    expect(run.code, run.err).toBe(0)
    const state = readFileSync(join(dir, STATE), 'utf8')
    expect(state).toContain('phase: development')
    expect(state).toContain('enabled: false')
    expect(
      sh(dir, 'git', 'show', '--stat', '--format=%(trailers:key=Phasegate-Kind,valueonly)', 'HEAD')
    ).toMatch(/^emergency/)
    const held = await cli(dir, 'tick', '--approved-by', 'alice', '--now', at(3).toISOString())
    expect(held.out).toContain('kill switch is off')
    const resumed = await cli(
      dir,
      'resume',
      '--reason',
      'fixed',
      '--operator',
      'olga',
      '--now',
      at(4).toISOString()
    )
    expect(resumed.code, resumed.err).toBe(0)
    expect(readFileSync(join(dir, STATE), 'utf8')).toContain('enabled: true')
  })

  it('the first phase cannot roll back, and says so', async () => {
    const dir = tempRepo()
    await cli(dir, 'init', '--now', at(0).toISOString())
    const run = await cli(dir, 'rollback', '--reason', 'test')
    expect(run.code).toBe(1)
    expect(run.err).toContain('development is the first phase: there is nothing to roll back to')
  })

  it('refuses operators the policy does not list', async () => {
    const policy = readFileSync(
      new URL('../../policies/production_deployment.yaml', import.meta.url),
      'utf8'
    ).replace(
      'manual_approval_required: false',
      'manual_approval_required: false\n  operators: [olga]'
    )
    const dir = tempRepo({ 'policies/production_deployment.yaml': policy })
    await cli(dir, 'init', '--now', at(0).toISOString())
    const run = await cli(
      dir,
      'rollback',
      '--emergency',
      '--reason',
      'test',
      '--operator',
      'mallory'
    )
    expect(run.code).toBe(1)
    expect(run.err).toContain("mallory is not one of this policy's rollback operators (olga)")
  })

  it('says that team membership is for GitHub to check', async () => {
    const policy = readFileSync(
      new URL('../../policies/production_deployment.yaml', import.meta.url),
      'utf8'
    ).replace(
      'manual_approval_required: false',
      'manual_approval_required: false\n  operators: ["@acme/sre"]'
    )
    const dir = tempRepo({ 'policies/production_deployment.yaml': policy })
    await cli(dir, 'init', '--now', at(0).toISOString())
    const run = await cli(dir, 'rollback', '--emergency', '--reason', 'test', '--operator', 'carol')
    expect(run.code).toBe(1)
    expect(run.err).toContain('membership of @acme/sre can only be checked by GitHub')
  })
})

describe('the bin', () => {
  it('prints a one-line error and exits 1 on bad input; 2 on bad usage', () => {
    const dir = tempRepo({ 'policies/p.yaml': 'deployment:\n  phases:\n    canry: {}\n' })
    const bad = spawnSync('node', [BIN, 'validate', '-C', dir], { encoding: 'utf8' })
    expect(bad.status).toBe(1)
    expect(bad.stderr.trim().split('\n')).toHaveLength(1)
    expect(bad.stderr).toMatch(
      /^phasegate: .*p\.yaml:3:5: deployment\.phases\.canry: unknown phase "canry" \(did you mean "canary"\?\)/
    )
    const usage = spawnSync('node', [BIN, 'tick', '--bogus'], { encoding: 'utf8' })
    expect(usage.status).toBe(2)
  })
})

describe('--metrics', () => {
  it('is read relative to -C, and a missing file is an error rather than silent no data', async () => {
    const dir = tempRepo()
    await cli(dir, 'init', '--now', at(0).toISOString())
    writeFileSync(join(dir, 'snapshot.yaml'), 'error_rate: 0.05\n')
    const run = await cli(
      dir,
      'status',
      '--json',
      '--metrics',
      'snapshot.yaml',
      '--now',
      at(1).toISOString()
    )
    expect(run.code, run.err).toBe(0)
    expect(JSON.parse(run.out)[0].decision.alerts).toEqual([
      expect.objectContaining({ metric: 'error_rate', value: 0.05 })
    ])
    const missing = await cli(dir, 'tick', '--metrics', 'nope.yaml')
    expect(missing.code).toBe(1)
    expect(missing.err).toContain('--metrics nope.yaml: no such file')
  })
})

describe('status', () => {
  it('shows the approvers of a squash-merged advance, recorded only in its commit trailers', async () => {
    const dir = tempRepo()
    writeMetrics(dir, HEALTHY)
    await cli(dir, 'init', '--now', at(0).toISOString())
    const ticked = await cli(dir, 'tick', '--approved-by', 'alice', '--now', at(1).toISOString())
    expect(ticked.code, ticked.err).toBe(0)
    // What the action's squash merge leaves: the PR's state file (written before anyone
    // approved, so it names no approvers) under a message whose trailers name them.
    const file = join(dir, STATE)
    const text = readFileSync(file, 'utf8')
    expect(text).toMatch(/approvers:\n\s+- alice\n/)
    writeFileSync(file, text.replace(/approvers:\n\s+- alice\n/, 'approvers: []\n'))
    sh(dir, 'git', 'commit', '-q', '-a', '--amend', '--no-edit')
    expect(sh(dir, 'git', 'log', '-1', '--format=%B')).toContain('Phasegate-Approved-By: alice')
    const run = await cli(dir, 'status', '--json', '--now', at(2).toISOString())
    expect(run.code, run.err).toBe(0)
    const [report] = JSON.parse(run.out)
    expect(report.lastTransition).toEqual(
      expect.objectContaining({ kind: 'advance', to: 'staging', approvers: ['alice'] })
    )
  })
})
