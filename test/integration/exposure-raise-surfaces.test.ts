// While an exposure raise by a policy edit waits for a freeze window or a pause (A13), the
// datafile holds the exposure in force. Every other surface that answers "what does this feature
// expose" (status, the SDK, validate) gives that same held answer and says that the raise waits;
// an experiment turned on by the edit is a raise like the others.
import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { Feature, isInRollout } from '../../src/sdk/index.js'
import { cli, sh, tempRepo } from '../support/repo.js'

const FROZEN = [
  'feature: f',
  'deployment:',
  '  freeze:',
  '    time_zone: UTC',
  '    windows:',
  '      - dates: { from: 2026-02-25, to: 2026-03-10 }',
  '  order: [a, b]',
  '  phases:',
  '    a: {user_percentage: 1, feature_flags: [old]}',
  '    b: {user_percentage: 100}',
  ''
].join('\n')
// An experiment added by a policy edit: no state entry, so it assigns users as soon as it is served.
const EXPERIMENT = [
  'experiments:',
  '  colour:',
  '    enabled: true',
  '    groups:',
  '      blue: {weight: 50, configuration: {colour: blue}}',
  '      red: {weight: 50, configuration: {colour: red}}',
  ''
].join('\n')
const PAUSABLE = [
  'feature: f',
  'deployment:',
  '  order: [a, b]',
  '  phases:',
  '    a: {user_percentage: 10}',
  '    b: {user_percentage: 100}',
  ''
].join('\n')
const T = (h: number) => new Date(Date.UTC(2026, 2, 1, h)).toISOString()
const AFTER = new Date(Date.UTC(2026, 2, 11, 1)).toISOString()
const DATAFILE = '.phasegate/state/f.datafile.json'
const UNTIL = '2026-03-11T00:00:00.000Z'
const users = Array.from({ length: 2_000 }, (_, i) => `user-${i}`)

const datafileOf = (dir: string) =>
  JSON.parse(readFileSync(join(dir, DATAFILE), 'utf8')) as Record<string, unknown>

function editPolicy(dir: string, text: string): void {
  writeFileSync(join(dir, 'policies/f.yaml'), text)
  sh(dir, 'git', 'commit', '-q', '-am', 'policy edit')
}

/** A frozen rollout at a (1%), its policy then raised to 100% inside the window. */
async function frozenRaise(
  edit = (p: string) => p.replace('user_percentage: 1,', 'user_percentage: 100,')
) {
  const dir = tempRepo({ 'policies/f.yaml': FROZEN })
  expect((await cli(dir, 'init', '--now', T(0))).code).toBe(0)
  editPolicy(dir, edit(FROZEN))
  return dir
}

describe('status gives the exposure in force while a raise waits', () => {
  it('says 1% of users (as the datafile) and that the raise to 100 waits until the window ends', async () => {
    const dir = await frozenRaise()
    const text = await cli(dir, 'status', '--now', T(1))
    expect(text.code, text.err).toBe(0)
    expect(text.out).toMatch(/f: a \(1 of 2\), 1% of users/)
    expect(text.out).toMatch(
      new RegExp(
        `user_percentage 1 -> 100 waits: freeze window .*until ${UNTIL.replace(/\./g, '\\.')}`
      )
    )
    expect(text.out).not.toMatch(/DATAFILE STALE/)
    const json = await cli(dir, 'status', '--json', '--now', T(1))
    const [report] = JSON.parse(json.out) as Record<string, unknown>[]
    expect(report).toMatchObject({
      userPercentage: 1,
      exposure: { userPercentage: 1, featureFlags: ['old'] },
      raiseWaits: { raises: ['user_percentage 1 -> 100'], until: UNTIL }
    })
    expect(report!.datafile).toBeNull()
    // tick and list give the same answer.
    const tick = await cli(dir, 'tick', '--now', T(1))
    expect(tick.out).toMatch(/f: a \(1 of 2\), 1% of users/)
    const list = await cli(dir, 'list', '--now', T(1))
    expect(list.out).toMatch(/^f {2}a {2}1% {2}policies\/f\.yaml$/m)
    // Once the window has ended, the raise is no longer held: status says what tick will write.
    const after = await cli(dir, 'status', '--json', '--now', AFTER)
    expect(JSON.parse(after.out)[0]).toMatchObject({ userPercentage: 100, raiseWaits: null })
  })

  it('says the paused rollout stays at 10% until resume', async () => {
    const dir = tempRepo({ 'policies/f.yaml': PAUSABLE })
    expect((await cli(dir, 'init', '--now', T(0))).code).toBe(0)
    expect((await cli(dir, 'pause', '--reason', 'incident', '--now', T(1))).code).toBe(0)
    editPolicy(dir, PAUSABLE.replace('user_percentage: 10}', 'user_percentage: 100}'))
    const text = await cli(dir, 'status', '--now', T(2))
    expect(text.out).toMatch(/f: a \(1 of 2\), 10% of users/)
    expect(text.out).toMatch(/user_percentage 10 -> 100 waits: the rollout is paused/)
    const [report] = JSON.parse((await cli(dir, 'status', '--json', '--now', T(2))).out)
    expect(report).toMatchObject({ userPercentage: 10, raiseWaits: { until: null } })
  })
})

