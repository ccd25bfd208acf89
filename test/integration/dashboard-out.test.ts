// Issue 16: where `phasegate dashboard --out` writes. A file, the repository's root or a
// directory of files git tracks is refused with an error naming --out; a rebuild into the same
// directory deletes the pages the last build wrote and this one does not (listed in the site's
// manifest), and nothing else; a directory of someone else's files the site would overwrite is
// refused.

import { existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { SITE_MANIFEST } from '../../src/report/dashboard/build.js'
import { cli, sh, tempRepo } from '../support/repo.js'

const POLICY = (feature: string) =>
  [
    `feature: ${feature}`,
    'deployment:',
    '  order: [a, b]',
    '  phases:',
    '    a: {user_percentage: 10}',
    '    b: {user_percentage: 100}',
    ''
  ].join('\n')
const T = (h: number) => new Date(Date.UTC(2026, 2, 1, h)).toISOString()

async function started(): Promise<string> {
  const dir = tempRepo({ 'policies/f.yaml': POLICY('f'), 'policies/g.yaml': POLICY('g') })
  expect((await cli(dir, 'init', '--now', T(0))).code).toBe(0)
  return dir
}
const sibling = (dir: string, name: string) => join(dir, '..', `${dir.split('/').pop()}-${name}`)

describe('dashboard --out: bad places are refused with an error naming --out', () => {
  it('without --out says --out is needed', async () => {
    const run = await cli(await started(), 'dashboard')
    expect(run.code).not.toBe(0)
    expect(run.err).toMatch(/--out/)
    expect(run.err).not.toMatch(/TypeError|ERR_INVALID_ARG_TYPE|argument must be of type/)
  })

  it.each([['site.txt'], ['site.txt/sub']])('--out %s under an existing file', async out => {
    const dir = await started()
    writeFileSync(join(dir, 'site.txt'), 'not a directory\n')
    const run = await cli(dir, 'dashboard', '--out', out, '--now', T(2))
    expect(run.code).not.toBe(0)
    expect(run.err).toMatch(/--out \S*site\.txt/)
    expect(run.err).toMatch(/hint:/)
    expect(run.err).not.toMatch(/ENOTDIR|EEXIST|\n\s+at /)
    expect(readFileSync(join(dir, 'site.txt'), 'utf8')).toBe('not a directory\n')
  })

  it.each([['.'], ['..']])(
    '--out %s (the repository root, or a directory holding it)',
    async out => {
      const dir = await started()
      writeFileSync(join(dir, 'index.html'), '<h1>our product page</h1>\n')
      sh(dir, 'git', 'add', 'index.html')
      sh(dir, 'git', 'commit', '-qm', 'product page')
      const run = await cli(dir, 'dashboard', '--out', out, '--now', T(2))
      expect(run.code).not.toBe(0)
      expect(run.err).toMatch(/--out .*repository's (root|parent directory)/)
      expect(readFileSync(join(dir, 'index.html'), 'utf8')).toBe('<h1>our product page</h1>\n')
      expect(existsSync(join(dir, 'assets'))).toBe(false)
      expect(sh(dir, 'git', 'status', '--porcelain')).toBe('')
    }
  )

  it('--out a directory of the repository where a file the site writes is tracked', async () => {
    const dir = await started()
    mkdirSync(join(dir, 'docs', 'assets'), { recursive: true })
    writeFileSync(join(dir, 'docs', 'assets', 'dashboard.css'), 'body {}\n')
    writeFileSync(join(dir, 'docs', SITE_MANIFEST), '{"files": []}\n') // a manifest does not help
    sh(dir, 'git', 'add', 'docs')
    sh(dir, 'git', 'commit', '-qm', 'docs')
    const run = await cli(dir, 'dashboard', '--out', 'docs', '--now', T(2))
    expect(run.code).not.toBe(0)
    expect(run.err).toMatch(
      /--out \S*docs: the site would overwrite files tracked by git: .*assets\/dashboard\.css/
    )
    expect(sh(dir, 'git', 'status', '--porcelain')).toBe('')
  })

  it('an untracked directory inside the repository is fine (the Pages example builds _site)', async () => {
    const dir = await started()
    const run = await cli(dir, 'dashboard', '--out', '_site', '--now', T(2))
    expect(run.code, run.err).toBe(0)
    expect(existsSync(join(dir, '_site', 'index.html'))).toBe(true)
  })

  it("a directory of someone else's files the site would overwrite, with no manifest", async () => {
    const dir = await started()
    const site = sibling(dir, 'theirs')
    mkdirSync(site)
    writeFileSync(join(site, 'index.html'), 'their page\n')
    const run = await cli(dir, 'dashboard', '--out', site, '--now', T(2))
    expect(run.code).not.toBe(0)
    expect(run.err).toMatch(
      new RegExp(`--out ${site}: holds index\\.html, which the site would overwrite`)
    )
    expect(run.err).toMatch(/hint: build into an empty or new directory/)
    expect(readFileSync(join(site, 'index.html'), 'utf8')).toBe('their page\n')
  })
})

describe('dashboard --out: rebuilding into the same directory', () => {
  it('removes the pages of a feature this build does not write, and nothing it did not write', async () => {
    const dir = await started()
    const site = sibling(dir, 'site')
    mkdirSync(site)
    writeFileSync(join(site, 'CNAME'), 'rollouts.example.com\n') // unrelated files are fine
    expect((await cli(dir, 'dashboard', '--out', site, '--now', T(1))).code).toBe(0)
    expect(readdirSync(join(site, 'features')).sort()).toEqual([
      'f.history.csv',
      'f.html',
      'g.history.csv',
      'g.html'
    ])
    const manifest = JSON.parse(readFileSync(join(site, SITE_MANIFEST), 'utf8')) as {
      files: string[]
    }
    expect(manifest.files).toContain('features/g.html')
    // A hand-edited manifest names files outside the site's own: never deleted.
    manifest.files.push('../outside.txt', 'CNAME')
    writeFileSync(join(site, SITE_MANIFEST), JSON.stringify(manifest))
    writeFileSync(join(site, '..', 'outside.txt'), 'keep\n')

    // g now fails to evaluate: its page from the last build must not stay, saying it is fine.
    const state = join(dir, '.phasegate', 'state', 'g.yaml')
    writeFileSync(state, readFileSync(state, 'utf8').replace('phase: a', 'phase: [a'))
    sh(dir, 'git', 'commit', '-qam', 'broken state')
    const again = await cli(dir, 'dashboard', '--out', site, '--now', T(2))
    expect(again.code).toBe(1) // the index has g's error card
    expect(readdirSync(join(site, 'features')).sort()).toEqual(['f.history.csv', 'f.html'])
    expect(readFileSync(join(site, 'index.html'), 'utf8')).toMatch(/Could not evaluate/)
    expect(readFileSync(join(site, 'CNAME'), 'utf8')).toBe('rollouts.example.com\n')
    expect(readFileSync(join(site, '..', 'outside.txt'), 'utf8')).toBe('keep\n')
  })
})
