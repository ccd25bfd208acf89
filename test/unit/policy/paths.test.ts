// Where phasegate reads and writes (issue 10, kind 8): a policy's `state:` and the file
// provider's `metrics.path` stay inside the repository's work tree: relative, not under .git/,
// not through a symlink that leaves the tree.

import { mkdirSync, mkdtempSync, symlinkSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, test } from 'vitest'
import { PhasegateError } from '../../../src/errors.js'
import { parsePolicyText } from '../../../src/policy/load.js'
import { loadRollouts } from '../../../src/rollout/load.js'
import { cli, tempRepo } from '../../support/repo.js'

const policy = (extra: string) => `feature: checkout
deployment:
  order: [canary, full]
  phases:
    canary: { user_percentage: 5 }
    full: { user_percentage: 100 }
${extra}
`

function errorOf(text: string): PhasegateError {
  try {
    parsePolicyText(text, 'policies/checkout.yaml')
  } catch (error) {
    if (error instanceof PhasegateError) return error
    throw error
  }
  throw new Error('the policy was accepted')
}

describe('state:', () => {
  test.each([
    '/etc/passwd',
    '../elsewhere/state.yaml',
    '.git/config',
    '.phasegate/../../x.yaml',
    'a/./.git/hooks/x'
  ])('%s is refused where it is written', path => {
    const error = errorOf(policy(`state: "${path}"`))
    expect(error.location).toMatchObject({ file: 'policies/checkout.yaml', line: 7 })
    expect(error.message).toMatch(/inside the repository/)
  })

  test('a path inside the tree is accepted', () => {
    expect(parsePolicyText(policy('state: ops/checkout.state.yaml'), 'p.yaml').statePath).toBe(
      'ops/checkout.state.yaml'
    )
  })

  test('a symlink that leaves the work tree is refused, without echoing what it points at', async () => {
    const outside = mkdtempSync(join(tmpdir(), 'phasegate-outside-'))
    writeFileSync(join(outside, 'checkout.yaml'), 'secret: hunter2\n')
    const dir = tempRepo({ 'policies/checkout.yaml': policy('') })
    mkdirSync(join(dir, '.phasegate'))
    symlinkSync(outside, join(dir, '.phasegate', 'state'))
    const run = await cli(dir, 'validate')
    expect(run.code).toBe(1)
    expect(run.err).toMatch(/leaves the repository through a symlink/)
    expect(run.err).not.toContain('hunter2')
    await expect(loadRollouts(dir, [])).rejects.toThrow(/symlink/)
  })
})

describe('metrics.path (file provider)', () => {
  test.each(['/etc/passwd', '../metrics.yaml', '.git/HEAD'])('%s is refused', path => {
    const error = errorOf(policy(`metrics:\n  provider: file\n  path: "${path}"`))
    expect(error.message).toMatch(/inside the repository/)
    expect(error.location).toMatchObject({ line: 9 })
  })
})
