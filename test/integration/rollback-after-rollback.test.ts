import { mkdtempSync, readFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { expect, it } from 'vitest'
import { runDemo } from '../../src/commands/demo.js'
import { rollback, type RollbackOutcome } from '../../src/commands/rollback.js'

// The demo ends after an automatic rollback canary -> staging. Rolling back again reverts the
// advance development -> staging, whose datafile change conflicts with the datafile the first
// rollback wrote: both are phasegate's own files and are rewritten, so that is no conflict.
it('a second rollback reverts the earlier advance even though the datafile changed since', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'phasegate-rollback-twice-'))
  await runDemo({ io: { out: () => {} }, keep: dir })
  const result = await rollback({
    cwd: dir,
    policies: [],
    reason: 'pager: checkout errors',
    emergency: true,
    operator: 'oncall',
    now: new Date('2026-03-02T20:30:00Z')
  })
  expect((result as RollbackOutcome).transition).toMatchObject({
    kind: 'emergency',
    from: 'staging',
    to: 'development'
  })
  expect((result as RollbackOutcome).transition.reverts).toBeDefined()
  const datafile = JSON.parse(
    readFileSync(join(dir, '.phasegate', 'state', 'production_deployment.datafile.json'), 'utf8')
  )
  expect(JSON.stringify(datafile)).toContain('"development"')
}, 120_000)
