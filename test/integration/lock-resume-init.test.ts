import { existsSync, rmSync, writeFileSync } from 'node:fs'
import { hostname } from 'node:os'
import { describe, expect, it } from 'vitest'
import { lockPath } from '../../src/git/lock.js'
import { at, HEALTHY } from '../support/policies.js'
import { cli, sh, tempRepo, writeMetrics } from '../support/repo.js'

// `resume` and `init` commit transitions too, so they take the checkout's lock like tick and
// rollback (issue 11, kind 8): while a live run holds it they refuse and change nothing.

const STATE = '.phasegate/state/production_deployment.yaml'

async function holdLock(dir: string): Promise<string> {
  const path = await lockPath(dir)
  const holder = {
    pid: process.pid,
    host: hostname(),
    command: 'tick',
    since: '2026-03-02T09:00:00Z'
  }
  writeFileSync(path, JSON.stringify(holder))
  return path
}

describe('the checkout lock', () => {
  it('init waits for no one: a live holder makes it refuse, nothing committed', async () => {
    const dir = tempRepo()
    const head = sh(dir, 'git', 'rev-parse', 'HEAD')
    const path = await holdLock(dir)
    const run = await cli(dir, 'init', '--now', at(0).toISOString())
    expect(run.code).toBe(1)
    expect(run.err).toContain(`another phasegate run holds this checkout (tick, pid ${process.pid}`)
    expect(sh(dir, 'git', 'rev-parse', 'HEAD')).toBe(head)
    expect(existsSync(`${dir}/${STATE}`)).toBe(false)
    rmSync(path)
    const again = await cli(dir, 'init', '--now', at(0).toISOString())
    expect(again.code, again.err).toBe(0)
    expect(existsSync(path)).toBe(false)
  })

  it('resume: a live holder makes it refuse, nothing committed', async () => {
    const dir = tempRepo()
    writeMetrics(dir, HEALTHY)
    await cli(dir, 'init', '--now', at(0).toISOString())
    const off = await cli(
      dir,
      'rollback',
      '--emergency',
      '--reason',
      'pager',
      '--operator',
      'olga',
      '--now',
      at(1).toISOString()
    )
    expect(off.code, off.err).toBe(0)
    const head = sh(dir, 'git', 'rev-parse', 'HEAD')
    const path = await holdLock(dir)
    const run = await cli(
      dir,
      'resume',
      '--reason',
      'fixed',
      '--operator',
      'olga',
      '--now',
      at(2).toISOString()
    )
    expect(run.code).toBe(1)
    expect(run.err).toContain('another phasegate run holds this checkout')
    expect(sh(dir, 'git', 'rev-parse', 'HEAD')).toBe(head)
    expect(sh(dir, 'git', 'status', '--porcelain')).toBe('')
    rmSync(path)
    const again = await cli(
      dir,
      'resume',
      '--reason',
      'fixed',
      '--operator',
      'olga',
      '--now',
      at(2).toISOString()
    )
    expect(again.code, again.err).toBe(0)
    expect(existsSync(path)).toBe(false)
  })
})
