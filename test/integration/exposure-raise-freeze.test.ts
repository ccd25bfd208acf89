// Attack finding A13 (issue 15 item 2 x issue 14's datafile refresh): a policy edit that raises the
// current phase's exposure is no transition, so neither a freeze window nor a pause held it: the
// refresh took the datafile applications poll from 1% to 100% inside the window. An increase now
// waits (said, with until when); a decrease lands at once (rolling back may not wait).
import { readFileSync, writeFileSync } from 'node:fs'
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
const T = (h: number) => new Date(Date.UTC(2026, 2, 1, h)).toISOString()
const DATAFILE = '.phasegate/state/f.datafile.json'

const datafileOf = (dir: string) =>
  JSON.parse(readFileSync(join(dir, DATAFILE), 'utf8')) as Record<string, unknown>

function editPolicy(dir: string, text: string): void {
  writeFileSync(join(dir, 'policies/f.yaml'), text)
  sh(dir, 'git', 'commit', '-q', '-am', 'policy edit')
}

describe('an exposure raise by a policy edit waits for a freeze window or a pause', () => {
  // The attack branch's test, as written there.
  it('A13 a datafile refresh that raises exposure does not land inside a freeze window (or while paused)', async () => {
    const dir = tempRepo({ 'policies/f.yaml': FROZEN })
    expect((await cli(dir, 'init', '--now', T(0))).code).toBe(0)
    editPolicy(dir, FROZEN.replace('user_percentage: 1,', 'user_percentage: 100,'))
    const tick = await cli(dir, 'tick', '--now', T(1))
    expect(tick.out).toMatch(/freeze window/)
    expect(datafileOf(dir).user_percentage, tick.out).toBe(1)

    const paused = tempRepo({ 'policies/f.yaml': POLICY })
    expect((await cli(paused, 'init', '--now', T(0))).code).toBe(0)
    expect((await cli(paused, 'pause', '--reason', 'incident', '--now', T(1))).code).toBe(0)
    editPolicy(paused, POLICY.replace('user_percentage: 10}', 'user_percentage: 100}'))
    const held = await cli(paused, 'tick', '--now', T(2))
    expect(datafileOf(paused).user_percentage, held.out).toBe(10)
  })

  it('says that the raise waits and until when, commits nothing, and lands once the window ends', async () => {
    const dir = tempRepo({ 'policies/f.yaml': FROZEN })
    expect((await cli(dir, 'init', '--now', T(0))).code).toBe(0)
    editPolicy(dir, FROZEN.replace('feature_flags: [old]', 'feature_flags: [old, new]'))
    const head = sh(dir, 'git', 'rev-parse', 'HEAD')
    const tick = await cli(dir, 'tick', '--now', T(1))
    expect(tick.code, tick.err).toBe(0)
    expect(tick.out).toMatch(
      /feature_flags .*waits.*freeze window .*until 2026-03-11T00:00:00\.000Z/
    )
    expect(sh(dir, 'git', 'rev-parse', 'HEAD')).toBe(head)
    expect(datafileOf(dir).feature_flags).toEqual(['old'])
    // After the window (the tick's own clock check allows a past --now only).
    const after = await cli(dir, 'tick', '--now', new Date(Date.UTC(2026, 2, 11, 1)).toISOString())
    expect(after.out).toMatch(/refreshed/)
    expect(datafileOf(dir).feature_flags).toEqual(['old', 'new'])
  })

  it('a decrease lands at once inside a freeze window and while paused; an increase beside it waits', async () => {
    const dir = tempRepo({ 'policies/f.yaml': FROZEN })
    expect((await cli(dir, 'init', '--now', T(0))).code).toBe(0)
    // Flag removed (a decrease) and percentage raised in one edit: the removal lands alone.
    editPolicy(
      dir,
      FROZEN.replace('user_percentage: 1, feature_flags: [old]', 'user_percentage: 100')
    )
    const tick = await cli(dir, 'tick', '--now', T(1))
    expect(tick.out).toMatch(/refreshed/)
    expect(tick.out).toMatch(/user_percentage 1 -> 100 waits/)
    expect(datafileOf(dir)).toMatchObject({ user_percentage: 1, feature_flags: [] })

    const paused = tempRepo({ 'policies/f.yaml': POLICY })
    expect((await cli(paused, 'init', '--now', T(0))).code).toBe(0)
    expect((await cli(paused, 'pause', '--reason', 'incident', '--now', T(1))).code).toBe(0)
    editPolicy(paused, POLICY.replace('user_percentage: 10}', 'user_percentage: 5}'))
    const lower = await cli(paused, 'tick', '--now', T(2))
    expect(lower.out).toMatch(/refreshed/)
    expect(datafileOf(paused).user_percentage).toBe(5)
    // A phase turned off lands while paused too.
    editPolicy(
      paused,
      POLICY.replace('a: {user_percentage: 10}', 'a: {user_percentage: 10, enabled: false}')
    )
    await cli(paused, 'tick', '--now', T(3))
    expect(datafileOf(paused)).toMatchObject({ enabled: false })
  })
})
