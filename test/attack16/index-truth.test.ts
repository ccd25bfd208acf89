// attack16: the dashboard's index must not lie to an on-call engineer, and the command must give a
// new user a clear error. Each test shows one defect on 688439c (see /work/notes/attack16.md).
import { writeFileSync } from 'node:fs'
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

async function started(policy = POLICY): Promise<string> {
  const dir = tempRepo({ 'policies/f.yaml': policy })
  expect((await cli(dir, 'init', '--now', T(0))).code).toBe(0)
  return dir
}

describe('attack16: a new user gets a clear error', () => {
  it('dashboard without --out says --out is needed, exit 2-ish, no TypeError', async () => {
    const dir = await started()
    const run = await cli(dir, 'dashboard').catch((e: unknown) => ({
      code: -1,
      out: '',
      err: `threw ${String(e)}`
    }))
    expect(run.code).not.toBe(0)
    expect(run.err).toMatch(/--out/)
    expect(run.err).not.toMatch(/TypeError|ERR_INVALID_ARG_TYPE|argument must be of type/)
  })

  it('--out naming an existing file is a clear error naming it', async () => {
    const dir = await started()
    writeFileSync(join(dir, 'site.txt'), 'not a directory\n')
    const run = await cli(dir, 'dashboard', '--out', 'site.txt', '--now', T(2)).catch(
      (e: unknown) => ({ code: -1, out: '', err: `threw ${String(e)}` })
    )
    expect(run.code).not.toBe(0)
    expect(run.err).toMatch(/site\.txt/)
    expect(run.err).not.toMatch(/threw|ENOTDIR|EEXIST/)
  })
})
