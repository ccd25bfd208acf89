// The dashboard's history cache (git/history-cache.ts): a rebuild reads only the commits after
// the cached tip, and shows exactly what a build that reads the whole history shows; a cache it
// cannot trust for this HEAD (another shape, other policies, a rewritten branch) is read around.

import { existsSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { expect, test } from 'vitest'
import { at, SEED_POLICY_TEXT } from '../support/policies.js'
import { cli, sh, tempRepo } from '../support/repo.js'

const FEATURES = ['alpha', 'beta']

function repo(): string {
  return tempRepo(Object.fromEntries(FEATURES.map(n => [`policies/${n}.yaml`, SEED_POLICY_TEXT])))
}

const cacheFile = (dir: string) => join(dir, '.git', 'phasegate', 'dashboard-history.json')

/** Runs a transition command and checks it landed. */
async function transition(dir: string, ...args: string[]): Promise<void> {
  const run = await cli(dir, ...args)
  expect(run.code, run.err).toBe(0)
}

/** Builds the site into `out` and returns stderr and every page and CSV but the footer line. */
async function build(dir: string, out: string, ...flags: string[]) {
  const run = await cli(
    dir,
    'dashboard',
    '--out',
    join(dir, out),
    '--now',
    at(48).toISOString(),
    ...flags
  )
  expect(run.code, run.err).toBe(0)
  const read = (path: string) => readFileSync(join(dir, out, path), 'utf8')
  const pages = Object.fromEntries(
    [
      'index.html',
      ...FEATURES.flatMap(f => [`features/${f}.html`, `features/${f}.history.csv`])
    ].map(p => [p, read(p).replace(/<footer>.*<\/footer>/s, '')])
  )
  const footer = /<footer>(.*)<\/footer>/s.exec(read('index.html'))![1]!
  return { err: run.err, pages, footer }
}

test('a rebuild reads only the newer commits and shows what a whole read shows', async () => {
  const dir = repo()
  await transition(dir, 'init', '--now', at(0).toISOString())
  await transition(
    dir,
    'pause',
    '--policy',
    'policies/alpha.yaml',
    '--reason',
    'look',
    '--now',
    at(1).toISOString()
  )

  const first = await build(dir, 'site1')
  expect(first.footer).toContain('read from git (3 phasegate commits)')
  expect(existsSync(cacheFile(dir))).toBe(true)

  await transition(
    dir,
    'resume',
    '--policy',
    'policies/alpha.yaml',
    '--reason',
    'fine',
    '--now',
    at(2).toISOString()
  )
  await transition(
    dir,
    'pause',
    '--policy',
    'policies/beta.yaml',
    '--reason',
    'look',
    '--now',
    at(3).toISOString()
  )
  const warm = await build(dir, 'site2')
  const tip = JSON.parse(readFileSync(cacheFile(dir), 'utf8')).tip as string
  expect(tip).toBe(sh(dir, 'git', 'rev-parse', 'HEAD'))
  expect(warm.footer).toMatch(
    /read from the history cache up to commit [0-9a-f]{7} \(3 phasegate commits\) and git after it \(2 newer commits\)/
  )
  expect(warm.err).toBe('')
  const whole = await build(dir, 'site3', '--no-history-cache')
  expect(whole.footer).toContain('read from git (5 phasegate commits)')
  expect(warm.pages).toEqual(whole.pages)
  expect(warm.pages['features/alpha.history.csv']!.trim().split('\n')).toHaveLength(4)

  // Nothing new: the cache alone, and the file is not rewritten.
  const before = readFileSync(cacheFile(dir), 'utf8')
  const again = await build(dir, 'site4')
  expect(again.footer).toContain('(0 newer commits)')
  expect(again.pages).toEqual(whole.pages)
  expect(readFileSync(cacheFile(dir), 'utf8')).toBe(before)
})

test('commits of a merged branch older than the cached tip are read and put in time order', async () => {
  const dir = repo()
  await transition(dir, 'init', '--now', at(0).toISOString())
  sh(dir, 'git', 'branch', 'side')
  await transition(
    dir,
    'pause',
    '--policy',
    'policies/beta.yaml',
    '--reason',
    'on main',
    '--now',
    at(5).toISOString()
  )
  await build(dir, 'site1')
  // The same feature paused on a branch, earlier: merged keeping main's state file, its commit is
  // in HEAD's history after the cached tip, and older than the cached pause.
  sh(dir, 'git', 'checkout', '-q', 'side')
  await transition(
    dir,
    'pause',
    '--policy',
    'policies/beta.yaml',
    '--reason',
    'on side',
    '--now',
    at(2).toISOString()
  )
  sh(dir, 'git', 'checkout', '-q', 'main')
  sh(dir, 'git', 'merge', '-q', '--no-edit', '-X', 'ours', 'side')
  const warm = await build(dir, 'site2')
  expect(warm.footer).toContain('and git after it (1 newer commit)')
  const whole = await build(dir, 'site3', '--no-history-cache')
  expect(warm.pages).toEqual(whole.pages)
  const csv = warm.pages['features/beta.history.csv']!.trim().split('\n').slice(1)
  expect(csv.map(line => line.split(',')[0])).toEqual(
    [0, 2, 5].map(h => at(h).toISOString().replace('.000Z', '+00:00'))
  )
})

test('a cache that cannot be used for this HEAD is read around, and replaced', async () => {
  const dir = repo()
  await transition(dir, 'init', '--now', at(0).toISOString())
  await transition(
    dir,
    'pause',
    '--policy',
    'policies/alpha.yaml',
    '--reason',
    'look',
    '--now',
    at(1).toISOString()
  )
  await build(dir, 'site1')
  const good = readFileSync(cacheFile(dir), 'utf8')
  const whole = await build(dir, 'whole', '--no-history-cache')

  const cases: Array<[string, string, RegExp]> = [
    ['not JSON', '{"format":2,', /is not JSON/],
    [
      'another shape',
      good.replace('"approvers":[]', '"approvers":"nobody"'),
      /an entry of another shape/
    ],
    [
      'a share of another shape',
      good.replace(/"usersPercent":\d+/, '"usersPercent":"ten"'),
      /an entry of another shape/
    ],
    ['another format', good.replace(/"format":\d+/, '"format":99'), /written by another phasegate/],
    ['no commit', good.replace(/"tip":"[0-9a-f]+"/, '"tip":"HEAD"'), /names no commit/]
  ]
  for (const [what, text, notice] of cases) {
    writeFileSync(cacheFile(dir), text)
    const read = await build(dir, `site-${what.replace(/ /g, '-')}`)
    expect(read.err, what).toMatch(notice)
    expect(read.footer, what).toContain('read from git (3 phasegate commits)')
    expect(read.pages, what).toEqual(whole.pages)
    expect(readFileSync(cacheFile(dir), 'utf8'), what).toBe(good)
  }

  // A rewritten branch: the cached tip is not in HEAD's history.
  sh(dir, 'git', 'reset', '-q', '--hard', 'HEAD~1')
  await transition(
    dir,
    'pause',
    '--policy',
    'policies/beta.yaml',
    '--reason',
    'other',
    '--now',
    at(2).toISOString()
  )
  const rewritten = await build(dir, 'site-rewritten')
  expect(rewritten.err).toMatch(/not in HEAD's history \(a rewritten branch\); read whole/)
  expect(rewritten.pages['features/alpha.html']).not.toContain('>look<')
  expect(rewritten.pages).toEqual((await build(dir, 'whole2', '--no-history-cache')).pages)

  // Other policies: a feature added is a key the cache was not made for.
  writeFileSync(join(dir, 'policies', 'gamma.yaml'), SEED_POLICY_TEXT)
  const other = await build(dir, 'site-other')
  expect(other.err).toMatch(/made for other policies/)
})
