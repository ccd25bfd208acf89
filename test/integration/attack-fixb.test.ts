// The attack review's findings A1, A9 and A14 on the CLI (branch attack, /work/notes/attack.md),
// fixed on branch fixb. Each test says what should happen and failed on the code before the fix.
import { mkdtempSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
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
const DATAFILE = '.phasegate/state/f.datafile.json'
/** A policy that does not load (one phase where two are needed). */
const BROKEN = 'feature: g\ndeployment:\n  order: [a]\n  phases:\n    a: {user_percentage: 5}\n'

/** f started at a (T0) and advanced to b (T1, approved by bob). */
async function atB(): Promise<string> {
  const dir = tempRepo({ 'policies/f.yaml': POLICY })
  expect((await cli(dir, 'init', '--now', T(0))).code).toBe(0)
  const tick = await cli(dir, 'tick', '--now', T(1), '--approved-by', 'bob')
  expect(tick.out).toMatch(/ADVANCE a -> b/)
  return dir
}

const datafileOf = (dir: string) =>
  JSON.parse(readFileSync(join(dir, DATAFILE), 'utf8')) as Record<string, unknown>

describe('attack findings A1, A9, A14 (CLI)', () => {
  // Issue 14 item 7 x issue 12 item 10 (lost state): the on-call pulls the lever and it refuses,
  // while the committed datafile every application polls still says on at 50%. The error says
  // "phasegate treats the feature as off everywhere (tick rewrites its datafile off)" but the
  // emergency itself writes nothing: until a tick runs, the kill switch reaches no instance.
  it('A1 an emergency rollback of a rollout whose state file was lost turns the feature off in the datafile at once', async () => {
    const dir = await atB()
    sh(dir, 'git', 'rm', '-q', '.phasegate/state/f.yaml')
    sh(dir, 'git', 'commit', '-q', '-m', 'cleanup (deletes the state by mistake)')
    expect(datafileOf(dir)).toMatchObject({ enabled: true, user_percentage: 50 })
    const emergency = await cli(
      dir,
      'rollback',
      '--emergency',
      '--reason',
      'incident',
      '--now',
      T(2)
    )
    // Whatever it says about the lost state, the lever must act: the datafile is off, committed.
    expect(datafileOf(dir), emergency.err).toMatchObject({ enabled: false, user_percentage: 0 })
    expect(sh(dir, 'git', 'status', '--porcelain')).toBe('')
    expect(emergency.code, emergency.err).toBe(0)
  })

  // On call, a single fault: another team's policy is broken on main. `phasegate rollback
  // --emergency --reason ...` (the documented lever, no --policy) exits 1 with only the other
  // policy's error and turns nothing off; the error does not even say that `--policy` would get
  // past it. tick acts on every good feature and reports the broken one; the lever must too.
  it("A9 an emergency rollback is not blocked by another feature's broken policy", async () => {
    const dir = await atB()
    writeFileSync(
      join(dir, 'policies/g.yaml'),
      'feature: g\ndeployment:\n  order: [a]\n  phases:\n    a: {user_percentage: 5}\n'
    )
    sh(dir, 'git', 'add', '-A')
    sh(dir, 'git', 'commit', '-q', '-m', "another team's broken policy")
    const emergency = await cli(dir, 'rollback', '--emergency', '--reason', 'fire', '--now', T(2))
    expect(datafileOf(dir), emergency.err).toMatchObject({ enabled: false })
    expect(emergency.out).toMatch(/emergency f/)
    // The broken policy is still reported, located.
    expect(emergency.err).toMatch(/policies\/g\.yaml:\d+:\d+/)
  })

  // Issue 10 kind 8 (where phasegate reads and writes) x issue 14's datafile: `state:` is held
  // inside the work tree, but the datafile beside it is not checked. A committed symlink
  // `.phasegate/state/f.datafile.json -> /outside/file` makes init/tick overwrite that file (on a
  // runner: anything the job can write), and validate/status echo its contents in the JSON parse
  // error (on a runner: a credentials file, /proc/self/environ).
  it('A14 a datafile path that is a symlink out of the work tree is refused: nothing written there, nothing echoed', async () => {
    const outside = mkdtempSync(join(tmpdir(), 'phasegate-outside-'))
    const victim = join(outside, 'secret.txt')
    writeFileSync(victim, 'TOKEN=s3cr3t-value\n')
    const dir = tempRepo({ 'policies/f.yaml': POLICY, '.phasegate/state/.keep': '' })
    symlinkSync(victim, join(dir, DATAFILE))
    sh(dir, 'git', 'add', '-A')
    sh(dir, 'git', 'commit', '-q', '-m', 'a symlinked datafile')
    const validate = await cli(dir, 'validate')
    expect(`${validate.out}${validate.err}`).not.toContain('s3cr3t')
    const init = await cli(dir, 'init', '--now', T(0))
    expect(readFileSync(victim, 'utf8')).toBe('TOKEN=s3cr3t-value\n')
    expect(init.code).toBe(1)
    expect(init.err).toMatch(/f\.datafile\.json/)
  })

  // A9's kind on the other manual commands: a pause (holds exposure) goes on with the one rollout
  // that loaded; a resume (raises exposure) refuses, since the broken file may be the one meant,
  // and says how to name the rollout.
  it("A9 pause goes on past another feature's broken policy; resume refuses and names --policy", async () => {
    const dir = await atB()
    writeFileSync(join(dir, 'policies/g.yaml'), BROKEN)
    sh(dir, 'git', 'add', '-A')
    sh(dir, 'git', 'commit', '-q', '-m', "another team's broken policy")
    const paused = await cli(dir, 'pause', '--reason', 'hold', '--now', T(2))
    expect(paused.code, paused.err).toBe(0)
    expect(paused.out).toMatch(/paused f at b/)
    expect(paused.err).toMatch(/policies\/g\.yaml:\d+:\d+/)
    const head = sh(dir, 'git', 'rev-parse', 'HEAD')
    const resumed = await cli(dir, 'resume', '--reason', 'ok', '--now', T(3))
    expect(resumed.code).toBe(1)
    expect(resumed.err).toMatch(/policies\/g\.yaml:\d+:\d+/)
    expect(resumed.err).toMatch(/--policy/)
    expect(sh(dir, 'git', 'rev-parse', 'HEAD')).toBe(head)
    // Named, it acts.
    const named = await cli(
      dir,
      'resume',
      '--policy',
      'policies/f.yaml',
      '--reason',
      'ok',
      '--now',
      T(3)
    )
    expect(named.code, named.err).toBe(0)
  })

  it('A9 with --policy naming the broken file, the rollback still refuses with its located error', async () => {
    const dir = await atB()
    writeFileSync(join(dir, 'policies/g.yaml'), BROKEN)
    sh(dir, 'git', 'add', '-A')
    sh(dir, 'git', 'commit', '-q', '-m', "another team's broken policy")
    const head = sh(dir, 'git', 'rev-parse', 'HEAD')
    const r = await cli(
      dir,
      'rollback',
      '--emergency',
      '--policy',
      'policies/g.yaml',
      '--reason',
      'x',
      '--now',
      T(2)
    )
    expect(r.code).toBe(1)
    expect(r.err).toMatch(/policies\/g\.yaml:\d+:\d+/)
    expect(sh(dir, 'git', 'rev-parse', 'HEAD')).toBe(head)
  })

  it('A1 the lost-state emergency commit is a refresh, not a transition, and says how to restore the state', async () => {
    const dir = await atB()
    sh(dir, 'git', 'rm', '-q', '.phasegate/state/f.yaml')
    sh(dir, 'git', 'commit', '-q', '-m', 'cleanup (deletes the state by mistake)')
    const emergency = await cli(
      dir,
      'rollback',
      '--emergency',
      '--reason',
      'incident',
      '--now',
      T(2)
    )
    expect(emergency.out).toMatch(/emergency f: state file lost; datafile .* rewritten OFF/)
    expect(emergency.err).toMatch(/git checkout [0-9a-f]+ -- \.phasegate\/state\/f\.yaml/)
    const message = sh(dir, 'git', 'log', '-1', '--format=%B')
    expect(message).toMatch(/refresh/)
    expect(sh(dir, 'git', 'show', '--name-only', '--format=', 'HEAD')).toBe(DATAFILE)
    // A second pull of the lever has nothing left to turn off and commits nothing.
    const again = await cli(dir, 'rollback', '--emergency', '--reason', 'incident', '--now', T(3))
    expect(again.code, again.err).toBe(0)
    expect(sh(dir, 'git', 'log', '-1', '--format=%B')).toBe(message)
    // A non-emergency rollback of a lost rollout still refuses: it needs a state to step from.
    expect((await cli(dir, 'rollback', '--reason', 'x', '--now', T(3))).code).toBe(1)
  })

  it('A14 a datafile that is not JSON is reported by line and column, its text never echoed', async () => {
    const dir = await atB()
    writeFileSync(join(dir, DATAFILE), 'TOKEN=s3cr3t-value\n')
    sh(dir, 'git', 'commit', '-qam', 'a hand edit')
    const validate = await cli(dir, 'validate')
    expect(validate.code).toBe(1)
    expect(`${validate.out}${validate.err}`).not.toContain('s3cr3t')
    expect(validate.err).toMatch(/f\.datafile\.json/)
    const status = await cli(dir, 'status', '--now', T(2))
    expect(`${status.out}${status.err}`).not.toContain('s3cr3t')
  })
})
