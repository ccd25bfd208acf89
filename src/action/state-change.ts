import { nextPhase, phaseNamed, previousPhase } from '../engine/ladder.js'
import { nextState } from '../engine/next-state.js'
import { meets } from '../engine/readings.js'
import type { Decision, Evidence, Policy, State, Threshold } from '../engine/types.js'
import { PhasegateError } from '../errors.js'
import { parseThreshold } from '../policy/quantities.js'
import { parseStateText, renderState } from '../state/file.js'
import type { TransitionRecord } from '../state/trailers.js'

// Whether a change to a state file is one phasegate itself would make. State files change only
// through phasegate's transitions, so anything else (a skipped phase, edited evidence, a flipped
// kill switch, a moved timestamp) is refused with the reason.

export interface ProposedChange {
  policy: Policy
  statePath: string
  /** The state on the base branch; null when the rollout has not started. */
  baseState: State | null
  baseText: string | undefined
  headText: string | undefined
  /** Trailers of the last commit on the branch that touched the state file. */
  headRecord: TransitionRecord | undefined
  /** decide() on the base state now, with this pull request's approvals. */
  decision: Decision
}

export type Verdict =
  /** `resume`: the change turns the kill switch on, so it also needs an operator behind it. */
  { ok: true; summary: string; resume?: true } | { ok: false; reason: string }

const refuse = (reason: string): Verdict => ({ ok: false, reason })

export function judgeStateChange(change: ProposedChange): Verdict {
  const { policy, baseState, decision, statePath } = change
  if (!baseState)
    return refuse(`${statePath}: the rollout has not started; start it with \`phasegate init\``)
  if (change.headText === undefined) return refuse(`${statePath} is deleted`)
  let head: State
  try {
    head = parseStateText(change.headText, statePath, policy)
  } catch (error) {
    if (!(error instanceof PhasegateError)) throw error
    return refuse(`${statePath} is not a valid state file: ${error.format()}`)
  }
  const t = head.lastTransition
  const before = baseState.lastTransition
  if (!t || (before && t.at === before.at && t.kind === before.kind && t.to === before.to))
    return refuse(
      `${statePath} is edited outside a phasegate transition (the last transition is unchanged)`
    )
  // A transition is newer than the one before it: a state with an older last transition is an
  // earlier state restored (its commit's trailers copied), not a step from where the rollout is.
  if (before && !(Date.parse(t.at) > Date.parse(before.at)))
    return refuse(
      `${statePath} records a ${t.kind} at ${t.at}, not after the rollout's last transition at ${before.at}: an earlier state restored is not a transition`
    )
  if (t.from !== baseState.phase)
    return refuse(`the transition starts from ${t.from} but the rollout is in ${baseState.phase}`)
  const next = nextPhase(policy, baseState.phase)
  const previous = previousPhase(policy, baseState.phase)
  if (t.kind === 'advance') {
    if (t.to !== next?.name)
      return refuse(
        next
          ? `skips from ${t.from} to ${t.to}: an advance moves one phase, to ${next.name}`
          : `${t.from} is the final phase: there is nothing to advance to`
      )
  } else if (t.kind === 'rollback' || t.kind === 'emergency') {
    if (t.to !== (previous?.name ?? baseState.phase))
      return refuse(
        `rolls back from ${t.from} to ${t.to}: a rollback moves one phase, to ${previous?.name}`
      )
  } else if (t.kind === 'resume') {
    if (baseState.enabled && !baseState.paused)
      return refuse(
        `the kill switch of ${policy.feature} is already on and it is not paused: there is nothing to resume`
      )
    if (t.to !== baseState.phase)
      return refuse(
        `resumes at ${t.to} but the rollout is in ${baseState.phase}: a resume leaves the phase as it is`
      )
  } else if (t.kind === 'pause') {
    // A trigger's pause (or a dispatched one) reaches a protected branch as a pull request.
    if (t.to !== baseState.phase)
      return refuse(`a pause stays in ${baseState.phase}, but this one moves to ${t.to}`)
    if (baseState.paused)
      return refuse(`${policy.feature} is already paused since ${baseState.paused.at}`)
  } else {
    return refuse(`a ${t.kind} transition is not made through a pull request`)
  }
  const expected = nextState(baseState, t)
  if (renderState(expected, change.baseText) !== change.headText)
    return refuse(
      `${statePath} changes more than the ${t.kind} transition writes (${differingKeys(expected, head).join(', ') || 'formatting'})`
    )
  const record = change.headRecord
  if (!record || record.kind !== t.kind || record.from !== t.from || record.to !== t.to)
    return refuse(
      `${statePath} changes without a phasegate transition commit (no matching Phasegate-* trailers)`
    )
  if (!sameEvidence(record.evidence, t.evidence))
    return refuse(
      `the evidence in ${statePath} differs from the transition commit's trailers: it was edited`
    )
  if (t.kind === 'resume')
    return { ok: true, summary: `resume at ${t.to}: kill switch on`, resume: true }
  if (t.kind === 'pause')
    return { ok: true, summary: `pause at ${t.to}: no advance until a resume; triggers still act` }
  if (t.kind !== 'advance')
    return { ok: true, summary: `${t.kind} ${t.from} -> ${t.to}: stepping back one phase` }
  const broken = inconsistentEvidence(policy, t.from, t.evidence)
  if (broken) return refuse(broken)
  if (decision.action !== 'advance' || decision.target !== t.to)
    return refuse(`the gates to advance to ${t.to} do not pass now: ${decision.reason}`)
  return {
    ok: true,
    summary: `advance ${t.from} -> ${t.to}: ${decision.reason}, ${decision.transition?.approvers.length ? `approved by ${decision.transition.approvers.join(', ')}` : 'no approval needed'}`
  }
}

