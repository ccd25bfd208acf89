// The dashboard answers "what does this feature expose" as every other surface does
// (exposureInForce): a phase switched off by the policy exposes nobody, and a raise by a policy
// edit that waits for a freeze window shows the exposure in force, not the raised one.
import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
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
  '    a: {user_percentage: 1}',
  '    b: {user_percentage: 100}',
  ''
].join('\n')
const T = (h: number) => new Date(Date.UTC(2026, 2, 1, h)).toISOString()

/** The index row's users cell and the feature page's "Users exposed" value. */
function shown(site: string): { index: string; page: string } {
  const index = readFileSync(join(site, 'index.html'), 'utf8')
  const page = readFileSync(join(site, 'features', 'f.html'), 'utf8')
  return {
    index: /data-cell="users"[^>]*>([^<]*)</.exec(index)![1]!,
    page: /Users exposed<\/dt>\s*<dd[^>]*>([^<]*)</.exec(page)?.[1] ?? page
  }
}

describe('the dashboard shows the exposure in force', () => {
  it('a raise waiting for a freeze window shows 1%, not the policy edit’s 100%', async () => {
    const dir = tempRepo({ 'policies/f.yaml': FROZEN })
    expect((await cli(dir, 'init', '--now', T(0))).code).toBe(0)
    writeFileSync(
      join(dir, 'policies/f.yaml'),
      FROZEN.replace('user_percentage: 1}', 'user_percentage: 100}')
    )
    sh(dir, 'git', 'commit', '-q', '-am', 'policy edit')
    const site = join(dir, 'site')
    const built = await cli(dir, 'dashboard', '--out', site, '--now', T(1))
    expect(built.code, built.err).toBe(0)
    expect(shown(site)).toEqual({ index: '1%', page: '1%' })
  })

  it('a phase the policy switches off exposes nobody', async () => {
    const dir = tempRepo({
      'policies/f.yaml': FROZEN.replace(
        'a: {user_percentage: 1}',
        'a: {user_percentage: 40, enabled: false}'
      ).replace(/ {2}freeze:\n(.*\n){3}/, '')
    })
    expect((await cli(dir, 'init', '--now', T(0))).code).toBe(0)
    const site = join(dir, 'site')
    const built = await cli(dir, 'dashboard', '--out', site, '--now', T(1))
    expect(built.code, built.err).toBe(0)
    expect(shown(site)).toEqual({ index: '0%', page: '0%' })
  })
})
