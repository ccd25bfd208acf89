import { appendFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { headSha } from '../../src/git/git.js'
import { loadRollouts } from '../../src/rollout/load.js'
import { commitTransitionFrom } from '../../src/rollout/write.js'
import { at, HEALTHY } from '../support/policies.js'
import { cli, sh, tempRepo, writeMetrics } from '../support/repo.js'

// The compare-and-swap on HEAD around read-decide-commit: a commit that lands while a run decides
// refuses the run's commit only when it could have changed the decision (it touches the rollout's
// policy, state or datafile, or rewrote history); someone's unrelated commit does not cost a tick.

async function decidedThen(change: (dir: string) => void) {
  const dir = tempRepo()
  writeMetrics(dir, HEALTHY)
  await cli(dir, 'init', '--now', at(0).toISOString())
  const [rollout] = await loadRollouts(dir, [])
  const head = (await headSha(dir))!
  change(dir)
  const advance = {
    kind: 'advance' as const,
    from: 'development',
    to: 'staging',
    at: at(1).toISOString(),
    reason: 'gates passed',
    approvers: ['alice'],
    evidence: []
  }
  return { dir, run: commitTransitionFrom(rollout!, rollout!.state!, advance, at(1), head) }
}

describe('the compare-and-swap on HEAD', () => {
  it('commits over an unrelated commit made while the run decided', async () => {
    const { dir, run } = await decidedThen(dir => {
      writeFileSync(join(dir, 'notes.md'), 'notes\n')
      sh(dir, 'git', 'add', 'notes.md')
      sh(dir, 'git', 'commit', '-qm', 'notes')
    })
    await run
    expect(sh(dir, 'git', 'log', '--format=%s', '-2')).toMatch(/notes$/)
    expect(sh(dir, 'git', 'status', '--porcelain')).toBe('')
  })

  it('refuses when the commit changed the policy the decision read', async () => {
    const { dir, run } = await decidedThen(dir => {
      appendFileSync(join(dir, 'policies/production_deployment.yaml'), '# tightened\n')
      sh(dir, 'git', 'commit', '-qam', 'tighten the policy')
    })
    const before = sh(dir, 'git', 'rev-parse', 'HEAD')
    await expect(run).rejects.toThrow(/HEAD moved .* nothing was committed/)
    expect(sh(dir, 'git', 'rev-parse', 'HEAD')).toBe(before)
  })

  it('refuses when history was rewritten under it', async () => {
    const { run } = await decidedThen(dir => {
      sh(dir, 'git', 'commit', '-q', '--amend', '--allow-empty', '-m', 'rewritten')
    })
    await expect(run).rejects.toThrow(/HEAD moved/)
  })
})
