import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import { at, HEALTHY, SEED_POLICY_TEXT } from '../support/policies.js'
import { cli, sh, tempRepo, writeMetrics } from '../support/repo.js'
import { rolloutAtCanary, tick } from '../support/rollouts.js'

// Exposure rises only when nothing holds it: a resume of the kill switch inside a freeze window or
// under another operator's pause, and a cool-down that a shallow checkout cannot see, from the CLI
// on real git repositories.

const DATAFILE = '.phasegate/state/production_deployment.datafile.json'

/** The seed policy with a Berlin weekend freeze and two operators. */
const FROZEN_WEEKENDS = SEED_POLICY_TEXT.replace(
  'deployment:\n  phases:\n',
  'deployment:\n  freeze:\n    time_zone: Europe/Berlin\n    windows:\n      - weekends: true\n  phases:\n'
).replace(
  'manual_approval_required: false',
  'manual_approval_required: false\n  operators: [olga, bob]'
)

// Freeze windows are judged at the clock too when a committing --now is earlier (issue 15, A5):
// a weekend window would hold these past-dated advances whenever the suite runs on a weekend.
// The clock is pinned to a Wednesday (and still moves).
beforeAll(() => {
  vi.useFakeTimers({ toFake: ['Date'], shouldAdvanceTime: true })
  vi.setSystemTime(new Date('2026-12-02T12:00:00Z'))
})
afterAll(() => vi.useRealTimers())

const as = (dir: string, who: string, hours: number, reason: string, ...args: string[]) =>
  cli(dir, ...args, '--reason', reason, '--operator', who, '--now', at(hours).toISOString())
const datafile = (dir: string) =>
  JSON.parse(readFileSync(join(dir, DATAFILE), 'utf8')) as { enabled: boolean }
const head = (dir: string) => sh(dir, 'git', 'rev-parse', 'HEAD')

describe('a resume that turns the kill switch back on waits for the freeze window', () => {
  it('resume inside a weekend window is refused, naming the window and its end; nothing is committed', async () => {
    const dir = await rolloutAtCanary(FROZEN_WEEKENDS)
    expect((await as(dir, 'olga', 3, 'incident', 'rollback', '--emergency')).code).toBe(0)
    expect(datafile(dir).enabled).toBe(false)
    const before = head(dir)
    // at(120) is Saturday 2026-03-07 in Berlin: inside the weekend window.
    const resumed = await as(dir, 'olga', 120, 'fixed', 'resume')
    expect(resumed.code, resumed.out + resumed.err).toBe(1)
    expect(resumed.err).toContain('freeze window "weekends"')
    // Monday 00:00 in Berlin (CET) is Sunday 23:00 UTC.
    expect(resumed.err).toContain('2026-03-08T23:00:00.000Z')
    expect(head(dir)).toBe(before)
    expect(datafile(dir).enabled).toBe(false)
    // Monday: the window is over and the same resume lands.
    const monday = await as(dir, 'olga', 167, 'fixed', 'resume')
    expect(monday.code, monday.out + monday.err).toBe(0)
    expect(datafile(dir).enabled).toBe(true)
  })

  it('lifting a pause inside a window lands: the window itself still holds the advance', async () => {
    const dir = await rolloutAtCanary(FROZEN_WEEKENDS)
    expect((await as(dir, 'olga', 3, 'incident', 'pause')).code).toBe(0)
    const resumed = await as(dir, 'olga', 120, 'incident over', 'resume')
    expect(resumed.code, resumed.out + resumed.err).toBe(0)
    expect(resumed.out).toContain('pause lifted')
    const next = await tick(dir, 121)
    expect(next.out).not.toContain('ADVANCE')
  })
})

describe('a resume says what it lifts: another operator pause is not lifted by the way', () => {
  async function pausedAndOff(): Promise<string> {
    const dir = await rolloutAtCanary(FROZEN_WEEKENDS)
    expect(
      (await as(dir, 'olga', 3, 'payments incident: hold until SRE says so', 'pause')).code
    ).toBe(0)
    expect((await as(dir, 'bob', 4, 'bad deploy', 'rollback', '--emergency')).code).toBe(0)
    return dir
  }

  it("turning the kill switch back on after an emergency does not also lift another operator's pause", async () => {
    const dir = await pausedAndOff()
    const before = head(dir)
    // Bob fixed his deploy; Olga's incident is not over. A plain resume would lift both.
    const resumed = await as(dir, 'bob', 5, 'hotfix deployed', 'resume')
    expect(resumed.code, resumed.out).toBe(1)
    expect(resumed.err).toContain('paused')
    expect(resumed.err).toContain('payments incident')
    expect(resumed.err).toContain('kill switch')
    expect(resumed.err).toContain('--pause --kill-switch')
    expect(head(dir)).toBe(before)
    const next = await tick(dir, 6)
    expect(next.out).not.toContain('ADVANCE staging -> canary')
  })

  it('resume --kill-switch under a pause is refused: the pause holds every exposure raise', async () => {
    const dir = await pausedAndOff()
    const before = head(dir)
    const resumed = await as(dir, 'bob', 5, 'hotfix deployed', 'resume', '--kill-switch')
    expect(resumed.code, resumed.out).toBe(1)
    expect(resumed.err).toContain('payments incident')
    expect(head(dir)).toBe(before)
    expect(datafile(dir).enabled).toBe(false)
  })

  it('resume --pause --kill-switch lifts both, and says so', async () => {
    const dir = await pausedAndOff()
    const resumed = await as(dir, 'olga', 5, 'all clear', 'resume', '--pause', '--kill-switch')
    expect(resumed.code, resumed.out + resumed.err).toBe(0)
    expect(resumed.out).toContain('pause lifted, kill switch on')
    expect(datafile(dir).enabled).toBe(true)
  })

  it('a flag naming what is not in force is refused', async () => {
    const dir = await rolloutAtCanary(FROZEN_WEEKENDS)
    expect((await as(dir, 'olga', 3, 'incident', 'pause')).code).toBe(0)
    const resumed = await as(dir, 'olga', 4, 'x', 'resume', '--kill-switch')
    expect(resumed.code).toBe(1)
    expect(resumed.err).toContain('kill switch')
    expect(resumed.err).toContain('already on')
  })
})

