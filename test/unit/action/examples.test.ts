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
      'phasegate-rollback.yml',
      'phasegate-tick.yml'
    ])
  })

  it.each(files)('%s passes phasegate only inputs action.yml declares', file => {
    const workflow = parse(readFileSync(new URL(file, dir), 'utf8')) as {
      jobs: Record<string, { steps: Array<{ uses?: string; with?: Record<string, unknown> }> }>
    }
    const steps = Object.values(workflow.jobs).flatMap(job => job.steps)
    const ours = steps.filter(step => /\/phasegate@/.test(step.uses ?? ''))
    expect(ours.length).toBeGreaterThan(0)
    for (const step of ours)
      for (const input of Object.keys(step.with ?? {}))
        expect(Object.keys(action.inputs), `${file}: input ${input}`).toContain(input)
  })
})
