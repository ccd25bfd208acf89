import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { FlagdCore } from '@openfeature/flagd-core'
import { describe, expect, it } from 'vitest'
import { parseDatafile } from '../../src/export/datafile.js'
import { cli, sh, tempRepo } from '../support/repo.js'

describe('phasegate export', () => {
  it('prints every feature’s datafile as one document, naming the commit its transition was made on', async () => {
    const dir = tempRepo()
    const base = sh(dir, 'git', 'rev-parse', 'HEAD')
    expect((await cli(dir, 'init', '--now', '2026-03-02T09:00:00Z')).code).toBe(0)
    const run = await cli(dir, 'export')
    expect(run.code, run.err).toBe(0)
    const document = parseDatafile(run.out)
    const feature = document.features.production_deployment!
    expect(feature).toMatchObject({ phase: 'development', enabled: true })
    expect(feature.transition).toMatchObject({ kind: 'init', made_on: base })
  })

  it('writes flagd flag definitions that flagd-core loads', async () => {
    const dir = tempRepo()
    await cli(dir, 'init', '--now', '2026-03-02T09:00:00Z')
    const run = await cli(dir, 'export', '--format', 'flagd', '--out', 'flags.json')
    expect(run.code, run.err).toBe(0)
    const core = new FlagdCore()
    expect(core.setConfigurations(readFileSync(join(dir, 'flags.json'), 'utf8'))).toContain(
      'production_deployment'
    )
  })

  it('shows a rollout that was never started as off', async () => {
    const run = await cli(tempRepo(), 'export')
    expect(parseDatafile(run.out).features.production_deployment).toMatchObject({
      enabled: false,
      transition: null
    })
  })

  it('refuses an unknown format and writes nothing', async () => {
    const dir = tempRepo()
    const run = await cli(dir, 'export', '--format', 'yaml', '--out', 'x.json')
    expect(run.code).not.toBe(0)
    expect(run.err).toMatch(/--format yaml.*datafile, flagd/s)
    expect(sh(dir, 'git', 'status', '--porcelain')).toBe('')
  })
})
