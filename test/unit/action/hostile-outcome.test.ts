import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import MarkdownIt from 'markdown-it'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { publishOutcomes } from '../../../src/action/outcome.js'
import { decide } from '../../../src/engine/decide.js'
import { PhasegateError } from '../../../src/errors.js'
import { at, HEALTHY, observations, seedPolicy, state } from '../../support/policies.js'

// The action's job summary (Markdown) and its log (a terminal that runs `::` workflow commands)
// carry reasons and error messages phasegate did not write.

const HOSTILE =
  'bad\n::stop-commands::x\n::add-mask::secret\n\u001b[2J\u001b]8;;https://evil.example\u0007click\u001b]8;;\u0007\r' +
  '[login](https://evil.example) @acme/admins <img src=x>'

describe('what a run publishes, given text it did not write', () => {
  const dir = mkdtempSync(join(tmpdir(), 'phasegate-outcome-'))
  const summary = join(dir, 'summary.md')
  let logged = ''
  const saved = { ...process.env }

  beforeEach(() => {
    writeFileSync(summary, '')
    writeFileSync(join(dir, 'output'), '')
    process.env.GITHUB_STEP_SUMMARY = summary
    process.env.GITHUB_OUTPUT = join(dir, 'output')
    logged = ''
    vi.spyOn(process.stdout, 'write').mockImplementation(chunk => {
      logged += String(chunk)
      return true
    })
  })
  afterEach(() => {
    vi.restoreAllMocks()
    process.env = saved
    process.exitCode = undefined
  })

  it('logs no workflow command or escape sequence and summarises it as text', async () => {
    const policy = seedPolicy()
    const canary = state(policy, 'canary')
    const decision = { ...decide(policy, canary, observations(HEALTHY), at(30)), reason: HOSTILE }
    await publishOutcomes(
      dir,
      [
        {
          policy,
          decidedFrom: canary,
          after: canary,
          decision,
          readings: [],
          actions: [`commented: ${HOSTILE}`]
        }
      ],
      [{ policyFile: join(dir, 'p.yaml'), error: new PhasegateError(HOSTILE) }]
    )
    const lines = logged.split('\n')
    // phasegate's own commands only: the failure's annotation and the step's failure (outputs go to a file)
    expect(lines.filter(l => /^\s*::/.test(l)).map(l => l.split('::')[1]?.split(' ')[0])).toEqual([
      'error',
      'error'
    ])
    // eslint-disable-next-line no-control-regex
    expect(logged).not.toMatch(new RegExp('[\\u001b\\u0007\\r]'))
    const html = new MarkdownIt({ html: true, linkify: true }).render(readFileSync(summary, 'utf8'))
    expect(html).not.toMatch(/<a\s|<img|@acme\/admins/)
  })
})
