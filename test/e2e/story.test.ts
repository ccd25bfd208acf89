import { execFileSync } from 'node:child_process'
import { afterEach, describe, expect, test } from 'vitest'
import { runGit } from '../support/github-emulator/git-client.js'
import {
  approve,
  checkout,
  FEATURE,
  HEALTHY,
  hoursAfter,
  openPulls,
  runPhasegate,
  SPIKE,
  startRepo,
  stateOnMain,
  writeMetrics,
  type Repo
} from '../support/action-harness.js'

const BIN = new URL('../../bin/phasegate.js', import.meta.url).pathname
let repo: Repo | undefined
afterEach(async () => {
  await repo?.cleanup()
  repo = undefined
})

describe('the seed story, run as the GitHub runner runs the bundled action', () => {
  test('scheduled ticks advance through every phase with approvals, a breach reverts, a dispatch turns the feature off, history shows it all', async () => {
    repo = await startRepo()
    const { gh } = repo
    const workspace = await checkout(gh)
    writeMetrics(workspace, HEALTHY)
    const ladder = ['development', 'staging', 'canary', 'limited_production', 'full_production']
    const approvers = ['alice', 'bob', 'carol', 'alice']
    let hours = 1
    for (let step = 0; step < 4; step++) {
      const opened = await runPhasegate(gh, workspace, { now: hoursAfter(hours) })
      expect(opened.exitCode, opened.stdout).toBe(0)
      expect(opened.outputs.decision).toBe('hold')
      expect(opened.outputs.phase).toBe(ladder[step])
      expect(opened.summary).toContain('Waiting for approval')
      const pulls = openPulls(gh)
      expect(pulls).toHaveLength(1)
      const pull = pulls[0]!
      expect(opened.outputs['pr-number']).toBe(String(pull.number))
      expect(pull.pull!.head).toBe(`phasegate/${FEATURE}/advance`)
      expect(pull.body).toContain('| Gate | Measure | Value | Threshold | Result |')

      const again = await runPhasegate(gh, workspace, { now: hoursAfter(hours + 1) })
      expect(again.exitCode, again.stdout).toBe(0)
      expect(gh.state.pulls()).toHaveLength(step + 1)

      await approve(gh, pull.number, approvers[step]!)
      hours += 100
      const merged = await runPhasegate(gh, workspace, { now: hoursAfter(hours) })
      expect(merged.exitCode, merged.stdout).toBe(0)
      expect(merged.outputs.decision).toBe('advance')
      expect(merged.outputs.phase).toBe(ladder[step + 1])
      expect(gh.state.issues.get(pull.number)!.pull!.mergedAt).not.toBeNull()
      expect(stateOnMain(gh)).toContain(`phase: ${ladder[step + 1]}`)
      hours += 100
    }
    const final = await runPhasegate(gh, workspace, { now: hoursAfter(hours) })
    expect(final.outputs.phase).toBe('full_production')
    expect(final.outputs['user-percentage']).toBe('100')
    expect(JSON.parse(final.outputs['flags-json']!)).toMatchObject({
      phase: 'full_production',
      enabled: true
    })
    expect(openPulls(gh)).toHaveLength(0)

    writeMetrics(workspace, SPIKE)
    const breach = await runPhasegate(gh, workspace, { now: hoursAfter(hours + 1) })
    expect(breach.exitCode, breach.stdout).toBe(0)
    expect(breach.outputs.decision).toBe('rollback')
    expect(breach.outputs.phase).toBe('limited_production')
    const revert = breach.outputs['rollback-sha']!
    expect(gh.git.git(['log', '-1', '--format=%H', 'main'])).toBe(revert)
    expect(gh.git.git(['log', '-1', '--format=%B', revert])).toMatch(
      /^Revert "phasegate\(production_deployment\): advance limited_production -> full_production"/
    )
    expect(breach.summary).toContain('```mermaid')
    const alertIssue = [...gh.state.issues.values()].find(
      i => !i.pull && i.labels.includes('alert:error_rate')
    )
    expect(alertIssue?.state).toBe('open')

    const emergency = await runPhasegate(gh, workspace, {
      now: hoursAfter(hours + 2),
      event: 'workflow_dispatch',
      inputs: { command: 'rollback' },
      payload: {
        inputs: { reason: 'checkout errors in EU', mode: 'emergency' },
        sender: { login: 'alice' }
      }
    })
    expect(emergency.exitCode, emergency.stdout).toBe(0)
    expect(emergency.outputs.enabled).toBe('false')
    expect(emergency.outputs['user-percentage']).toBe('0')
    expect(emergency.outputs.phase).toBe('canary')
    expect(stateOnMain(gh)).toMatch(/enabled: false/)
    const page = [...gh.state.issues.values()].find(
      i => !i.pull && i.labels.includes('alert:emergency_rollback')
    )
    expect(page?.body).toContain('@acme/engineering')
    expect(page?.body).not.toContain('@acme/product')

    await runGit(workspace, ['pull', '-q', 'origin', 'main'])
    const history = execFileSync(process.execPath, [BIN, 'history', '-C', workspace], {
      encoding: 'utf8'
    })
    const lines = history.split('\n').filter(l => /^\S+ +[0-9a-f]{10} /.test(l))
    expect(
      lines.map(l =>
        /(advance|rollback|emergency)\s+(\S+ -> \S+)(.*)$/.exec(l)!.slice(1, 3).join(' ')
      )
    ).toEqual([
      'advance development -> staging',
      'advance staging -> canary',
      'advance canary -> limited_production',
      'advance limited_production -> full_production',
      'rollback full_production -> limited_production',
      'emergency limited_production -> canary'
    ])
    for (const [i, who] of approvers.entries()) expect(lines[i]).toContain(`approved by ${who}`)
    expect(lines[5]).toContain('by alice')
    // The whole story is a dozen action runs (35 s on an idle 2-core machine): a guard, not a
    // performance claim.
  }, 180_000)
})
