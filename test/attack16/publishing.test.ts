// attack16: README says the example Pages workflow "rebuilds the site after every transition".
// Commits pushed with a workflow's own token start no push run, so every example workflow that
// can commit a transition must be followed through workflow_run.
import { readFileSync, readdirSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { parse } from 'yaml'

const DIR = join(process.cwd(), 'examples', 'workflows')
const load = (file: string) =>
  parse(readFileSync(join(DIR, file), 'utf8')) as {
    name: string
    on: Record<string, { workflows?: string[] }>
    permissions?: Record<string, string>
  }

describe('attack16: the Pages workflow follows every transition', () => {
  it('every example workflow that may commit a transition triggers a dashboard rebuild', () => {
    const dashboard = load('phasegate-dashboard.yml')
    const followed = dashboard.on.workflow_run?.workflows ?? []
    const committing = readdirSync(DIR)
      .filter(f => f !== 'phasegate-dashboard.yml' && f.endsWith('.yml'))
      .map(load)
      .filter(w => w.permissions?.contents === 'write')
      .map(w => w.name)
    // phasegate resume (kill switch back on), phasegate alert (an alert tick may roll back) and the
    // sharded tick all commit transitions with the workflow token.
    expect(committing.filter(name => !followed.includes(name))).toEqual([])
  })
})
