// Local mode's `--approved-by` follows GitHub's identity rules (issue 10, kind 1): bot logins and
// the person running phasegate (git config user, GITHUB_ACTOR) never count as approvers.

import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterEach, describe, expect, test } from 'vitest'
import { at, HEALTHY } from '../support/policies.js'
import { cli, sh, tempRepo, writeMetrics } from '../support/repo.js'

const statePhase = (dir: string) =>
  /^phase: (\S+)$/m.exec(
    readFileSync(join(dir, '.phasegate/state/production_deployment.yaml'), 'utf8')
  )![1]

/** The seed rollout in staging, where only approval stands between it and canary. */
async function inStaging(): Promise<string> {
  const dir = tempRepo()
  writeMetrics(dir, HEALTHY)
  expect((await cli(dir, 'init', '--now', at(0).toISOString())).code).toBe(0)
  expect((await cli(dir, 'tick', '--approved-by', 'bob', '--now', at(1).toISOString())).code).toBe(
    0
  )
  expect(statePhase(dir)).toBe('staging')
  return dir
}

const actor = process.env.GITHUB_ACTOR
afterEach(() => {
  if (actor === undefined) delete process.env.GITHUB_ACTOR
  else process.env.GITHUB_ACTOR = actor
})

describe('--approved-by', () => {
  test('a bot login does not count', async () => {
    const dir = await inStaging()
    const run = await cli(
      dir,
      'tick',
      '--approved-by',
      'dependabot[bot]',
      '--now',
      at(2).toISOString()
    )
    expect(run.code, run.err).toBe(0)
    expect(statePhase(dir)).toBe('staging')
    expect(run.out).toContain('dependabot[bot] (a bot)')
  })

  test('the git user running the command does not count', async () => {
    const dir = await inStaging()
    sh(dir, 'git', 'config', 'user.name', 'alice')
    const run = await cli(dir, 'tick', '--approved-by', 'Alice', '--now', at(2).toISOString())
    expect(statePhase(dir)).toBe('staging')
    expect(run.out).toContain('Alice (the person running phasegate)')
  })

  test('the login in a GitHub noreply address of the git user does not count', async () => {
    const dir = await inStaging()
    sh(dir, 'git', 'config', 'user.email', '1234+alice@users.noreply.github.com')
    await cli(dir, 'tick', '--approved-by', 'alice', '--now', at(2).toISOString())
    expect(statePhase(dir)).toBe('staging')
  })

  test('GITHUB_ACTOR does not approve their own run', async () => {
    const dir = await inStaging()
    process.env.GITHUB_ACTOR = 'alice'
    await cli(dir, 'tick', '--approved-by', 'alice', '--now', at(2).toISOString())
    expect(statePhase(dir)).toBe('staging')
  })

  test('someone else counts (control)', async () => {
    const dir = await inStaging()
    process.env.GITHUB_ACTOR = 'bob'
    const run = await cli(dir, 'tick', '--approved-by', 'alice', '--now', at(2).toISOString())
    expect(run.code, run.err).toBe(0)
    expect(statePhase(dir)).toBe('canary')
  })
})
