import { describe, expect, it } from 'vitest'
import { commitMessage, parseTransitionMessage } from '../../src/state/trailers.js'
import { at, HEALTHY } from '../support/policies.js'
import { cli, sh, tempRepo, writeMetrics } from '../support/repo.js'

// Text from flags, commit messages and file names reaches commit trailers and the terminal.
// Neither may let it act: no flag adds a trailer line, no escape sequence reaches a terminal.

/** Escape, bell and carriage return: what would act on a terminal. */
// eslint-disable-next-line no-control-regex
const CONTROL = new RegExp('[\\u001b\\u0007\\r]')

const INJECTED = '\nPhasegate-Approved-By: mallory\nPhasegate-Reverts: 0123456789abcdef'

/** The trailers git itself reads from a commit, as `key: value` lines. */
function gitTrailers(dir: string, ref = 'HEAD'): string[] {
  return sh(dir, 'git', 'log', '-1', '--format=%(trailers:only,unfold)', ref)
    .split('\n')
    .filter(Boolean)
}

describe('commit trailers take one line per value, whatever a flag holds', () => {
  it('an --approved-by value with a newline is refused: no commit, no trailer (git reads the same as phasegate)', async () => {
    const dir = tempRepo()
    writeMetrics(dir, HEALTHY)
    await cli(dir, 'init', '--now', at(0).toISOString())
    const before = sh(dir, 'git', 'rev-parse', 'HEAD')
    const run = await cli(
      dir,
      'tick',
      '--approved-by',
      `alice${INJECTED}`,
      '--now',
      at(1).toISOString()
    )
    // not a GitHub login: a usage error before anything is written
    expect(run.code, run.err).toBe(2)
    expect(run.err).toContain('is not a GitHub login')
    expect(sh(dir, 'git', 'rev-parse', 'HEAD')).toBe(before)
    const trailers = gitTrailers(dir)
    expect(trailers.filter(t => t.startsWith('Phasegate-Reverts'))).toEqual([])
    expect(trailers.filter(t => /^Phasegate-Approved-By: mallory$/.test(t))).toEqual([])
    const record = parseTransitionMessage(sh(dir, 'git', 'log', '-1', '--format=%B'))
    expect(record?.reverts).toBeUndefined()
    expect(record?.approvers).not.toContain('mallory')
  })

  it('a --reason or --operator with a newline or carriage return adds no trailer', async () => {
    const dir = tempRepo()
    writeMetrics(dir, HEALTHY)
    await cli(dir, 'init', '--now', at(0).toISOString())
    await cli(dir, 'tick', '--approved-by', 'alice', '--now', at(1).toISOString())
    const run = await cli(
      dir,
      'rollback',
      '--reason',
      `pager\r${INJECTED}`,
      '--operator',
      `olga\r${INJECTED}`,
      '--now',
      at(2).toISOString()
    )
    // a rollback never waits on a mistyped name: it lands as the git user, and says so
    expect(run.code, run.err).toBe(0)
    expect(run.err).toContain('ignored, the rollback goes ahead as the git user')
    const trailers = gitTrailers(dir)
    expect(trailers.filter(t => /^Phasegate-Approved-By:/.test(t))).toEqual([])
    expect(trailers.filter(t => /^Phasegate-Operator:/.test(t))).toEqual([
      'Phasegate-Operator: Test User'
    ])
    // the one Reverts trailer is the rollback's own: the advance it undoes
    expect(trailers.filter(t => /^Phasegate-Reverts:/.test(t))).toEqual([
      `Phasegate-Reverts: ${sh(dir, 'git', 'rev-parse', 'HEAD~1')}`
    ])
  })

  it('every field of a record stays on its trailer line', () => {
    const message = commitMessage({
      feature: `f${INJECTED}`,
      kind: 'advance',
      from: `a${INJECTED}`,
      to: `b\u2028Phasegate-Reverts: x`,
      reason: 'r',
      approvers: [`alice${INJECTED}`],
      operator: `olga${INJECTED}`,
      leftAlone: [`app.js${INJECTED}`],
      evidence: [{ gate: `g${INJECTED}`, metric: `m\r${INJECTED}`, result: 'pass' }]
    })
    const record = parseTransitionMessage(message)!
    expect(record.approvers).toHaveLength(1)
    expect(record.approvers).not.toContain('mallory')
    expect(record.reverts).toBeUndefined()
    // the subject line is one line too
    expect(message.split('\n')[1]).toBe('')
  })
})

describe('the terminal gets no escape sequence it did not write', () => {
  it('history shows a forged trailer full of escape sequences as letters', async () => {
    const dir = tempRepo()
    await cli(dir, 'init', '--now', at(0).toISOString())
    sh(
      dir,
      'git',
      'commit',
      '-q',
      '--allow-empty',
      '-m',
      'app change\n\nPhasegate-Feature: production_deployment\nPhasegate-Kind: advance\n' +
        'Phasegate-From: development\u001b[2J\nPhasegate-To: staging\u001b]8;;https://evil.example\u0007\n' +
        'Phasegate-Reason: \u001b[8mhidden\rover'
    )
    const run = await cli(dir, 'history')
    expect(run.code, run.err).toBe(0)
    expect(run.out).toContain('skipped')
    expect(run.out).not.toMatch(CONTROL)
    expect(run.out).toContain('\\x1b[2J')
  })

  it('an error that quotes a flag prints its escape sequences as letters', async () => {
    const dir = tempRepo()
    const run = await cli(dir, 'status', '--policy', 'policies/\u001b[31mnope\u001b[0m.yaml')
    expect(run.code).toBe(1)
    expect(run.err).not.toMatch(CONTROL)
    expect(run.err).toContain('\\x1b[31mnope')
  })
})
