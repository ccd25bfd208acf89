import { describe, expect, it } from 'vitest'
import { judgeStateChange, type ProposedChange } from '../../../src/action/state-change.js'
import { decide } from '../../../src/engine/decide.js'
import { nextState } from '../../../src/engine/next-state.js'
import type { Decision, State, Transition } from '../../../src/engine/types.js'
import { renderState } from '../../../src/state/file.js'
import { recordOf } from '../../../src/state/trailers.js'
import { at, HEALTHY, observations, seedPolicy, state } from '../../support/policies.js'

// What phasegate's own advance PR holds, and the ways a hand-made one differs from it.

const policy = seedPolicy()
const base: State = state(policy, 'canary', { enteredAt: at(0).toISOString() })
const baseText = renderState(base)
const now = at(30)
const approved = decide(
  policy,
  base,
  observations(HEALTHY, { approvals: [{ user: 'alice' }] }),
  now
)

function proposal(transition: Transition, edit: (s: State) => State = s => s): ProposedChange {
  const head = edit({
    ...base,
    phase: transition.to,
    enteredAt: transition.at,
    lastTransition: transition
  })
  return {
    policy,
    statePath: policy.statePath,
    baseState: base,
    baseText,
    headText: renderState(head, baseText),
    headRecord: recordOf(policy.feature, transition),
    decision: approved
  }
}

const advance: Transition = {
  kind: 'advance',
  from: 'canary',
  to: 'limited_production',
  at: at(26).toISOString(),
  reason: 'waiting for approval',
  approvers: [],
  evidence: approved.gates.filter(g => g.type !== 'manual_approval').flatMap(g => g.evidence)
}

describe('judging a change to a state file', () => {
  it("passes phasegate's own advance when the gates pass now, approvals included", () => {
    const verdict = judgeStateChange(proposal(advance))
    expect(verdict).toEqual({ ok: true, summary: expect.stringContaining('approved by alice') })
  })

  it('fails the same change when approval is still missing', () => {
    const waiting: Decision = decide(policy, base, observations(HEALTHY), now)
    const verdict = judgeStateChange({ ...proposal(advance), decision: waiting })
    expect(verdict).toEqual({
      ok: false,
      reason: expect.stringMatching(
        /^the gates to advance to limited_production do not pass now: .*approval pending/
      )
    })
  })

  it('fails a skipped phase', () => {
    const verdict = judgeStateChange(proposal({ ...advance, to: 'full_production' }))
    expect(verdict).toEqual({
      ok: false,
      reason:
        'skips from canary to full_production: an advance moves one phase, to limited_production'
    })
  })

  it('fails evidence that differs from the commit trailers', () => {
    const change = proposal(advance)
    const edited = {
      ...change,
      headText: change.headText!.replace('value: 0.0005', 'value: 0.0001')
    }
    expect(judgeStateChange(edited)).toMatchObject({
      ok: false,
      reason: expect.stringContaining('it was edited')
    })
  })

  it('fails evidence whose value does not meet the threshold it claims to pass, trailers and all', () => {
    const forged = {
      ...advance,
      evidence: advance.evidence.map(e => (e.metric === 'error_rate' ? { ...e, value: 0.5 } : e))
    }
    expect(judgeStateChange(proposal(forged))).toEqual({
      ok: false,
      reason: 'the evidence says error_rate 0.5 passed "< 0.01", which it does not: it was edited'
    })
  })

  it('fails a loosened threshold in the evidence', () => {
    const loosened = {
      ...advance,
      evidence: advance.evidence.map(e =>
        e.metric === 'error_rate' ? { ...e, threshold: '< 0.9' } : e
      )
    }
    expect(judgeStateChange(proposal(loosened))).toMatchObject({
      ok: false,
      reason: expect.stringContaining('the policy says "< 0.01"')
    })
  })

  it('fails a kill switch turned back on inside an advance', () => {
    const off = { ...base, enabled: false }
    const change = {
      ...proposal(advance, s => ({ ...s, enabled: true })),
      baseState: off,
      baseText: renderState(off)
    }
    expect(judgeStateChange(change)).toMatchObject({
      ok: false,
      reason: expect.stringContaining('changes more than the advance transition writes (enabled)')
    })
  })

  it('fails a state file edited outside any transition', () => {
    const change = proposal(advance)
    const same = { ...change, headText: baseText.replace('enabled: true', 'enabled: false') }
    expect(judgeStateChange(same)).toMatchObject({
      ok: false,
      reason: expect.stringContaining('edited outside a phasegate transition')
    })
  })

  it('passes a one-step rollback, which needs no gates', () => {
    const back: Transition = {
      ...advance,
      kind: 'rollback',
      to: 'staging',
      evidence: [],
      reason: 'manual rollback by bob: slow'
    }
    expect(judgeStateChange(proposal(back))).toMatchObject({ ok: true })
  })

  describe('a resume (the kill switch back on at the same phase)', () => {
    const off: State = { ...base, enabled: false }
    const offText = renderState(off)
    const resumed: Transition = {
      kind: 'resume',
      from: 'canary',
      to: 'canary',
      at: at(26).toISOString(),
      reason: 'resumed by bob: fixed',
      approvers: [],
      operator: 'bob',
      evidence: [{ gate: 'resume', metric: 'operator', value: 'bob', result: 'pass' }]
    }
    const resumeProposal = (t: Transition, edit: (s: State) => State = s => s): ProposedChange => ({
      ...proposal(t, s => edit({ ...s, enabled: true })),
      baseState: off,
      baseText: offText
    })

    it('passes as well formed, marked as a resume so the check looks for an operator', () => {
      expect(judgeStateChange(resumeProposal(resumed))).toEqual({
        ok: true,
        summary: 'resume at canary: kill switch on',
        resume: true
      })
    })

    it('fails when the kill switch is already on', () => {
      expect(
        judgeStateChange({ ...resumeProposal(resumed), baseState: base, baseText })
      ).toMatchObject({ ok: false, reason: expect.stringContaining('already on') })
    })

    it('fails a resume that moves the phase', () => {
      expect(
        judgeStateChange(resumeProposal({ ...resumed, to: 'limited_production' }))
      ).toMatchObject({ ok: false, reason: expect.stringContaining('leaves the phase as it is') })
    })

    it('fails a resume that also moves entered_at', () => {
      const moved = resumeProposal(resumed, s => ({ ...s, enteredAt: at(20).toISOString() }))
      expect(judgeStateChange(moved)).toMatchObject({
        ok: false,
        reason: expect.stringContaining(
          'changes more than the resume transition writes (enteredAt)'
        )
      })
    })
  })
})

