import { readdirSync, readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { parse } from 'yaml'

// The example workflows users copy must only pass inputs the action declares.

const root = new URL('../../../', import.meta.url)
const action = parse(readFileSync(new URL('action.yml', root), 'utf8')) as {
  inputs: Record<string, unknown>
}
const dir = new URL('examples/workflows/', root)

describe('examples/workflows', () => {
  const files = readdirSync(dir).filter(f => f.endsWith('.yml'))

  it('are there', () => {
    expect(files.sort()).toEqual([
      'phasegate-alert.yml',
      'phasegate-check.yml',
      'phasegate-dashboard.yml',
      'phasegate-rollback.yml',
      'phasegate-sharded.yml',
      'phasegate-tick.yml'
    ])
  })

  // The dashboard workflow runs the CLI, not the action.
  it.each(files.filter(f => f !== 'phasegate-dashboard.yml'))(
    '%s passes phasegate only inputs action.yml declares',
    file => {
      const workflow = parse(readFileSync(new URL(file, dir), 'utf8')) as {
        jobs: Record<string, { steps: Array<{ uses?: string; with?: Record<string, unknown> }> }>
      }
      const steps = Object.values(workflow.jobs).flatMap(job => job.steps)
      const ours = steps.filter(step => /\/phasegate@/.test(step.uses ?? ''))
      expect(ours.length).toBeGreaterThan(0)
      for (const step of ours)
        for (const input of Object.keys(step.with ?? {}))
          expect(Object.keys(action.inputs), `${file}: input ${input}`).toContain(input)
    }
  )

  it('phasegate-dashboard.yml publishes to Pages after transitions and on a schedule off the hour', () => {
    const text = readFileSync(new URL('phasegate-dashboard.yml', dir), 'utf8')
    const workflow = parse(text) as {
      on: { push: { paths: string[] }; schedule: Array<{ cron: string }> }
      jobs: Record<string, { steps: Array<{ uses?: string; run?: string }> }>
    }
    expect(workflow.on.push.paths).toContain('.phasegate/state/**')
    for (const { cron } of workflow.on.schedule) expect(cron.split(' ')[0]).not.toMatch(/^0$|\*/)
    const steps = Object.values(workflow.jobs).flatMap(job => job.steps)
    expect(steps.map(s => s.uses?.split('@')[0])).toEqual(
      expect.arrayContaining(['actions/upload-pages-artifact', 'actions/deploy-pages'])
    )
    expect(steps.some(s => /phasegate@\S* dashboard --out _site/.test(s.run ?? ''))).toBe(true)
  })
})
