import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import { at, HEALTHY, SEED_POLICY_TEXT } from '../support/policies.js'
import { cli, sh, tempRepo, transitionsIn, writeMetrics } from '../support/repo.js'
import { tick } from '../support/rollouts.js'

// Issue 15's controls from the CLI, on real git repositories: pause and resume, cool-down read
// from git history, freeze windows and observe-only triggers.

const STATE = '.phasegate/state/production_deployment.yaml'
const FEATURE = 'production_deployment'

/** The seed policy with operators, a staging cool-down, a weekend freeze and an observe-only trigger. */
const POLICY = SEED_POLICY_TEXT.replace(
  'deployment:\n  phases:\n',
  'deployment:\n  freeze:\n    time_zone: Europe/Berlin\n    windows:\n      - weekends: true\n  phases:\n    staging:\n      cooldown: 6h\n'
)
  .replace(
    '    - performance_degradation > 0.3',
    '    - { when: performance_degradation > 0.3, on_fire: observe }'
  )
  .replace(
    'manual_approval_required: false',
    'manual_approval_required: false\n  operators: [olga]'
  )

function repo(): string {
  const dir = tempRepo({ 'policies/production_deployment.yaml': POLICY })
  writeMetrics(dir, HEALTHY)
  return dir
}

const head = (dir: string) => sh(dir, 'git', 'rev-parse', 'HEAD')
const state = (dir: string) => readFileSync(join(dir, STATE), 'utf8')
// Freeze windows are judged at the clock too when a committing --now is earlier (issue 15, A5):
// a weekend window would hold these past-dated advances whenever the suite runs on a weekend.
// The clock is pinned to a Wednesday (and still moves).
beforeAll(() => {
  vi.useFakeTimers({ toFake: ['Date'], shouldAdvanceTime: true })
  vi.setSystemTime(new Date('2026-12-02T12:00:00Z'))
})
afterAll(() => vi.useRealTimers())

const asOlga = (dir: string, command: string, hours: number, reason = 'investigating') =>
  cli(dir, command, '--reason', reason, '--operator', 'olga', '--now', at(hours).toISOString())

describe('phasegate pause / resume', () => {
  it('a pause is a transition; a paused rollout holds; resume lifts it and it advances again', async () => {
    const dir = repo()
    await cli(dir, 'init', '--now', at(0).toISOString())
    const paused = await asOlga(dir, 'pause', 1)
    expect(paused.code, paused.err).toBe(0)
    expect(paused.out).toContain('paused production_deployment at development')
    expect(state(dir)).toMatch(/paused:\n\s+at: /)
    expect(
      sh(dir, 'git', 'log', '-1', '--format=%(trailers:key=Phasegate-Kind,valueonly)')
    ).toMatch(/^pause/)
    // It is a transition by THE rule (it changes the state file consistently with its trailers).
    expect((await transitionsIn(dir, FEATURE))[0]).toMatchObject({
      kind: 'pause',
      from: 'development',
      to: 'development',
      operator: 'olga'
    })

    const before = head(dir)
    const held = await tick(dir, 2)
    expect(held.code, held.err).toBe(0)
    expect(held.out).toContain('paused since')
    expect(held.out).toContain('PAUSED since')
    expect(head(dir)).toBe(before)

    const again = await asOlga(dir, 'pause', 2)
    expect(again.code).toBe(1)
    expect(again.err).toContain('already paused')

    const resumed = await asOlga(dir, 'resume', 3, 'found it')
    expect(resumed.code, resumed.err).toBe(0)
    expect(resumed.out).toContain('(pause lifted)')
    expect(state(dir)).not.toContain('paused:')
    const moved = await tick(dir, 4)
    expect(moved.out).toContain('ADVANCE development -> staging')
  })

  it('only operators pause or resume, and both need a reason', async () => {
    const dir = repo()
    await cli(dir, 'init', '--now', at(0).toISOString())
    const before = head(dir)
    const stranger = await cli(
      dir,
      'pause',
      '--reason',
      'x',
      '--operator',
      'mallory',
      '--now',
      at(1).toISOString()
    )
    expect(stranger.code).toBe(1)
    expect(stranger.err).toContain("not one of this policy's rollback operators")
    const noReason = await asOlga(dir, 'pause', 1, '  ')
    expect(noReason.code).toBe(1)
    expect(noReason.err).toContain('a pause needs a reason')
    const nothing = await asOlga(dir, 'resume', 1)
    expect(nothing.code).toBe(1)
    expect(nothing.err).toContain('neither paused nor turned off')
    expect(head(dir)).toBe(before)
  })

  it("a paused rollout's triggers still roll it back, and it stays paused", async () => {
    const dir = repo()
    await cli(dir, 'init', '--now', at(0).toISOString())
    await tick(dir, 1)
    await asOlga(dir, 'pause', 2)
    writeMetrics(dir, { ...HEALTHY, error_rate: 0.05 })
    const run = await tick(dir, 3)
    expect(run.out).toContain('ROLL BACK staging -> development')
    expect(state(dir)).toContain('phase: development')
    expect(state(dir)).toMatch(/paused:\n\s+at: /)
  })
})

