// The dashboard reads the audit trail of all its features in one `git log`: a policy with
// cool-downs (which need the feature's rollbacks) reads no history of its own, so the build does
// not start a pass over the whole history per feature.

import { chmodSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterEach, expect, test } from 'vitest'
import { dashboard } from '../../src/commands/dashboard.js'
import { at, SEED_POLICY_TEXT } from '../support/policies.js'
import { cli, sh, tempRepo } from '../support/repo.js'

const saved = { PATH: process.env.PATH, LOG: process.env.PHASEGATE_TEST_GIT_LOG }
afterEach(() => {
  process.env.PATH = saved.PATH
  if (saved.LOG === undefined) delete process.env.PHASEGATE_TEST_GIT_LOG
  else process.env.PHASEGATE_TEST_GIT_LOG = saved.LOG
})

test('features with cool-downs share the one history pass', async () => {
  const seed = SEED_POLICY_TEXT
  const withCooldown = seed.replace(
    '      duration: 24h\n',
    '      duration: 24h\n      cooldown: 1h\n'
  )
  expect(withCooldown).not.toBe(seed)
  const names = ['alpha', 'beta', 'gamma']
  const dir = tempRepo(Object.fromEntries(names.map(n => [`policies/${n}.yaml`, withCooldown])))
  const run = await cli(dir, 'init', '--now', at(0).toISOString())
  expect(run.code, run.err).toBe(0)

  // Every git process the build starts, logged by a `git` first on the PATH.
  const bin = join(dir, '..', `${dir.split('/').pop()}-bin`)
  sh(dir, 'mkdir', '-p', bin)
  const log = join(bin, 'calls.log')
  writeFileSync(
    join(bin, 'git'),
    `#!/bin/sh\nprintf '%s\\n' "$*" >> "$PHASEGATE_TEST_GIT_LOG"\nexec ${sh(dir, 'sh', '-c', 'command -v git')} "$@"\n`
  )
  chmodSync(join(bin, 'git'), 0o755)
  writeFileSync(log, '')
  process.env.PHASEGATE_TEST_GIT_LOG = log
  process.env.PATH = `${bin}:${process.env.PATH}`

  const { model } = await dashboard({
    cwd: dir,
    policies: [],
    out: join(dir, 'site'),
    now: at(1),
    env: {}
  })
  expect(model.failures).toEqual([])
  expect(model.features.map(f => f.feature).sort()).toEqual(names)
  const passes = readFileSync(log, 'utf8')
    .split('\n')
    .filter(line => line.startsWith('log ') && line.includes('Phasegate-Feature'))
  expect(passes).toHaveLength(1)
})
