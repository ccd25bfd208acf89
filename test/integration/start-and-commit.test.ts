import { spawnSync } from 'node:child_process'
import { appendFileSync, existsSync, mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { at, HEALTHY, SEED_POLICY_TEXT } from '../support/policies.js'
import { cli, sh, tempRepo, writeMetrics } from '../support/repo.js'

// Nothing moves that was not started or not committed, and a written time means one instant.

const BIN = new URL('../../bin/phasegate.js', import.meta.url).pathname
const POLICY = 'policies/production_deployment.yaml'
const STATE = '.phasegate/state/production_deployment.yaml'

function untouched(dir: string, head: string): void {
  expect(sh(dir, 'git', 'rev-parse', 'HEAD')).toBe(head)
  expect(sh(dir, 'git', 'status', '--porcelain', '--untracked-files=all')).toBe('')
}

async function started(): Promise<{ dir: string; head: string }> {
  const dir = tempRepo()
  writeMetrics(dir, HEALTHY)
  const init = await cli(dir, 'init', '--now', at(5).toISOString())
  expect(init.code, init.err).toBe(0)
  return { dir, head: sh(dir, 'git', 'rev-parse', 'HEAD') }
}

describe('--now means one instant', () => {
  it.each([
    ['2026-02-30', 'it has no offset, so it would mean a different instant in each time zone'],
    ['2026-02-30T09:00:00Z', '2026-02 has no day 30'],
    ['12', 'it is not a date and time'],
    [
      '2026-03-02T12:00:00',
      'it has no offset, so it would mean a different instant in each time zone'
    ]
  ])('refuses %s with the expected form, exit 2, nothing committed', async (text, why) => {
    const { dir, head } = await started()
    const run = await cli(dir, 'tick', '--approved-by', 'alice', '--now', text)
    expect(run.code).toBe(2)
    expect(run.err).toBe(
      `phasegate: --now "${text}" is not a time: ${why} (hint: use an RFC 3339 time with an offset, e.g. 2026-11-27T09:00:00Z or 2026-11-27T10:00:00+01:00)\n`
    )
    untouched(dir, head)
  })

  it('decides the same under any TZ, because an offset is required', async () => {
    const { dir } = await started()
    const outs = ['UTC', 'Asia/Tokyo', 'America/Los_Angeles'].map(
      TZ =>
        spawnSync(
          'node',
          [
            BIN,
            'status',
            '--approved-by',
            'alice',
            '--now',
            '2026-03-02T15:30:00+01:00',
            '-C',
            dir
          ],
          { encoding: 'utf8', env: { ...process.env, TZ } }
        ).stdout
    )
    expect(outs[0]).toContain('decision:')
    expect(new Set(outs).size).toBe(1)
  })

  it('a committing command whose --now is before the phase was entered is refused', async () => {
    const { dir, head } = await started()
    const early = at(1).toISOString()
    const tick = await cli(dir, 'tick', '--approved-by', 'alice', '--now', early)
    expect(tick.code).toBe(1)
    expect(tick.err).toContain(
      `--now ${early} is before production_deployment entered development (${at(5).toISOString()})`
    )
    untouched(dir, head)
    // A dry run commits nothing, so it may look at any time.
    expect((await cli(dir, 'tick', '--dry-run', '--now', early)).code).toBe(0)
    // Step into staging at at(6), then try to roll back and resume "before" that.
    expect(
      (await cli(dir, 'tick', '--approved-by', 'alice', '--now', at(6).toISOString())).code
    ).toBe(0)
    const moved = sh(dir, 'git', 'rev-parse', 'HEAD')
    const back = await cli(dir, 'rollback', '--reason', 'x', '--now', at(5.5).toISOString())
    expect(back.code).toBe(1)
    expect(back.err).toContain('is before production_deployment entered staging')
    untouched(dir, moved)
  })

  it('a snapshot series time without an offset is no data for that metric, located at its line', async () => {
    const { dir, head } = await started()
    mkdirSync(join(dir, 'snap'), { recursive: true })
    writeFileSync(
      join(dir, 'snap', 's.yaml'),
      'error_rate:\n  value: 0.001\n  series:\n    - ["2026-03-02T11:59:00", 0.001]\n'
    )
    const run = await cli(dir, 'status', '--metrics', 'snap/s.yaml', '--now', at(6).toISOString())
    // One metric written wrong is no data for it alone (never a pass), and says where and why.
    expect(run.code, run.err).toBe(0)
    expect(run.out).toMatch(
      /\[NO DATA\] error_rate > 0\.02 +no data for error_rate: snap\/s\.yaml:4:\d+: .*series time must be epoch seconds or an RFC 3339 time with an offset/
    )
    expect(sh(dir, 'git', 'rev-parse', 'HEAD')).toBe(head)
  })
})

describe('a rollout that was never started', () => {
  it('tick says so and how to start it, and commits nothing', async () => {
    const dir = tempRepo()
    writeMetrics(dir, HEALTHY)
    const head = sh(dir, 'git', 'rev-parse', 'HEAD')
    const run = await cli(dir, 'tick', '--approved-by', 'alice', '--now', at(1).toISOString())
    expect(run.code, run.err).toBe(0)
    expect(run.out).toBe(
      `production_deployment: not started (no state file at ${STATE}); nothing moves until \`phasegate init --policy ${POLICY}\` starts it at development\n`
    )
    expect(existsSync(join(dir, STATE))).toBe(false)
    expect(sh(dir, 'git', 'rev-parse', 'HEAD')).toBe(head)
    const json = await cli(dir, 'tick', '--json', '--now', at(1).toISOString())
    expect(JSON.parse(json.out)).toEqual([
      { feature: 'production_deployment', started: false, decision: null, commit: null }
    ])
  })

  it('status says so instead of a live-looking rollout at its first phase', async () => {
    const dir = tempRepo()
    const run = await cli(dir, 'status', '--now', at(1).toISOString())
    expect(run.code, run.err).toBe(0)
    expect(run.out).toContain('production_deployment: not started')
    expect(run.out).not.toContain('% of users')
    const [report] = JSON.parse(
      (await cli(dir, 'status', '--json', '--now', at(1).toISOString())).out
    )
    expect(report).toMatchObject({
      started: false,
      enabled: false,
      userPercentage: 0,
      featureFlags: [],
      decision: null
    })
  })
})

describe('a policy with uncommitted edits', () => {
  it('does not drive a transition: tick, rollback and resume refuse, naming the file', async () => {
    const { dir, head } = await started()
    appendFileSync(join(dir, POLICY), '# tried a shorter duration\n')
    const tick = await cli(dir, 'tick', '--approved-by', 'alice', '--now', at(6).toISOString())
    expect(tick.code).toBe(1)
    expect(tick.err).toMatch(
      new RegExp(`^phasegate: ${POLICY}: the policy has changes that are not committed`)
    )
    expect(sh(dir, 'git', 'rev-parse', 'HEAD')).toBe(head)
    expect(sh(dir, 'git', 'status', '--porcelain')).toBe(`M ${POLICY}`)
    const back = await cli(
      dir,
      'rollback',
      '--emergency',
      '--reason',
      'x',
      '--now',
      at(6).toISOString()
    )
    expect(back.code).toBe(1)
    expect(back.err).toContain('the policy has changes that are not committed')
    // Looking is fine: a dry run and status commit nothing.
    expect(
      (await cli(dir, 'tick', '--dry-run', '--approved-by', 'alice', '--now', at(6).toISOString()))
        .code
    ).toBe(0)
    expect((await cli(dir, 'status', '--now', at(6).toISOString())).code).toBe(0)
  })

  it('a policy that was never committed cannot be started', async () => {
    const dir = tempRepo({ 'README.md': 'x\n' })
    mkdirSync(join(dir, 'policies'))
    writeFileSync(join(dir, POLICY), SEED_POLICY_TEXT)
    const run = await cli(dir, 'init', '--now', at(0).toISOString())
    expect(run.code).toBe(1)
    expect(run.err).toContain(`${POLICY}: the policy has changes that are not committed`)
    expect(existsSync(join(dir, STATE))).toBe(false)
  })
})
