// readHistory reads `git log` and `git cat-file` as streams: a history is read whatever its size
// (a dashboard over 130 features x 1,000 transitions prints more than any fixed buffer holds),
// and nothing a commit's author writes (separator characters in a message) can make one commit
// pass for another.

import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { expect, test } from 'vitest'
import { readObjects } from '../../src/git/git.js'
import { readHistory, transitionsOf } from '../../src/git/transitions.js'
import { loadRollouts } from '../../src/rollout/load.js'
import { at, HEALTHY } from '../support/policies.js'
import { cli, sh, tempRepo, writeMetrics } from '../support/repo.js'

async function started(): Promise<string> {
  const dir = tempRepo()
  writeMetrics(dir, HEALTHY)
  expect((await cli(dir, 'init', '--now', at(0).toISOString())).code).toBe(0)
  return dir
}

test('a history larger than 64 MiB of git log output is read', async () => {
  const dir = await started()
  const init = sh(dir, 'git', 'rev-parse', 'HEAD')
  const trailers = sh(dir, 'git', 'log', '-1', '--format=%B', init)
  // One commit whose message alone is 65 MiB, its trailers last (so it is a candidate).
  const body = `${'x'.repeat(1023)}\n`.repeat(65 * 1024)
  const file = join(dir, '..', `${dir.split('/').pop()}-message`)
  writeFileSync(file, `Big\n\n${body}\n${trailers.slice(trailers.lastIndexOf('\n\n') + 2)}\n`)
  sh(dir, 'git', 'commit', '-q', '--allow-empty', '-F', file)
  const big = sh(dir, 'git', 'rev-parse', 'HEAD')

  const [rollout] = await loadRollouts(dir, [])
  const history = await readHistory(dir, [rollout!.policy])
  expect(history.map(h => h.sha)).toEqual([big, init])
  expect(history[0]).toMatchObject({ skipped: expect.stringContaining('does not change') })
  expect(transitionsOf(history).map(h => h.sha)).toEqual([init])
}, 60_000)

test('separator characters in a message cannot pass a commit off as another sha, date or author', async () => {
  const dir = await started()
  const run = await cli(dir, 'tick', '--approved-by', 'bob', '--now', at(1).toISOString())
  expect(run.code, run.err).toBe(0)
  const message = sh(dir, 'git', 'log', '-1', '--format=%B', 'HEAD')
  // The real advance, its message rewritten to start with what looks like another commit's
  // header: a fake sha, date and author, then the trailers.
  const fake = 'f'.repeat(40)
  const forged = `Advance\u001e${fake}\u001f2020-01-01T00:00:00Z\u001fmallory\u001f${message}`
  const file = join(dir, '..', `${dir.split('/').pop()}-message`)
  writeFileSync(file, forged)
  sh(dir, 'git', 'commit', '-q', '--amend', '--cleanup=verbatim', '-F', file)
  expect(sh(dir, 'git', 'log', '-1', '--format=%B', 'HEAD')).toContain('\u001e')
  const advance = sh(dir, 'git', 'rev-parse', 'HEAD')

  const [rollout] = await loadRollouts(dir, [])
  const history = await readHistory(dir, [rollout!.policy])
  const real = sh(dir, 'git', 'rev-list', 'HEAD').split('\n')
  for (const entry of history) expect(real).toContain(entry.sha)
  const [latest] = transitionsOf(history)
  expect(latest).toMatchObject({
    sha: advance,
    kind: 'advance',
    author: sh(dir, 'git', 'log', '-1', '--format=%an', 'HEAD'),
    at: sh(dir, 'git', 'log', '-1', '--format=%cI', 'HEAD')
  })
})

test('cat-file answers larger than a pipe chunk arrive whole, in order, missing ones undefined', async () => {
  const big = `${'é'.repeat(700_000)}\n`
  const dir = tempRepo({ 'big.txt': big, 'small.txt': 'small\n' })
  const texts = await readObjects(dir, [
    'HEAD:small.txt',
    'HEAD:big.txt',
    'HEAD:absent.txt',
    'HEAD:small.txt'
  ])
  expect(texts).toEqual(['small\n', big, undefined, 'small\n'])
})
