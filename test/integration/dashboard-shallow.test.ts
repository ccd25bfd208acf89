// A shallow clone's history is cut off, not empty: the dashboard says so wherever missing history
// would otherwise read as "nothing happened" (no transition yet, no rollback, no last transition).
import { execFileSync } from 'node:child_process'
import { mkdtempSync, readFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { cli, sh, tempRepo } from '../support/repo.js'
import { abcAtB, abcPolicy, hourOf } from '../support/rollouts.js'

const POLICY = abcPolicy()
const T = hourOf

/** A rollout at b (init, then an advance), one unrelated commit on top, cloned with depth 1. */
async function shallowCloneAtB(): Promise<string> {
  const dir = await abcAtB()
  sh(dir, 'git', 'commit', '-q', '--allow-empty', '-m', 'unrelated work')
  const clone = join(mkdtempSync(join(tmpdir(), 'phasegate-shallow-')), 'clone')
  sh(tmpdir(), 'git', 'clone', '-q', '--depth', '1', `file://${dir}`, clone)
  return clone
}

describe('dashboard in a shallow clone', () => {
  it('says the history is incomplete, never "run init", for a started rollout', async () => {
    const clone = await shallowCloneAtB()
    const site = join(clone, '..', 'site')
    const built = await cli(clone, 'dashboard', '--out', site, '--now', T(2))
    expect(built.code, built.err).toBe(0)
    const page = readFileSync(join(site, 'features', 'f.html'), 'utf8')
    const index = readFileSync(join(site, 'index.html'), 'utf8')
    expect(page).toContain('data-stat="phase"><dt>Current phase</dt><dd>b</dd>')
    expect(page).not.toMatch(/No transitions yet/)
    expect(page).toMatch(/data-note="shallow">The history is incomplete: this is a shallow clone/)
    expect(page).toContain('<code>git fetch --unshallow</code>')
    // No rollback among the commits read is not "no rollback".
    expect(page).not.toMatch(/alerts-recent[^]*?<td colspan="5">None\.<\/td>/)
    expect(page).toMatch(/None among the commits this shallow clone has/)
    expect(/data-cell="last-transition">(.*?)<\/td>/.exec(index)?.[1]).toMatch(
      /^unknown <small>\(shallow clone/
    )
    expect(index).toMatch(/<footer>[^]*shallow clone[^]*<\/footer>/)
  })

  it('a full clone says none of that', async () => {
    const dir = tempRepo({ 'policies/f.yaml': POLICY })
    expect((await cli(dir, 'init', '--now', T(0))).code).toBe(0)
    const site = `${dir}-site-full`
    const built = await cli(dir, 'dashboard', '--out', site, '--now', T(2))
    expect(built.code, built.err).toBe(0)
    const page = readFileSync(join(site, 'features', 'f.html'), 'utf8')
    expect(page).not.toMatch(/shallow/i)
    expect(page).toMatch(/alerts-recent[^]*?<td colspan="5">None\.<\/td>/)
  })
})

describe('dashboard with no transition in a full history', () => {
  it('a started rollout whose state file no transition wrote is not told to run init', async () => {
    const dir = tempRepo({ 'policies/f.yaml': POLICY })
    expect((await cli(dir, 'init', '--now', T(0))).code).toBe(0)
    // The init commit's message loses its trailers: the state file is there, no transition is.
    execFileSync('git', ['commit', '-q', '--amend', '-m', 'state added by hand'], {
      cwd: dir,
      env: { ...process.env, GIT_COMMITTER_DATE: T(0) }
    })
    const site = `${dir}-site-no-transition`
    const built = await cli(dir, 'dashboard', '--out', site, '--now', T(2))
    expect(built.code, built.err).toBe(0)
    const page = readFileSync(join(site, 'features', 'f.html'), 'utf8')
    expect(page).not.toMatch(/run <code>phasegate init<\/code>/)
    expect(page).toMatch(/No transition of this rollout is in the git history/)
  })
})
