import { describe, expect, test } from 'vitest'
import { nextStep, type StepInput } from '../../../src/action/next-step.js'
import type { State } from '../../../src/engine/types.js'

// Which effect a tick has on a feature, as one table: every step nextStep can choose appears.

const written: State = {
  feature: 'search',
  phase: 'limited',
  enteredAt: '2026-11-27T09:00:00.000Z',
  enabled: true,
  experiments: {}
}

const advance = { action: 'advance', awaitingApproval: false } as const
const rollback = { action: 'rollback', awaitingApproval: false } as const
const awaiting = { action: 'hold', holdCause: 'gates', awaitingApproval: true } as const
const gates = { action: 'hold', holdCause: 'gates', awaitingApproval: false } as const
const finalPhase = { action: 'hold', holdCause: 'final_phase', awaitingApproval: false } as const
const killSwitch = { action: 'hold', holdCause: 'kill_switch', awaitingApproval: false } as const
const firstPhaseTrigger = {
  action: 'hold',
  holdCause: 'first_phase_trigger',
  awaitingApproval: false
} as const

type Row = [string, Partial<StepInput> & Pick<StepInput, 'decision'>, ReturnType<typeof nextStep>]

const TABLE: Row[] = [
  [
    'not started: nothing, whatever the decision',
    { written: null, decision: advance },
    { kind: 'none', cause: 'not_started' }
  ],
  ['dry run: nothing', { dryRun: true, decision: rollback }, { kind: 'none', cause: 'dry_run' }],
  ['a rollback decision rolls back', { decision: rollback }, { kind: 'roll_back' }],
  [
    'a rollback decision rolls back, advance PR open or not',
    { decision: rollback, prOpen: true, branchFits: true },
    { kind: 'roll_back' }
  ],
  [
    'advance with a fitting PR merges it',
    { decision: advance, prOpen: true, branchFits: true },
    { kind: 'merge' }
  ],
  ['advance without a PR lands directly', { decision: advance }, { kind: 'advance' }],
  [
    'advance with an out-of-date PR lands directly',
    { decision: advance, prOpen: true, branchFits: false },
    { kind: 'advance' }
  ],
  ['only approval missing, no PR: propose', { decision: awaiting }, { kind: 'propose' }],
  [
    'only approval missing, out-of-date PR: propose again',
    { decision: awaiting, prOpen: true, branchFits: false },
    { kind: 'propose' }
  ],
  [
    'only approval missing, fitting PR: refresh its report',
    { decision: awaiting, prOpen: true, branchFits: true },
    { kind: 'refresh' }
  ],
  [
    'gates fail with a PR open: refresh (gates no longer pass)',
    { decision: gates, prOpen: true, branchFits: true },
    { kind: 'refresh' }
  ],
  [
    'a trigger in the first phase with a PR open: refresh',
    { decision: firstPhaseTrigger, prOpen: true },
    { kind: 'refresh' }
  ],
  [
    'final phase with a PR open: close it',
    { decision: finalPhase, prOpen: true, branchFits: true },
    { kind: 'close' }
  ],
  [
    'kill switch off with a PR open: close it',
    { decision: killSwitch, prOpen: true, branchFits: true },
    { kind: 'close' }
  ],
  ['a hold without a PR: nothing', { decision: gates }, { kind: 'none', cause: 'holding' }],
  [
    'final phase without a PR: nothing',
    { decision: finalPhase },
    { kind: 'none', cause: 'holding' }
  ]
]

describe('nextStep', () => {
  test.each(TABLE)('%s', (_, input, expected) => {
    expect(
      nextStep({ written, prOpen: false, branchFits: false, dryRun: false, ...input })
    ).toEqual(expected)
  })

  test('the table covers every step and every reason for none', () => {
    const kinds = new Set(TABLE.map(([, , step]) => step.kind))
    expect([...kinds].sort()).toEqual(
      ['advance', 'close', 'merge', 'none', 'propose', 'refresh', 'roll_back'].sort()
    )
    const causes = new Set(TABLE.flatMap(([, , s]) => (s.kind === 'none' ? [s.cause] : [])))
    expect([...causes].sort()).toEqual(['dry_run', 'holding', 'not_started'])
  })
})
