import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import type { State } from '../../../src/engine/types.js'
import { quickStateFacts, yamlStateFacts, type StateFacts } from '../../../src/git/transitions.js'
import { renderState } from '../../../src/state/file.js'

// readHistory judges every transition on its state file before and after, 200,000 files for
// 100 features with 1,000 transitions each; the line scanner reads phasegate's own shape of file
// and must never disagree with the YAML parser on what a transition is judged by: where it
// answers, its answer is the parser's; anything else it leaves to the parser.

/** What transitionVerdict reads of the facts. */
function judged(facts: StateFacts) {
  const last = facts.last as Record<string, unknown> | undefined
  return {
    feature: facts.feature,
    phase: facts.phase,
    hasLast: last !== undefined,
    kind: last?.kind,
    from: last?.from,
    to: last?.to
  }
}

const word = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom('canary', 'staging', 'feature_1', 'x-2', 'a/b (c)') },
  fc.constantFrom(
    'null',
    'True',
    '~',
    '12',
    '0x1F',
    '.inf',
    'a b',
    'a: b',
    'x #y',
    '"q"',
    "'q'",
    '',
    'feature_1',
    'full-production',
    '- item',
    '[a]',
    '{}',
    '[]',
    'café'
  )
)
const key = fc.constantFrom(
  'feature',
  'phase',
  'last_transition',
  'kind',
  'from',
  'to',
  'enabled',
  'evidence',
  'approvers',
  'true',
  '__proto__',
  'Feature'
)
const indent = fc.constantFrom('', '', '', '', '  ', '  ', '  ', '    ', ' ', '\t')
const line = fc.oneof(
  fc.tuple(indent, key, word).map(([i, k, w]) => `${i}${k}: ${w}`),
  fc.tuple(indent, key).map(([i, k]) => `${i}${k}:`),
  fc.tuple(indent, word).map(([i, w]) => `${i}- ${w}`),
  fc.tuple(indent, word).map(([i, w]) => `${i}${w}`),
  fc.constantFrom(
    '# a comment "with quotes"',
    '',
    '---',
    '...',
    '  # indented comment',
    '%YAML 1.2'
  )
)

const phases = ['development', 'staging', 'canary', 'limited_production', 'full_production']
const state: fc.Arbitrary<State> = fc.record({
  feature: fc.constantFrom('checkout', 'feature_007', 'checkout', 'null', '12', 'a b'),
  phase: fc.constantFrom(...phases),
  enteredAt: fc.constant('2026-03-11T10:41:00.000Z'),
  enabled: fc.boolean(),
  experiments: fc.constant({}),
  lastTransition: fc.record({
    kind: fc.constantFrom('advance' as const, 'rollback' as const, 'emergency' as const),
    from: fc.constantFrom(...phases),
    to: fc.constantFrom(...phases),
    at: fc.constant('2026-03-11T10:41:00.000Z'),
    reason: fc.constantFrom(
      'gates passed',
      'gates passed',
      'gates passed',
      'p95 > 500: rolled back',
      'a # b',
      'line\nbreak'
    ),
    approvers: fc.array(fc.constantFrom('alice', 'bob', 'alice', 'true'), { maxLength: 2 }),
    evidence: fc.constant([])
  })
})

function agrees(text: string) {
  const quick = quickStateFacts(text)
  if (quick !== undefined) expect(judged(quick)).toEqual(judged(yamlStateFacts(text)))
  return quick !== undefined
}

describe('quickStateFacts', () => {
  it('reads the files phasegate writes, as the YAML parser does', () => {
    let answered = 0
    fc.assert(
      fc.property(state, s => {
        if (agrees(renderState(s))) answered++
      }),
      { numRuns: 300 }
    )
    // The point of the scanner: phasegate's files in plain words never reach the parser.
    expect(answered).toBeGreaterThan(40)
  })

  it('answers for phasegate files with lines inserted or replaced only as the parser does', () => {
    let answered = 0
    fc.assert(
      fc.property(
        state.map(s => ({
          ...s,
          feature: 'checkout',
          lastTransition: { ...s.lastTransition!, reason: 'gates passed', approvers: ['alice'] }
        })),
        fc.array(fc.tuple(fc.nat(20), fc.boolean(), line), { minLength: 1, maxLength: 2 }),
        (s, edits) => {
          const lines = renderState(s).split('\n')
          for (const [at, replace, text] of edits)
            lines.splice(at % (lines.length + 1), replace ? 1 : 0, text)
          if (agrees(lines.join('\n'))) answered++
        }
      ),
      { numRuns: 3000 }
    )
    // Not vacuous: many edited files are still answered (and so compared).
    expect(answered).toBeGreaterThan(100)
  })

  it('answers for free-form documents only as the parser does', () => {
    let answered = 0
    fc.assert(
      fc.property(fc.array(line, { minLength: 1, maxLength: 6 }), lines => {
        if (agrees(lines.join('\n'))) answered++
      }),
      { numRuns: 3000 }
    )
    expect(answered).toBeGreaterThan(50)
  })

  it('leaves what is outside its subset to the parser', () => {
    for (const text of [
      'feature: "a"\nphase: b',
      'feature: a\n  phase: b',
      'feature: a\nfeature: b',
      'feature: a\nphase: b\nlast_transition:\n- kind',
      'reason: x\n  more',
      'phase: 12',
      'phase: null',
      '\ufefffeature: a',
      'feature: a\nnull: b',
      'feature:a',
      'feature: a\n-b',
      'feature: a\nx: [a]',
      'feature: a\nx: {}  ',
      'feature: a\n   '
    ])
      expect(quickStateFacts(text), text).toBeUndefined()
  })

  it('reads what phasegate writes around the facts: comments, empty flow values, nested keys', () => {
    const text =
      '# "quoted" comment é\nfeature: checkout\nphase: canary\nexperiments: {}\nlast_transition:\n  kind: advance\n  from: staging\n  to: canary\n  approvers:\n    - alice\n  evidence: []\n'
    expect(quickStateFacts(text)).toEqual(yamlStateFacts(text))
    expect(quickStateFacts(text)?.phase).toBe('canary')
  })
})
