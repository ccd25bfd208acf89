// "Rolling back may not wait; no single fault stops a rollback": a state file that is present but
// does not read (broken YAML, or a value its schema refuses) must not block the emergency lever.
// As for a lost state file (A1), `rollback --emergency` writes the feature's datafile off in a
// commit of its own, reports the state file's located error, and exits 0.
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
  ''
].join('\n')
const T = (h: number) => new Date(Date.UTC(2026, 2, 1, h)).toISOString()
const STATE = '.phasegate/state/f.yaml'
const DATAFILE = '.phasegate/state/f.datafile.json'
/** A policy that does not load (one phase where two are needed). */
const BROKEN_POLICY =
  'feature: g\ndeployment:\n  order: [a]\n  phases:\n    a: {user_percentage: 5}\n'

const datafileOf = (dir: string) =>
  JSON.parse(readFileSync(join(dir, DATAFILE), 'utf8')) as Record<string, unknown>

/** f advanced to b (50%), then its state file committed broken by `breakIt`. */
async function brokenAtB(breakIt: (text: string) => string, files: Record<string, string> = {}) {
  const dir = tempRepo({ 'policies/f.yaml': POLICY, ...files })
  expect((await cli(dir, 'init', '--now', T(0), '--policy', 'policies/f.yaml')).code).toBe(0)
  const tick = await cli(
    dir,
    'tick',
    '--now',
    T(1),
    '--approved-by',
    'bob',
    '--policy',
    'policies/f.yaml'
  )
  expect(tick.out).toMatch(/ADVANCE a -> b/)
  writeFileSync(join(dir, STATE), breakIt(readFileSync(join(dir, STATE), 'utf8')))
  sh(dir, 'git', 'commit', '-q', '-am', 'a bad merge of the state file')
  expect(datafileOf(dir)).toMatchObject({ enabled: true, user_percentage: 50 })
  return dir
}

const CASES: Array<[string, (text: string) => string, RegExp]> = [
  ['unparseable YAML', text => text.replace(/^phase: b$/m, 'phase: [b'), /f\.yaml:\d+:\d+/],
  ['a duplicate key', text => `${text}phase: c\n`, /f\.yaml:\d+:\d+: duplicate key/],
  [
    'a value its schema refuses',
    text => text.replace(/^phase: b$/m, 'phase: nowhere'),
    /f\.yaml:\d+:\d+: .*nowhere/
  ],
  [
    'a merge conflict left in it',
    text => `<<<<<<< HEAD\n${text}=======\nphase: a\n>>>>>>> x\n`,
    /f\.yaml:\d+:\d+/
  ]
]

describe('rollback --emergency with a state file that does not read', () => {
  for (const [what, breakIt, located] of CASES) {
    it(`${what}: the datafile is written off and committed, the located error is reported, exit 0`, async () => {
      const dir = await brokenAtB(breakIt)
      const head = sh(dir, 'git', 'rev-parse', 'HEAD')
      const emergency = await cli(
        dir,
        'rollback',
        '--emergency',
        '--reason',
        'incident',
        '--now',
        T(2)
      )
      expect(emergency.code, emergency.err).toBe(0)
      expect(datafileOf(dir)).toMatchObject({ enabled: false, user_percentage: 0 })
      expect(sh(dir, 'git', 'status', '--porcelain')).toBe('')
      expect(sh(dir, 'git', 'rev-parse', 'HEAD^')).toBe(head)
      expect(sh(dir, 'git', 'show', '--name-only', '--format=', 'HEAD')).toBe(DATAFILE)
      expect(emergency.out).toMatch(
        /emergency f: state file .*datafile .* rewritten OFF; committed [0-9a-f]{10}/
      )
      expect(emergency.err).toMatch(located)
    })
  }

  it('named with --policy, and beside another broken policy, it acts the same', async () => {
    const dir = await brokenAtB(text => `${text}phase: [b\n`, { 'policies/g.yaml': BROKEN_POLICY })
    const named = await cli(
      dir,
      'rollback',
      '--emergency',
      '--reason',
      'x',
      '--now',
      T(2),
      '--policy',
      'policies/f.yaml'
    )
    expect(named.code, named.err).toBe(0)
    expect(datafileOf(dir)).toMatchObject({ enabled: false, user_percentage: 0 })

    const other = await brokenAtB(text => `${text}phase: [b\n`, {
      'policies/g.yaml': BROKEN_POLICY
    })
    const unnamed = await cli(other, 'rollback', '--emergency', '--reason', 'x', '--now', T(2))
    expect(unnamed.code, unnamed.err).toBe(0)
    expect(datafileOf(other)).toMatchObject({ enabled: false, user_percentage: 0 })
    expect(unnamed.err).toMatch(/not loaded: policies\/g\.yaml/)
  })

  it('a plain rollback (not an emergency) still refuses: it needs a state to move from', async () => {
    const dir = await brokenAtB(text => `${text}phase: [b\n`)
    const head = sh(dir, 'git', 'rev-parse', 'HEAD')
    const plain = await cli(dir, 'rollback', '--reason', 'x', '--now', T(2))
    expect(plain.code).toBe(1)
    expect(plain.err).toMatch(/f\.yaml:\d+:\d+/)
    expect(sh(dir, 'git', 'rev-parse', 'HEAD')).toBe(head)
  })
})
