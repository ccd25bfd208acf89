import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { PhasegateError } from '../../../src/errors.js'
import { parsePolicyText } from '../../../src/policy/load.js'
import { parseStateText } from '../../../src/state/file.js'
import { SEED_POLICY_TEXT, seedPolicy } from '../../support/policies.js'

// Garbled copies of real files: whatever the damage, loading either succeeds or fails with a
// PhasegateError that says where (line and column inside the file) — never another exception,
// which the CLI would print as a stack trace.

const STATE_TEXT = `# phasegate state
feature: production_deployment
phase: canary
entered_at: 2026-03-02T09:00:00.000Z
enabled: true
experiments:
  dspy_vs_traditional:
    status: running
    started_at: 2026-03-02T09:00:00.000Z
last_transition:
  kind: advance
  from: staging
  to: canary
  at: 2026-03-02T09:00:00.000Z
  reason: all 1 gates of staging passed
  approvers:
    - alice
  evidence:
    - gate: approval
      value: alice
      threshold: ">= 1 approvals"
      result: pass
`

// Single characters YAML gives meaning to, plus its rarer constructs (aliases, anchors, tags,
// complex keys, merge keys) that random characters alone would seldom spell.
const YAMLISH = [
  ...':-[]{}#&*!|>\'"%@`,? \t\n0123456789.eE+-<=',
  ...['null', 'true', '~', '---', '...', '*a', '&a ', '!!binary ', '!x ', '? ', '<<: ']
]

/** One edit to a line-based text: what hand edits, bad merges and truncation do to files. */
function garble(text: string): fc.Arbitrary<string> {
  const lines = text.split('\n')
  const line = fc.nat(lines.length - 1)
  const piece = fc
    .array(fc.constantFrom(...YAMLISH), { minLength: 1, maxLength: 4 })
    .map(p => p.join(''))
  return fc.oneof(
    fc
      .tuple(line, piece)
      .map(([i, p]) =>
        lines.map((l, j) => (j === i ? l.replace(/:( .*)?$/, `: ${p}`) : l)).join('\n')
      ),
    line.map(i => lines.filter((_, j) => j !== i).join('\n')),
    line.map(i => [...lines.slice(0, i + 1), lines[i]!, ...lines.slice(i + 1)].join('\n')),
    fc
      .tuple(line, fc.integer({ min: -4, max: 4 }))
      .map(([i, shift]) =>
        lines
          .map((l, j) => (j !== i ? l : shift > 0 ? ' '.repeat(shift) + l : l.slice(-shift)))
          .join('\n')
      ),
    fc.nat(text.length).map(n => text.slice(0, n)),
    fc.tuple(fc.nat(text.length), piece).map(([at, p]) => text.slice(0, at) + p + text.slice(at)),
    fc
      .tuple(fc.nat(text.length), fc.integer({ min: 1, max: 6 }))
      .map(([at, n]) => text.slice(0, at) + text.slice(at + n))
  )
}

function expectLocatedOrFine(load: () => unknown, text: string): void {
  try {
    load()
  } catch (error) {
    expect(error, String((error as Error).stack)).toBeInstanceOf(PhasegateError)
    const { location } = error as PhasegateError
    expect(location?.line, (error as Error).message).toBeGreaterThanOrEqual(1)
    expect(location!.line!).toBeLessThanOrEqual(text.split('\n').length)
    expect(location?.col).toBeGreaterThanOrEqual(1)
    expect((error as Error).message).not.toContain('\n')
  }
}

describe('garbled files', () => {
  it('a garbled policy loads or fails with a located PhasegateError', () => {
    fc.assert(
      fc.property(garble(SEED_POLICY_TEXT).chain(garble), text =>
        expectLocatedOrFine(() => parsePolicyText(text, 'policy.yaml'), text)
      ),
      { numRuns: 500 }
    )
  })

  it('a garbled state file loads or fails with a located PhasegateError', () => {
    const policy = seedPolicy()
    fc.assert(
      fc.property(garble(STATE_TEXT).chain(garble), text =>
        expectLocatedOrFine(() => parseStateText(text, 'state.yaml', policy), text)
      ),
      { numRuns: 1000 }
    )
  })
})
