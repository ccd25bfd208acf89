// The attack review's findings A2, A5, A5b and A17 (branch attack, /work/notes/attack.md), fixed
// on branch fixa. Each test failed on the code it was written against.
import { mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { cli, sh, tempRepo } from '../support/repo.js'

const POLICY = [
  'feature: f',
  'deployment:',
  '  order: [a, b, c]',
  '  phases:',
  '    a: {user_percentage: 10}',
  '    b: {user_percentage: 50}',
  '    c: {user_percentage: 100}',
  'rollback:',
  '  automatic_triggers:',
  '    - error_rate > 0.02',
  ''
].join('\n')
const T = (h: number) => new Date(Date.UTC(2026, 2, 1, h)).toISOString()

/** f started at a (T0) and advanced to b (T1, approved by bob). */
async function atB(): Promise<string> {
  const dir = tempRepo({ 'policies/f.yaml': POLICY })
  expect((await cli(dir, 'init', '--now', T(0))).code).toBe(0)
  const tick = await cli(dir, 'tick', '--now', T(1), '--approved-by', 'bob')
  expect(tick.out).toMatch(/ADVANCE a -> b/)
  return dir
}

describe('attack findings fixed on fixa (CLI)', () => {
  // Issue 15 item 5 x issue 12 item 9 (one instant; F15b's kind: an as_of after the evaluation
  // time is refused or not fresh): a heartbeat record from the future (a runner's clock ahead, or
  // anyone who can push the unprotected phasegate-heartbeat branch) counts as fresh until its
  // future time + 3 intervals; status, export and so the OpenFeature metadata say "not stale"
  // although nothing proves the schedule runs, and a dead schedule is never flagged.
  it('A2 a heartbeat recorded in the future is not proof of life: status flags it stale', async () => {
    const dir = await atB()
    const record = JSON.stringify({
      heartbeat_version: 1,
      features: { f: { evaluated_at: '2099-01-01T00:00:00Z', outcome: 'hold' } }
    })
    const blob = sh(dir, 'sh', '-c', `printf '%s\\n' '${record}' | git hash-object -w --stdin`)
    const tree = sh(
      dir,
      'sh',
      '-c',
      `printf '100644 blob ${blob}\\theartbeat.json\\n' | git mktree`
    )
    const commit = sh(dir, 'git', 'commit-tree', tree, '-m', 'heartbeat')
    sh(dir, 'git', 'update-ref', 'refs/heads/phasegate-heartbeat', commit)
    const status = await cli(dir, 'status', '--json', '--now', T(2))
    const [row] = JSON.parse(status.out) as Array<{ heartbeat: { stale: boolean } }>
    expect(row!.heartbeat.stale).toBe(true)
    const exported = JSON.parse((await cli(dir, 'export')).out) as {
      features: Record<string, { heartbeat?: { stale_after: string } }>
    }
    // The exported stale_after must not put "fresh" decades ahead of the evaluation time.
    expect(Date.parse(exported.features.f!.heartbeat!.stale_after)).toBeLessThanOrEqual(
      Date.parse(T(2))
    )
  })

  // Units conversion x state files (the most severe): evidence of a metric with a unit (known
  // from its name like latency_ms, or declared) carries `unit` and `compared`; a transition writes
  // that evidence into the state file, and the state file's strict schema then refuses its own
  // output. From the first advance (or pause, or rollback) on such a gate, every command of the
  // feature fails: the automatic rollback on a latency spike and `rollback --emergency` exit 1.
  it('A5 a transition with evidence on a metric with a unit leaves a state file that phasegate can still read', async () => {
    const policy = POLICY.replace(
      'a: {user_percentage: 10}',
      'a: {user_percentage: 10, success_criteria: {latency_ms: "< 900"}}'
    ).replace('error_rate > 0.02', 'latency_ms > 2000')
    const dir = tempRepo({ 'policies/f.yaml': policy, '.phasegate/metrics/f.yaml': '' })
    expect((await cli(dir, 'init', '--now', T(0))).code).toBe(0)
    writeFileSync(join(dir, '.phasegate/metrics/f.yaml'), 'latency_ms: 100\n')
    const advance = await cli(dir, 'tick', '--now', T(1), '--approved-by', 'bob')
    expect(advance.out).toMatch(/ADVANCE a -> b/)
    expect((await cli(dir, 'validate')).err).toBe('')
    // A latency spike: the automatic rollback must land.
    writeFileSync(join(dir, '.phasegate/metrics/f.yaml'), 'latency_ms: 5000\n')
    const rollback = await cli(dir, 'tick', '--now', T(2))
    expect(rollback.err).toBe('')
    expect(rollback.out).toMatch(/ROLL BACK b -> a/)
    // And the lever after it.
    const emergency = await cli(dir, 'rollback', '--emergency', '--reason', 'fire', '--now', T(3))
    expect(emergency.err).toBe('')
    expect(emergency.code).toBe(0)
  })

  it('A5b an automatic pause (on_fire: pause) on latency_ms leaves a state file the next tick can read', async () => {
    const policy = POLICY.replace(
      '    - error_rate > 0.02',
      '    - {when: latency_ms > 900, on_fire: pause}\n    - error_rate > 0.02'
    )
    const dir = tempRepo({ 'policies/f.yaml': policy, '.phasegate/metrics/f.yaml': '' })
    expect((await cli(dir, 'init', '--now', T(0))).code).toBe(0)
    writeFileSync(join(dir, '.phasegate/metrics/f.yaml'), 'latency_ms: 1000\nerror_rate: 0\n')
    expect((await cli(dir, 'tick', '--now', T(1))).out).toMatch(/PAUSE at a/)
    // The pause holds; the error rate now breaches: the rollback trigger still acts on a paused
    // rollout (docs/operate.md), so the tick must at least read the state and report.
    const status = await cli(dir, 'status', '--now', T(2))
    expect(status.err).toBe('')
    expect(status.code).toBe(0)
  })

  // Issue 12 item 9 (time means one instant) x rollbacks: a committing command accepts any
  // --now after the phase's entry, however far past the clock. One typo (2099 for 2026) commits a
  // transition entered in the future; from then on every tick at the real clock holds a fired
  // trigger "waiting for a reading taken after it": no automatic rollback until that date.
  it('A17 a transition dated past the clock (a --now typo) cannot switch automatic rollbacks off', async () => {
    const dir = await atB()
    const typo = await cli(dir, 'tick', '--now', '2099-03-01T02:00:00Z', '--approved-by', 'bob')
    mkdirSync(join(dir, '.phasegate/metrics'), { recursive: true })
    writeFileSync(join(dir, '.phasegate/metrics/f.yaml'), 'error_rate: 0.5\n')
    const tick = await cli(dir, 'tick') // the real clock
    if (typo.code === 0) {
      // Accepted: then the breach at the real clock must still roll back.
      expect(tick.out).toMatch(/ROLL BACK c -> b/)
    } else {
      expect(typo.err).toMatch(/--now/)
      expect(tick.out).toMatch(/ROLL BACK b -> a/)
    }
  })
  // A17's kind: every command that commits refuses a time past the clock; status looks anywhere.
  it('A17b rollback, pause, resume and init refuse a --now past the clock; status and --dry-run accept it', async () => {
    const far = '2099-03-01T02:00:00Z'
    const dir = await atB()
    const head = sh(dir, 'git', 'rev-parse', 'HEAD')
    for (const args of [
      ['rollback', '--reason', 'r', '--now', far],
      ['rollback', '--emergency', '--reason', 'r', '--now', far],
      ['pause', '--reason', 'r', '--now', far],
      ['resume', '--reason', 'r', '--now', far]
    ]) {
      const run = await cli(dir, ...args)
      expect(run.code, args.join(' ')).toBe(1)
      expect(run.err).toMatch(/--now 2099-03-01T02:00:00.000Z is more than 5m after/)
    }
    expect(sh(dir, 'git', 'rev-parse', 'HEAD')).toBe(head)
    expect((await cli(dir, 'status', '--now', far)).code).toBe(0)
    expect((await cli(dir, 'tick', '--dry-run', '--now', far)).code).toBe(0)
    // Within the skew (a runner's clock a minute ahead) is accepted.
    const soon = new Date(Date.now() + 60_000).toISOString()
    expect((await cli(dir, 'rollback', '--reason', 'r', '--now', soon)).code).toBe(0)
    const fresh = tempRepo({ 'policies/f.yaml': POLICY })
    const init = await cli(fresh, 'init', '--now', far)
    expect(init.code).toBe(1)
    expect(init.err).toMatch(/--now/)
  })
})