function differingKeys(expected: State, actual: State): string[] {
  const keys: Array<keyof State> = [
    'feature',
    'phase',
    'enteredAt',
    'enabled',
    'experiments',
    'lastTransition',
    'paused'
  ]
  return keys.filter(k => JSON.stringify(expected[k]) !== JSON.stringify(actual[k]))
}

function evidenceKey(e: Evidence): string {
  return JSON.stringify([e.gate, e.metric ?? null, e.value ?? null, e.threshold ?? null, e.result])
}

function sameEvidence(a: Evidence[], b: Evidence[]): boolean {
  return a.length === b.length && a.every((e, i) => evidenceKey(e) === evidenceKey(b[i]!))
}

/**
 * Evidence of an advance must cover the phase's metric gates against the policy's own thresholds,
 * every entry passing, with values that meet them: a hand-written "pass" next to a failing value,
 * or a loosened threshold, is caught.
 */
function inconsistentEvidence(
  policy: Policy,
  from: string,
  evidence: Evidence[]
): string | undefined {
  // The policy's thresholds are loaded in their metrics' units; the text alone ("< 500ms") is not.
  const loaded = new Map<Evidence, Threshold>()
  for (const gate of phaseNamed(policy, from).gates) {
    if (gate.type !== 'metrics_threshold') continue
    for (const [metric, threshold] of Object.entries(gate.thresholds)) {
      const label = gate.group ? `${metric}[${gate.group}]` : metric
      const e = evidence.find(x => x.gate === gate.name && x.metric === label)
      if (!e) return `the evidence has no ${gate.name} reading of ${label}`
      if (e.threshold !== threshold.source)
        return `the evidence holds ${label} to "${e.threshold}" but the policy says "${threshold.source}": it was edited`
      loaded.set(e, threshold)
    }
  }
  for (const e of evidence) {
    if (e.result !== 'pass')
      return `the evidence records ${e.gate}${e.metric ? ` ${e.metric}` : ''} as ${e.result}: an advance needs every gate to pass`
    if (typeof e.value !== 'number' || !e.threshold) continue
    const policyThreshold = loaded.get(e)
    const parsed = policyThreshold
      ? { ok: true as const, value: policyThreshold }
      : parseThreshold(e.threshold)
    if (parsed.ok && !meets(parsed.value, e.value))
      return `the evidence says ${e.metric} ${e.value} passed "${e.threshold}", which it does not: it was edited`
  }
  return undefined
}
