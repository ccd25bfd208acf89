import { describe, expect, test } from 'vitest'
import { nextState } from '../../../src/engine/next-state.js'
import type { State, Transition } from '../../../src/engine/types.js'

const before: State = {
  feature: 'search',
  phase: 'limited',
  enteredAt: '2026-11-27T09:00:00.000Z',
  enabled: true,
  experiments: { checkout_flow: { status: 'running', startedAt: '2026-11-20T09:00:00.000Z' } }
}

const at = '2026-11-28T10:00:00.000Z'
const transition = (kind: Transition['kind'], from: string, to: string): Transition => ({
  kind,
  from,
  to,
  at,
  reason: `${kind} for the test`,
  approvers: [],
  evidence: []
})

describe('nextState', () => {
  test('an advance moves to the target phase, restarts its clock and records the transition', () => {
    const t = transition('advance', 'limited', 'full')
    expect(nextState(before, t)).toEqual({
      ...before,
      phase: 'full',
      enteredAt: at,
      lastTransition: t
    })
  })

  test('a rollback steps back and leaves the kill switch as it was', () => {
    const t = transition('rollback', 'limited', 'canary')
    const after = nextState(before, t)
    expect(after.phase).toBe('canary')
    expect(after.enabled).toBe(true)
    expect(after.enteredAt).toBe(at)
  })

  test('an emergency turns the kill switch off, also when it cannot step back', () => {
    expect(nextState(before, transition('emergency', 'limited', 'canary')).enabled).toBe(false)
    const inPlace = nextState(before, transition('emergency', 'limited', 'limited'))
    expect(inPlace).toMatchObject({ phase: 'limited', enabled: false, enteredAt: at })
  })

  test('a resume turns the kill switch on in the same phase and restarts its clock', () => {
    const off = { ...before, enabled: false }
    expect(nextState(off, transition('resume', 'limited', 'limited'))).toMatchObject({
      phase: 'limited',
      enabled: true,
      enteredAt: at
    })
  })

  test('experiments are carried over untouched, and the input is not changed', () => {
    const copy = structuredClone(before)
    const after = nextState(before, transition('advance', 'limited', 'full'))
    expect(after.experiments).toEqual(before.experiments)
    expect(before).toEqual(copy)
  })
})