describe('cool-down after a rollback, from git history', () => {
  it('holds the advance into the phase rolled back from, even after other transitions', async () => {
    const dir = repo()
    await cli(dir, 'init', '--now', at(0).toISOString())
    await tick(dir, 1)
    writeMetrics(dir, { ...HEALTHY, error_rate: 0.05 })
    expect((await tick(dir, 2)).out).toContain('ROLL BACK staging -> development')
    writeMetrics(dir, HEALTHY)
    // A pause and a resume since: the state's last transition is no longer the rollback.
    await asOlga(dir, 'pause', 2.5)
    await asOlga(dir, 'resume', 3)
    const before = head(dir)
    const held = await tick(dir, 4)
    expect(held.out).toContain('cool-down of 6h ends at 2026-03-02T17:00:00.000Z')
    expect(head(dir)).toBe(before)
    expect((await tick(dir, 8)).out).toContain('ADVANCE development -> staging')
  })
})

describe('freeze windows and observe-only triggers', () => {
  it('holds an advance inside the weekend window and says when it ends', async () => {
    const dir = repo()
    await cli(dir, 'init', '--now', at(0).toISOString())
    // 2026-03-07 is a Saturday; at(120) is 10:00 in Berlin.
    const before = head(dir)
    const run = await tick(dir, 120)
    expect(run.code, run.err).toBe(0)
    expect(run.out).toContain('nothing lands as an advance inside a freeze window')
    expect(run.out).toContain('until 2026-03-08T23:00:00.000Z (2026-03-09 00:00 Europe/Berlin)')
    expect(head(dir)).toBe(before)
    // Monday 00:00 in Berlin is 2026-03-08T23:00Z, at(158).
    expect((await tick(dir, 158)).out).toContain('ADVANCE development -> staging')
  })

  it('a rollback lands inside the window', async () => {
    const dir = repo()
    await cli(dir, 'init', '--now', at(0).toISOString())
    await tick(dir, 1)
    writeMetrics(dir, { ...HEALTHY, error_rate: 0.05 })
    expect((await tick(dir, 120)).out).toContain('ROLL BACK staging -> development')
  })

  it('an observe-only trigger is reported and rolls nothing back', async () => {
    const dir = repo()
    await cli(dir, 'init', '--now', at(0).toISOString())
    await tick(dir, 1)
    writeMetrics(dir, { ...HEALTHY, performance_degradation: 0.5 })
    const run = await cli(dir, 'status', '--now', at(2).toISOString())
    expect(run.out).toMatch(/\[FIRED\] performance_degradation > 0\.3/)
    expect(run.out).toContain(
      'on fire: performance_degradation > 0.3 observe-only: reported and alerted, nothing rolled back; the others roll back'
    )
    expect(run.out).toContain('[critical]')
    const ticked = await tick(dir, 2)
    // Observing neither rolls back nor holds: staging's one gate passes, so it advances.
    expect(ticked.out).not.toContain('ROLL BACK')
    expect(ticked.out).toContain('ADVANCE staging -> canary')
    expect(ticked.out).toContain('observe-only, nothing rolled back')
  })
})
