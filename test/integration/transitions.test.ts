// Which commits are transitions (issue 10, kind 3): only a commit that changes the feature's
// state file, in agreement with its trailers. Copied or forged trailers elsewhere are marked as
// skipped by `history`, and rollback undoes the real advance, never a human commit.

import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, test } from 'vitest'
import { at, HEALTHY } from '../support/policies.js'
import { cli, sh, tempRepo, writeMetrics } from '../support/repo.js'

const STATE = '.phasegate/state/production_deployment.yaml'
const statePhase = (dir: string) =>
  /^phase: (\S+)$/m.exec(readFileSync(join(dir, STATE), 'utf8'))![1]

/** The seed rollout advanced to staging by phasegate; returns the advance commit. */
async function inStaging(): Promise<{ dir: string; advance: string }> {
  const dir = tempRepo()
  writeMetrics(dir, HEALTHY)
  expect((await cli(dir, 'init', '--now', at(0).toISOString())).code).toBe(0)
  const run = await cli(dir, 'tick', '--approved-by', 'bob', '--now', at(1).toISOString())
  expect(run.code, run.err).toBe(0)
  expect(statePhase(dir)).toBe('staging')
  return { dir, advance: sh(dir, 'git', 'rev-parse', 'HEAD') }
}

/** A human commit of application code whose message carries the real advance's trailers. */
function forgedCommit(dir: string, advance: string, edit = (m: string) => m): string {
  const message = edit(sh(dir, 'git', 'log', '-1', '--format=%B', advance))
  writeFileSync(join(dir, 'app.txt'), 'the application change\n')
  sh(dir, 'git', 'add', 'app.txt')
  sh(dir, 'git', 'commit', '-q', '-m', message + '\nPhasegate-Approved-By: mallory')
  return sh(dir, 'git', 'rev-parse', 'HEAD')
}

describe('history', () => {
  test('a commit with copied trailers that leaves the state file alone is marked skipped', async () => {
    const { dir, advance } = await inStaging()
    const forged = forgedCommit(dir, advance)
    const json = JSON.parse((await cli(dir, 'history', '--json')).out) as Array<{
      sha: string
      kind: string
      skipped?: string
    }>
    const real = json.filter(e => !e.skipped)
    expect(real.map(e => e.sha)).not.toContain(forged)
    expect(real.map(e => e.kind)).toEqual(['advance', 'init'])
    expect(json.find(e => e.sha === forged)?.skipped).toContain('does not change')
    const text = (await cli(dir, 'history')).out
    expect(text).toContain(`skipped  ${forged.slice(0, 10)}`)
    expect(text).not.toContain('approved by bob, mallory')
  })

  test('a state change that disagrees with its trailers is skipped', async () => {
    const { dir } = await inStaging()
    // The state file says staging -> canary; the trailers claim staging -> full_production.
    const text = readFileSync(join(dir, STATE), 'utf8')
    writeFileSync(join(dir, STATE), text.replace('phase: staging', 'phase: canary'))
    sh(
      dir,
      'git',
      'commit',
      '-q',
      '-am',
      'jump\n\nPhasegate-Feature: production_deployment\nPhasegate-Kind: advance\nPhasegate-From: staging\nPhasegate-To: full_production\nPhasegate-Reason: fast'
    )
    const json = JSON.parse((await cli(dir, 'history', '--json')).out) as Array<{
      skipped?: string
      to: string
    }>
    expect(json.filter(e => !e.skipped).map(e => e.to)).toEqual(['staging', 'development'])
    expect(json[0]!.skipped).toMatch(/full_production/)
  })
})

describe('rollback', () => {
  test('undoes the real advance, not a human commit carrying its trailers', async () => {
    const { dir, advance } = await inStaging()
    forgedCommit(dir, advance)
    writeMetrics(dir, { ...HEALTHY, error_rate: 0.5, system_failure: 1 })
    const run = await cli(dir, 'tick', '--now', at(2).toISOString())
    expect(run.code, run.err).toBe(0)
    expect(statePhase(dir)).toBe('development')
    expect(readFileSync(join(dir, 'app.txt'), 'utf8')).toBe('the application change\n')
    expect(sh(dir, 'git', 'log', '-1', '--format=%B')).toContain(`Phasegate-Reverts: ${advance}`)
  })
})

test('a transition that also changed other files is undone by writing the state back, not by reverting those files', async () => {
  const { dir } = await inStaging()
  // A hand-made, consistent transition staging -> canary that also changes application code.
  const text = readFileSync(join(dir, STATE), 'utf8')
  const moved = text
    .replace('phase: staging', 'phase: canary')
    .replace(
      /(last_transition:\n\s+kind: advance\n\s+from: )development(\n\s+to: )staging/,
      '$1staging$2canary'
    )
  expect(moved).toContain('to: canary')
  writeFileSync(join(dir, STATE), moved)
  writeFileSync(join(dir, 'app.txt'), 'shipped with the advance\n')
  sh(dir, 'git', 'add', '-A')
  sh(
    dir,
    'git',
    'commit',
    '-q',
    '-m',
    'by hand\n\nPhasegate-Feature: production_deployment\nPhasegate-Kind: advance\nPhasegate-From: staging\nPhasegate-To: canary\nPhasegate-Reason: hand'
  )
  const advance = sh(dir, 'git', 'rev-parse', 'HEAD')
  writeMetrics(dir, { ...HEALTHY, error_rate: 0.5, system_failure: 1 })
  const run = await cli(dir, 'tick', '--now', at(2).toISOString())
  expect(run.code, run.err).toBe(0)
  expect(statePhase(dir)).toBe('staging')
  expect(readFileSync(join(dir, 'app.txt'), 'utf8')).toBe('shipped with the advance\n')
  expect(sh(dir, 'git', 'log', '-1', '--format=%B')).toContain(`Phasegate-Reverts: ${advance}`)
})