describe('judging a pause through a pull request (a protected default branch)', () => {
  const pause: Transition = {
    kind: 'pause',
    from: 'canary',
    to: 'canary',
    at: at(26).toISOString(),
    reason: 'automatic pause (on_fire: pause): latency_ms 1000 breaches > 900',
    approvers: [],
    evidence: [
      {
        gate: 'trigger: latency_ms > 900',
        metric: 'latency_ms',
        value: 1000,
        threshold: '> 900',
        result: 'fired'
      }
    ]
  }
  const change = (t: Transition, from: State = base): ProposedChange => ({
    ...proposal(t),
    baseState: from,
    baseText: renderState(from),
    headText: renderState(nextState(from, t), renderState(from))
  })

  it("passes phasegate's own pause", () => {
    expect(judgeStateChange(change(pause))).toEqual({
      ok: true,
      summary: expect.stringContaining('pause at canary')
    })
  })

  it('fails a pause that moves the phase, or pauses a paused rollout', () => {
    expect(judgeStateChange(change({ ...pause, to: 'staging' }))).toMatchObject({ ok: false })
    const paused = { ...base, paused: { at: at(1).toISOString(), reason: 'x' } }
    expect(judgeStateChange(change(pause, paused))).toEqual({
      ok: false,
      reason: expect.stringContaining('already paused')
    })
  })

  it('fails a pause whose state says more than the pause writes', () => {
    const c = change(pause)
    const edited = { ...c, headText: c.headText!.replace('enabled: true', 'enabled: false') }
    expect(judgeStateChange(edited)).toEqual({
      ok: false,
      reason: expect.stringContaining('changes more than the pause transition writes')
    })
  })
})
