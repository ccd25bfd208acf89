// readHistory reads the whole audit trail in one `git log` (with each commit's raw diff against
// its first parent) and one `git cat-file --batch` of distinct blobs. It must judge every commit
// exactly as reading the state file at the commit and at its first parent does: merges, deleted
// and re-created state files, commits that only carry trailers, features no policy rolls out.

import { execFileSync } from 'node:child_process'
import { rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { expect, test } from 'vitest'
import { parseTransitionMessage } from '../../src/state/trailers.js'
import { readHistory, transitionVerdict } from '../../src/git/transitions.js'
import { loadRollouts } from '../../src/rollout/load.js'
import { at, HEALTHY } from '../support/policies.js'
import { cli, sh, tempRepo, writeMetrics } from '../support/repo.js'

const STATE = '.phasegate/state/production_deployment.yaml'

/** The file at `rev`, or undefined where it is absent: one process per file, the plain way. */
function fileAt(dir: string, rev: string): string | undefined {
  try {
    return execFileSync('git', ['cat-file', 'blob', rev], {
      cwd: dir,
      encoding: 'utf8',
      stdio: 'pipe'
    })
  } catch {
    return undefined
  }
}

function commitWith(dir: string, message: string, allowEmpty = false): string {
  sh(dir, 'git', 'commit', '-q', ...(allowEmpty ? ['--allow-empty'] : []), '-m', message)
  return sh(dir, 'git', 'rev-parse', 'HEAD')
}

test('one pass judges every trailered commit as reading each state file does', async () => {
  const dir = tempRepo()
  writeMetrics(dir, HEALTHY)
  expect((await cli(dir, 'init', '--now', at(0).toISOString())).code).toBe(0)
  expect((await cli(dir, 'tick', '--approved-by', 'bob', '--now', at(1).toISOString())).code).toBe(
    0
  )
  const advance = sh(dir, 'git', 'rev-parse', 'HEAD')
  const trailers = sh(dir, 'git', 'log', '-1', '--format=%B', advance)
  // Trailers only, no change to the state file.
  commitWith(dir, trailers, true)
  // The state file deleted, then brought back by a merge whose first parent lacks it (judged
  // against the first parent, as a rollback reverts it), both with trailers.
  sh(dir, 'git', 'checkout', '-q', '-b', 'side')
  commitWith(dir, 'side: unrelated', true)
  sh(dir, 'git', 'checkout', '-q', 'main')
  rmSync(join(dir, STATE))
  sh(dir, 'git', 'add', '-A')
  commitWith(dir, trailers)
  sh(dir, 'git', 'merge', '-q', '--no-ff', '--no-commit', '-s', 'ours', 'side')
  sh(dir, 'git', 'checkout', '-q', advance, '--', STATE)
  commitWith(dir, trailers)
  expect(sh(dir, 'git', 'rev-list', '--parents', '-1', 'HEAD').split(' ')).toHaveLength(3)
  // A feature no policy here rolls out.
  writeFileSync(join(dir, 'app.txt'), 'x\n')
  sh(dir, 'git', 'add', 'app.txt')
  commitWith(dir, trailers.replace(/^Phasegate-Feature: .*$/m, 'Phasegate-Feature: elsewhere'))

  const [rollout] = await loadRollouts(dir, [])
  const history = await readHistory(dir, [rollout!.policy])
  const expected = sh(dir, 'git', 'log', '--format=%H', '--grep=^Phasegate-Feature: ')
    .split('\n')
    .map(sha => {
      const record = parseTransitionMessage(sh(dir, 'git', 'log', '-1', '--format=%B', sha))!
      if (record.feature !== rollout!.policy.feature)
        return { sha, skipped: `no policy here rolls out ${record.feature}` }
      const verdict = transitionVerdict(
        record,
        STATE,
        fileAt(dir, `${sha}^:${STATE}`),
        fileAt(dir, `${sha}:${STATE}`)
      )
      return verdict.ok ? { sha } : { sha, skipped: verdict.reason }
    })
  expect(
    history.map(h => ('skipped' in h ? { sha: h.sha, skipped: h.skipped } : { sha: h.sha }))
  ).toEqual(expected)
  // Every kind of verdict occurs, so the comparison above is not vacuous.
  const reasons = expected.map(e => e.skipped ?? 'ok').join('\n')
  for (const kind of ['ok', 'does not change', 'deletes', 'creates', 'no policy here'])
    expect(reasons).toContain(kind)
})
