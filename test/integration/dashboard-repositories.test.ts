// `phasegate dashboard` in the repositories a new user has: a detached HEAD, a repository with no
// commit yet (found holding by the attack on issue 16; kept as regression tests).
import { mkdtempSync, readFileSync, writeFileSync, mkdirSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { cli, sh } from '../support/repo.js'
import { abcAtB, abcPolicy, hourOf } from '../support/rollouts.js'

const POLICY = abcPolicy()
const T = hourOf

/** f at b, one unrelated commit on top. */
async function atB(): Promise<string> {
  const dir = await abcAtB()
  sh(dir, 'git', 'commit', '-q', '--allow-empty', '-m', 'unrelated work')
  return dir
}

describe('repositories a new user has', () => {
  it('a detached HEAD builds the same site (holds)', async () => {
    const dir = await atB()
    sh(dir, 'git', 'checkout', '-q', '--detach', 'HEAD')
    const site = `${dir}-site-detached`
    const built = await cli(dir, 'dashboard', '--out', site, '--now', T(2))
    expect(built.code, built.err).toBe(0)
    const index = readFileSync(join(site, 'index.html'), 'utf8')
    expect(index).toMatch(/data-cell="last-transition">advance a → b/)
  })

  it('a repository with no commit yet: a policy not started builds, or a clear error', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'phasegate-a16-empty-'))
    sh(dir, 'git', 'init', '-q', '-b', 'main')
    mkdirSync(join(dir, 'policies'))
    writeFileSync(join(dir, 'policies', 'f.yaml'), POLICY)
    const site = join(dir, '..', `${dir.split('/').pop()}-site`)
    const built = await cli(dir, 'dashboard', '--out', site, '--now', T(2)).catch((e: unknown) => ({
      code: -1,
      out: '',
      err: `threw ${String(e)}`
    }))
    expect(built.err).not.toMatch(/^threw/)
    if (built.code === 0) {
      const index = readFileSync(join(site, 'index.html'), 'utf8')
      expect(index).toMatch(/not started/)
    } else {
      expect(built.err).toMatch(/commit/)
    }
  })
})
