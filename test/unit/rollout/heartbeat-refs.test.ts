// The heartbeat record is read without a git process when the ref store certainly lacks it, and
// still found when git keeps the branch in packed-refs (after `git pack-refs`, or a fresh clone).
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { repoRoot } from '../../../src/git/git.js'
import { HEARTBEAT_BRANCH, mayHoldRefs, readHeartbeats } from '../../../src/rollout/heartbeat.js'
import { removeTempRepos, sh, tempRepo } from '../../support/repo.js'

afterAll(removeTempRepos)

const RECORD = JSON.stringify({
  heartbeat_version: 1,
  features: { pay: { evaluated_at: '2026-03-01T00:00:00Z', outcome: 'hold' } }
})

function withRecord(): string {
  const dir = tempRepo({ 'README.md': 'x\n' })
  sh(dir, 'git', 'checkout', '-q', '-b', HEARTBEAT_BRANCH)
  writeFileSync(join(dir, 'heartbeat.json'), RECORD)
  sh(dir, 'git', 'add', 'heartbeat.json')
  sh(dir, 'git', 'commit', '-q', '-m', 'heartbeat')
  sh(dir, 'git', 'checkout', '-q', '-')
  return dir
}

describe('heartbeat refs', () => {
  it('finds a record kept as a loose ref and as a packed one', async () => {
    const dir = withRecord()
    const root = await repoRoot(dir)
    expect((await readHeartbeats(root)).get('pay')?.outcome).toBe('hold')
    sh(dir, 'git', 'pack-refs', '--all')
    expect((await readHeartbeats(root)).get('pay')?.outcome).toBe('hold')
  })

  it('says a store may hold a ref when it cannot tell, and not when it certainly does not', async () => {
    const dir = tempRepo({ 'README.md': 'x\n' })
    const root = await repoRoot(dir)
    const gitDir = join(root, '.git')
    expect(mayHoldRefs(gitDir, [`refs/heads/${HEARTBEAT_BRANCH}`])).toBe(false)
    expect(mayHoldRefs(undefined, [`refs/heads/${HEARTBEAT_BRANCH}`])).toBe(true)
    expect(await readHeartbeats(root)).toEqual(new Map())
  })
})
