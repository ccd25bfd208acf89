// The attack review's A18 (branch attack, /work/notes/attack.md): the dashboard showed a trigger
// with no data, or breached but not fired, as a green "quiet". Failed on ef182ae.
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { cli, tempRepo } from '../support/repo.js'

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

describe('dashboard trigger states (attack A18)', () => {
  it('A18 the dashboard never shows a no-data or breached trigger as quiet (pass)', async () => {
    const dir = await atB()
    const out = join(dir, 'site')
    const built = await cli(dir, 'dashboard', '--out', out, '--now', T(2))
    expect(built.code, built.err).toBe(0)
    const page = readFileSync(join(out, 'features', 'f.html'), 'utf8')
    const row = /<tr data-trigger="error_rate &gt; 0\.02">.*?<\/tr>/s.exec(page)?.[0] ?? ''
    expect(row).toContain('no data')
    expect(row).not.toMatch(/class="result pass"|quiet/)
  })
})
