import { evaluateAlerts } from './alerts.js'
import { evaluateGate, validApprovers } from './gates.js'
import { evaluateGuardrails } from './guardrails.js'
import { exposureOf } from './exposure.js'
import { nextPhase, phaseNamed, previousPhase } from './ladder.js'
import { rangeOfMetric, screenReadings } from './plausible.js'
import { findReading } from './readings.js'
import { evaluateTrend } from './trends.js'
import { evaluateTriggers } from './triggers.js'
import type {
  Decision,
  Evidence,
  HoldCause,
  Observations,
  Policy,
  State,
  Transition
} from './types.js'

/**
 * The whole decision: pure, so the same inputs always give the same answer.
 * Order of precedence: kill switch off -> hold; a fired trigger (guardrails with on_fire:
 * rollback among them) -> roll back one phase; final phase -> hold; every gate (guardrails
 * included) passes -> advance one phase; otherwise hold and say why.
 */
export function decide(
  policy: Policy,
  state: State,
  observations: Observations,
  now: Date
): Decision {
  const phase = phaseNamed(policy, state.phase)
  const next = nextPhase(policy, phase.name)
  // Impossible readings become "no data" here, once, for every gate, trigger, alert and trend.
  const observed = {
    ...observations,
    readings: screenReadings(observations.readings, m => rangeOfMetric(policy, m))
  }
  // Guardrails: treatment vs control on data accumulated since the phase was entered; a
  // regression rolls back like any trigger, too little evidence holds like any gate.
  const guardrails = evaluateGuardrails(
    policy.guardrails ?? [],
    screenReadings(observations.guardrailReadings ?? [], m => rangeOfMetric(policy, m)),
    exposureOf(policy, state).userPercentage
  )
  const alerts = [...evaluateAlerts(policy.alerts, observed.readings, now), ...guardrails.alerts]
  const triggers = [
    ...evaluateTriggers(policy, phase, observed, alerts, now, new Date(state.enteredAt)),
    ...guardrails.triggers
  ]
  // Gates guard the step to the next phase; the final phase has none to take.
  const gates = next
    ? [...phase.gates.map(gate => evaluateGate(gate, state, observed, now)), ...guardrails.gates]
    : []
  const trends = policy.trends.flatMap(rule => {
    const outcome = evaluateTrend(rule, findReading(observed.readings, rule.metric), now)
    return outcome.alert ? [outcome.alert] : []
  })
  const base = { feature: policy.feature, phase: phase.name, gates, alerts, trends, triggers }
  const awaitingApproval =
    next !== undefined &&
    gates.some(g => g.type === 'manual_approval' && g.outcome !== 'pass') &&
    gates.every(g => g.type === 'manual_approval' || g.outcome === 'pass')
  const hold = (holdCause: HoldCause, reason: string): Decision => ({
    ...base,
    action: 'hold',
    holdCause,
    reason,
    awaitingApproval: state.enabled && awaitingApproval
  })

  if (!state.enabled) {
    return hold(
      'kill_switch',
      `the kill switch is off (${state.lastTransition?.reason ?? 'disabled'}); nothing moves until \`phasegate resume\``
    )
  }

  const fired = triggers.filter(t => t.fired)
  if (fired.length > 0) {
    const previous = previousPhase(policy, phase.name)
    const why = fired.map(t => t.reason).join('; ')
    if (!previous) {
      return hold(
        'first_phase_trigger',
        `rollback triggered (${why}) but ${phase.name} is the first phase: there is nothing to roll back to; ` +
          'use `phasegate rollback --emergency` to turn the feature off'
      )
    }
    // The seed's manual_approval_required is the one opt-in wait on a metric rollback; a system
    // failure never waits.
    const needsApproval =
      policy.rollback.manualApprovalRequired && !fired.some(t => t.trigger === 'system_failure')
    const reason = needsApproval
      ? `automatic rollback NEEDS APPROVAL (rollback.manual_approval_required): ${why}`
      : `automatic rollback: ${why}`
    const evidence: Evidence[] = fired.flatMap(t => t.evidence)
    return {
      ...base,
      action: 'rollback',
      target: previous.name,
      reason,
      awaitingApproval: false,
      ...(needsApproval ? { rollbackNeedsApproval: true } : {}),
      transition: transition('rollback', phase.name, previous.name, now, reason, [], evidence)
    }
  }

  if (!next) {
    return hold(
      'final_phase',
      `${phase.name} is the final phase: the rollout is complete and cannot advance`
    )
  }

  const notPassing = gates.filter(g => g.outcome !== 'pass')
  if (notPassing.length > 0) {
    return hold(
      'gates',
      `waiting to advance to ${next.name}: ${notPassing.map(g => `${g.gate} ${g.outcome} (${g.reason})`).join('; ')}`
    )
  }

  const approvers = approvedBy(policy, phase.name, observations)
  const reason =
    gates.length === 0
      ? `${phase.name} has no gates`
      : gates.length === 1
        ? `the only gate of ${phase.name} passed (${gates[0]!.gate})`
        : `all ${gates.length} gates of ${phase.name} passed`
  return {
    ...base,
    action: 'advance',
    target: next.name,
    reason,
    awaitingApproval: false,
    transition: transition(
      'advance',
      phase.name,
      next.name,
      now,
      reason,
      approvers,
      gates.flatMap(g => g.evidence)
    )
  }
}

/** Who approved the advance: the valid approvals of the phase's manual approval gates. */
function approvedBy(policy: Policy, phaseName: string, observations: Observations): string[] {
  const users = new Set<string>()
  for (const gate of phaseNamed(policy, phaseName).gates) {
    if (gate.type === 'manual_approval')
      validApprovers(gate, observations.approvals).forEach(u => users.add(u))
  }
  return [...users]
}

function transition(
  kind: Transition['kind'],
  from: string,
  to: string,
  now: Date,
  reason: string,
  approvers: string[],
  evidence: Evidence[]
): Transition {
  return { kind, from, to, at: now.toISOString(), reason, approvers, evidence }
}