describe('the SDK gives the same answer as the datafile while a raise waits', () => {
  it('serves 1% and the flags in force, not the policy’s raise', async () => {
    const dir = await frozenRaise(p =>
      p.replace(
        'user_percentage: 1, feature_flags: [old]',
        'user_percentage: 100, feature_flags: [old, new]'
      )
    )
    const feature = Feature.load({ root: dir, policy: 'policies/f.yaml', now: new Date(T(1)) })
    expect(feature.phase()).toMatchObject({ userPercentage: 1, featureFlags: ['old'] })
    expect(users.filter(u => feature.isOn(u))).toEqual(
      users.filter(u => isInRollout('f', u, datafileOf(dir).user_percentage as number))
    )
    const later = Feature.load({ root: dir, policy: 'policies/f.yaml', now: new Date(AFTER) })
    expect(later.phase()).toMatchObject({ userPercentage: 100, featureFlags: ['old', 'new'] })
  })
})

describe('a Feature kept loaded across the end of the window', () => {
  it('serves the raise once the window has ended, without a reload', async () => {
    const dir = await frozenRaise()
    const loaded = Feature.load({ root: dir, policy: 'policies/f.yaml' })
    let now = new Date(T(1))
    const feature = new Feature(loaded.policy, loaded.state, loaded.committed, () => now)
    expect(feature.phase().userPercentage).toBe(1)
    // A millisecond before the end (the answer is trusted until then), and at the end.
    now = new Date(Date.parse(UNTIL) - 1)
    expect(feature.phase().userPercentage).toBe(1)
    now = new Date(UNTIL)
    expect(feature.phase().userPercentage).toBe(100)
  })
})

describe('an experiment turned on by a policy edit is an exposure raise', () => {
  it('waits in the datafile, status and the SDK inside the window; lands after it', async () => {
    // The experiment alone: the feature stays at 1%, whose users would enter its groups.
    const dir = await frozenRaise(p => p + EXPERIMENT)
    const tick = await cli(dir, 'tick', '--now', T(1))
    expect(tick.out).toMatch(/experiments \+ colour waits: freeze window/)
    const held = datafileOf(dir).experiments as { name: string; enabled: boolean }[]
    expect(held.find(e => e.name === 'colour')).toBeUndefined()
    const [report] = JSON.parse((await cli(dir, 'status', '--json', '--now', T(1))).out)
    expect(report.raiseWaits.raises).toContain('experiments + colour')
    const feature = Feature.load({ root: dir, policy: 'policies/f.yaml', now: new Date(T(1)) })
    expect(users.map(u => feature.group('colour', u)).every(g => g === null)).toBe(true)
    const open = Feature.load({ root: dir, policy: 'policies/f.yaml', now: new Date(AFTER) })
    expect(users.some(u => open.group('colour', u) !== null)).toBe(true)

    const after = await cli(dir, 'tick', '--now', AFTER)
    expect(after.out).toMatch(/refreshed/)
    const landed = datafileOf(dir).experiments as { name: string; enabled: boolean }[]
    expect(landed.find(e => e.name === 'colour')?.enabled).toBe(true)
  })
})

describe('validate during a held raise', () => {
  it('reports the waiting raise as a notice and exits 0', async () => {
    const dir = await frozenRaise()
    const run = await cli(dir, 'validate', '--now', T(1))
    expect(run.code, run.err).toBe(0)
    expect(run.out).toMatch(/ok {2}policies\/f\.yaml/)
    expect(run.out).toMatch(
      new RegExp(
        `notice: .*a raise waiting: user_percentage 1 -> 100 waits: freeze window .*until ${UNTIL.replace(/\./g, '\\.')}`
      )
    )
    const json = JSON.parse((await cli(dir, 'validate', '--json', '--now', T(1))).out)
    expect(json[0].problems).toEqual([])
    expect(json[0].notices.join('\n')).toMatch(/a raise waiting/)
  })

  it('still fails on a datafile stale in another way, raise or not', async () => {
    // A decrease beside the raise that no tick has landed yet: the datafile is stale.
    const both = await frozenRaise(p =>
      p.replace('user_percentage: 1, feature_flags: [old]', 'user_percentage: 100')
    )
    const run = await cli(both, 'validate', '--now', T(1))
    expect(run.code).toBe(1)
    expect(run.err).toMatch(/committed datafile/)
    // A hand edit of the datafile, no raise at all.
    const edited = tempRepo({ 'policies/f.yaml': FROZEN })
    expect((await cli(edited, 'init', '--now', T(0))).code).toBe(0)
    writeFileSync(
      join(edited, DATAFILE),
      JSON.stringify({ ...datafileOf(edited), user_percentage: 7 }, null, 2)
    )
    sh(edited, 'git', 'commit', '-q', '-am', 'hand edit')
    const hand = await cli(edited, 'validate', '--now', T(1))
    expect(hand.code).toBe(1)
    expect(hand.err).toMatch(/user_percentage: 7/)
    // Outside the window the raise no longer waits: the stale datafile fails as before.
    const later = await cli(await frozenRaise(), 'validate', '--now', AFTER)
    expect(later.code).toBe(1)
  })
})
