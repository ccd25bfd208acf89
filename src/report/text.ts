import type { Decision, Evidence, Policy, State } from '../engine/types.js'
import { describeExposure, exposureOf, type Exposure } from '../engine/exposure.js'
import { onFireSummary, orderedTriggers } from './triggers.js'
import { nextPhase, phaseIndex, phaseNamed } from '../engine/ladder.js'
import { formatSpan } from '../engine/time.js'
import { thresholdsInForce } from '../engine/triggers.js'
import type { History } from '../git/transitions.js'
import type { PhasegateError } from '../errors.js'

const MARK: Record<Evidence['result'], string> = {
  pass: 'pass',
  fail: 'FAIL',
  pending: 'wait',
  fired: 'FIRED',
  breached: 'BREACH',
  ok: 'ok',
  no_data: 'NO DATA'
}

/** A rollout that was never started: it says so, and how to start it, instead of a live-looking header. */
export function renderNotStarted(policy: Policy, policyFile: string): string {
  return (
    `${policy.feature}: not started (no state file at ${policy.statePath}); nothing moves until ` +
    `\`phasegate init --policy ${policyFile}\` starts it at ${policy.phases[0]!.name}`
  )
}

/** The decision as a person reads it in a terminal. */
/**
 * The card of a feature that could not be evaluated (its policy, its snapshot or its state is
 * broken): its name (or its policy file when the policy did not load) and the located error.
 */
export function renderFailure(
  feature: string | undefined,
  policyFile: string,
  error: PhasegateError
): string {
  return [
    `${feature ?? policyFile}: ERROR, not evaluated (${policyFile})`,
    `  ${error.format()}`
  ].join('\n')
}

/**
 * A feature's status as text: header, gates, alerts, triggers and the decision. `exposure` is what
 * the header says is served (default exposureOf; status and tick pass exposureInForce).
 */
export function renderDecision(
  policy: Policy,
  state: State,
  decision: Decision,
  now: Date,
  exposure: Exposure = exposureOf(policy, state)
): string {
  const phase = phaseNamed(policy, state.phase)
  const position = `${phaseIndex(policy, phase.name) + 1} of ${policy.phases.length}`
  const since = formatSpan(Math.max(0, now.getTime() - Date.parse(state.enteredAt)))
  const lines = [
    `${policy.feature}: ${phase.name} (${position}), ${describeExposure(exposure)}, ` +
      `kill switch ${state.enabled ? 'on (feature enabled)' : 'OFF (feature disabled)'}, ${state.lost ? 'STATE FILE LOST' : `in phase ${since}`}`
  ]
  const next = nextPhase(policy, phase.name)
  if (!next && decision.gates.length === 0)
    lines.push('  final phase: the rollout is complete; no gates to pass')
  else if (decision.gates.length > 0) {
    lines.push(
      next
        ? `  gates to advance to ${next.name}:`
        : '  final phase: the rollout is complete; steady-state check (reported, never acted on):'
    )
    const width = Math.max(...decision.gates.map(g => g.gate.length))
    for (const g of decision.gates)
      lines.push(`    [${MARK[g.outcome]}] ${g.gate.padEnd(width)}  ${g.reason}`)
  }
  lines.push(decision.alerts.length ? '  alerts:' : '  alerts: none')
  for (const a of decision.alerts) lines.push(`    [${a.severity}] ${a.message}`)
  for (const t of decision.trends) lines.push(`    [trend] ${t.message}`)
  lines.push(...triggerLines(decision))
  const onFire = onFireSummary(decision.triggers)
  if (onFire) lines.push(`  ${onFire}`)
  if (state.paused) lines.push(`  PAUSED since ${state.paused.at}: ${state.paused.reason}`)
  if (decision.freeze)
    lines.push(
      `  freeze window "${decision.freeze.window}" open: no advance lands ${decision.freeze.endless ? 'for at least ' : 'until '}${decision.freeze.endsAt}`
    )
  if (decision.cooldown)
    lines.push(
      `  cool-down after a rollback out of ${decision.cooldown.phase} until ${decision.cooldown.endsAt}`
    )
  const thresholds = thresholdsInForce(policy, phase)
  if (thresholds.length) {
    lines.push('  thresholds, and where the policy writes them:')
    const width = Math.max(...thresholds.map(t => t.use.length + t.metric.length + 1))
    for (const t of thresholds)
      lines.push(`    ${`${t.use} ${t.metric}`.padEnd(width)}  ${t.threshold}  (${t.from})`)
  }
  const waiting = decision.triggers.filter(t => t.waiting)
  if (waiting.length) {
    lines.push('  rollback triggers waiting:')
    for (const t of waiting) lines.push(`    [wait] ${t.reason}`)
  }
  lines.push(`  decision: ${verb(decision)}`)
  return lines.join('\n')
}

/**
 * Every rollback trigger in force, fired first, then breached but not fired, no data, and ok, each
 * with why: a trigger that could not be judged is never hidden or shown as passing.
 */
function triggerLines(decision: Decision): string[] {
  if (decision.triggers.length === 0) return ['  rollback triggers: none']
  const width = Math.max(...decision.triggers.map(t => t.trigger.length))
  return [
    '  rollback triggers:',
    ...orderedTriggers(decision.triggers).map(
      t => `    [${MARK[t.status]}] ${t.trigger.padEnd(width)}  ${t.reason}`
    )
  ]
}

function verb(decision: Decision): string {
  switch (decision.action) {
    case 'advance':
      return `ADVANCE ${decision.phase} -> ${decision.target}: ${decision.reason}`
    case 'rollback':
      return `ROLL BACK ${decision.phase} -> ${decision.target}: ${decision.reason}`
    case 'pause':
      return `PAUSE at ${decision.phase}: ${decision.reason}`
    case 'hold':
      return `hold at ${decision.phase}: ${decision.reason}`
  }
}

export function renderHistory(entries: History): string {
  if (entries.length === 0) return 'no transitions yet'
  const lines: string[] = []
  for (const e of [...entries].reverse()) {
    if ('skipped' in e) {
      // Marked, not dropped: someone put phasegate's trailers on a commit that is no transition.
      lines.push(
        `${e.at}  skipped  ${e.sha.slice(0, 10)}  ${e.feature}  claims ${e.kind} ${e.from} -> ${e.to}: ${e.skipped}`
      )
      continue
    }
    const who = [
      e.approvers.length ? `approved by ${e.approvers.join(', ')}` : '',
      e.operator ? `by ${e.operator}` : ''
    ]
      .filter(Boolean)
      .join('; ')
    lines.push(
      `${e.at}  ${e.sha.slice(0, 10)}  ${e.feature}  ${e.kind.padEnd(9)} ${e.from} -> ${e.to}${who ? `  (${who})` : ''}`
    )
    lines.push(`    ${e.reason}${e.reverts ? ` [reverts ${e.reverts.slice(0, 10)}]` : ''}`)
    for (const ev of e.evidence) {
      const what = ev.metric ? `${ev.metric} = ${ev.value ?? 'no data'}` : `${ev.value ?? ''}`
      lines.push(
        `      ${MARK[ev.result].padEnd(5)} ${ev.gate}: ${what}${ev.threshold ? ` (${ev.threshold})` : ''}`
      )
    }
  }
  return lines.join('\n')
}
