import { spawnSync } from 'node:child_process'
import { existsSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { lockPath } from '../../src/git/lock.js'
import { at, HEALTHY } from '../support/policies.js'
import { cli, sh, tempRepo, writeMetrics, transitionsIn } from '../support/repo.js'

// Several ticks started together in one checkout (cron overlapping a person's run), with a
// person committing in between: exactly one advances, the others change nothing and say why, the
// state file is never left modified, and the person's commit is kept.

const STATE = '.phasegate/state/production_deployment.yaml'

function random(seed: number): () => number {
  let s = seed >>> 0
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0
    return s / 2 ** 32
  }
}
const sleep = (ms: number) => new Promise(resolve => setTimeout(resolve, ms))

/** A person's commit of their own file, retried while git's index is locked by a run. */
async function humanCommit(dir: string, name: string): Promise<void> {
  writeFileSync(join(dir, name), `${name}\n`)
  for (let attempt = 1; attempt <= 50; attempt++) {
    const add = spawnSync('git', ['add', name], { cwd: dir })
    const commit =
      add.status === 0
        ? spawnSync('git', ['commit', '-q', '-m', `Human ${name}`, '--', name], { cwd: dir })
        : add
    if (commit.status === 0) return
    await sleep(20)
  }
  throw new Error(`the human commit of ${name} never went through`)
}

describe('ticks racing in one checkout', () => {
  it('20 randomized races: one advance, the losers touch nothing, no commit is lost', async () => {
    const seen = { lost: 0 }
    for (let race = 1; race <= 20; race++) {
      const next = random(race)
      const dir = tempRepo()
      writeMetrics(dir, HEALTHY)
      await cli(dir, 'init', '--now', at(0).toISOString())
      const runs = [0, 1, 2].map(async () => {
        await sleep(Math.floor(next() * 40))
        return cli(dir, 'tick', '--approved-by', 'alice', '--now', at(1).toISOString())
      })
      const human = (async () => {
        await sleep(Math.floor(next() * 60))
        await humanCommit(dir, `notes-${race}.md`)
      })()
      const results = await Promise.all(runs)
      await human
      const advances = (await transitionsIn(dir, 'production_deployment')).filter(
        h => h.kind === 'advance'
      )
      const report = results.map(r => `${r.code}: ${r.out}${r.err}`).join('\n---\n')
      expect(advances, `race ${race}:\n${report}`).toHaveLength(1)
      for (const r of results.filter(r => r.code !== 0)) {
        expect(r.err, `race ${race}`).toMatch(
          /another phasegate run holds this checkout|HEAD moved .* nothing was committed|already at staging/
        )
        seen.lost++
      }
      expect(sh(dir, 'git', 'status', '--porcelain', '--', STATE), `race ${race}`).toBe('')
      expect(readFileSync(join(dir, STATE), 'utf8')).toContain('phase: staging')
      expect(sh(dir, 'git', 'log', '--format=%s')).toContain(`Human notes-${race}.md`)
      expect(existsSync(await lockPath(dir)), `race ${race}: the lock was left behind`).toBe(false)
    }
    expect(seen.lost).toBeGreaterThan(0)
  }, 300_000)
})

describe('the lock', () => {
  it('is broken when its process is gone, so a rollback never waits on it', async () => {
    const dir = tempRepo()
    writeMetrics(dir, HEALTHY)
    await cli(dir, 'init', '--now', at(0).toISOString())
    await cli(dir, 'tick', '--approved-by', 'alice', '--now', at(1).toISOString())
    const gone = spawnSync(process.execPath, ['-e', '0']).pid!
    const path = await lockPath(dir)
    writeFileSync(
      path,
      JSON.stringify({
        pid: gone,
        host: (await import('node:os')).hostname(),
        command: 'tick',
        since: 'x'
      })
    )
    const run = await cli(
      dir,
      'rollback',
      '--emergency',
      '--reason',
      'pager',
      '--operator',
      'olga',
      '--now',
      at(2).toISOString()
    )
    expect(run.code, run.err).toBe(0)
    expect(existsSync(path)).toBe(false)
  })

  it('held by a live run: the loser says so and changes nothing', async () => {
    const dir = tempRepo()
    writeMetrics(dir, HEALTHY)
    await cli(dir, 'init', '--now', at(0).toISOString())
    const head = sh(dir, 'git', 'rev-parse', 'HEAD')
    const path = await lockPath(dir)
    writeFileSync(
      path,
      JSON.stringify({
        pid: process.pid,
        host: (await import('node:os')).hostname(),
        command: 'tick',
        since: '2026-03-02T09:00:00Z'
      })
    )
    const run = await cli(dir, 'tick', '--approved-by', 'alice', '--now', at(1).toISOString())
    expect(run.code).toBe(1)
    expect(run.err).toContain(`another phasegate run holds this checkout (tick, pid ${process.pid}`)
    expect(sh(dir, 'git', 'rev-parse', 'HEAD')).toBe(head)
    expect(sh(dir, 'git', 'status', '--porcelain')).toBe('')
    expect(existsSync(path)).toBe(true)
  })
})