describe('a cool-down is never skipped because history is missing', () => {
  it("a shallow checkout (actions/checkout's default) holds the advance inside canary's cool-down after a pause and resume", async () => {
    const policyText = SEED_POLICY_TEXT.replace(
      '    canary:\n      user_percentage: 1\n',
      '    canary:\n      user_percentage: 1\n      cooldown: 6h\n'
    ).replace(
      'manual_approval_required: false',
      'manual_approval_required: false\n  operators: [olga]'
    )
    const dir = await rolloutAtCanary(policyText)
    writeMetrics(dir, { ...HEALTHY, error_rate: 0.05 })
    expect((await tick(dir, 3)).out).toContain('ROLL BACK canary -> staging')
    // On-call pauses while they look, then resumes: the rollback is no longer the last transition.
    expect((await as(dir, 'olga', 3.2, 'incident', 'pause')).code).toBe(0)
    expect((await as(dir, 'olga', 3.4, 'incident', 'resume')).code).toBe(0)
    // The next scheduled run checks out with depth 1, as actions/checkout does by default.
    const shallow = mkdtempSync(join(tmpdir(), 'phasegate-test-'))
    sh(tmpdir(), 'git', 'clone', '-q', '--depth', '1', `file://${dir}`, shallow)
    sh(shallow, 'git', 'config', 'user.name', 'Test User')
    sh(shallow, 'git', 'config', 'user.email', 'test@example.com')
    writeMetrics(shallow, HEALTHY)
    writeMetrics(dir, HEALTHY)
    // The full history holds (canary's cool-down runs to at(9)).
    expect((await cli(dir, 'status', '--now', at(4).toISOString())).out).toContain(
      'cool-down of 6h ends at'
    )
    const run = await tick(shallow, 4)
    expect(run.out, run.out).not.toContain('ADVANCE staging -> canary')
    expect(run.out).toContain('cool-down')
    expect(run.out).toContain('fetch-depth: 0')
  })
})

describe("a guardrail compares the groups the datafile serves, not a held raise's", () => {
  it('inside a window, a policy edit raising canary 10% -> 50% leaves the guardrail judging the 10% split it serves', async () => {
    const doc = readFileSync(join(import.meta.dirname, '../../docs/guardrails.md'), 'utf8')
    const policy = /## A complete example[\s\S]*?```yaml\n([\s\S]*?)```/.exec(doc)![1]!
    const dir = tempRepo({ 'policies/checkout.yaml': policy })
    writeMetrics(dir, {}, 'checkout')
    await cli(dir, 'init', '--now', at(0).toISOString())
    expect((await tick(dir, 1)).out).toContain('ADVANCE staging -> canary')
    // A policy edit raises canary to 50% inside a window covering the whole week: it waits, and
    // the datafile (what the application serves) keeps canary at 10%.
    const edited = policy
      .replace('      user_percentage: 10\n', '      user_percentage: 50\n')
      .replace(
        'deployment:\n',
        'deployment:\n  freeze:\n    time_zone: UTC\n    windows:\n      - dates: { from: 2026-03-01, to: 2026-03-31 }\n'
      )
    expect(edited).not.toBe(policy)
    writeFileSync(join(dir, 'policies/checkout.yaml'), edited)
    sh(dir, 'git', 'commit', '-qam', 'canary to 50%')
    // An A/A split as the datafile serves it: 10% treatment.
    writeMetrics(
      dir,
      {
        groups: {
          control: { error_rate: { value: 0.01, samples: 9_000_000 } },
          treatment: { error_rate: { value: 0.01, samples: 1_000_000 } }
        }
      },
      'checkout'
    )
    const status = await cli(dir, 'status', '--now', at(3).toISOString())
    expect(status.out, status.out).toContain('10% of users')
    expect(status.out, status.out).not.toMatch(/sample ratio/i)
    expect(status.out).toMatch(/\[pass\] guardrail: error_rate/)
  })
})
