import { evaluateAlerts, unreadAlertMetrics } from './alerts.js'
import { describeWindow, localTime, openFreeze } from './freeze.js'
import { evaluateGate, validApprovers } from './gates.js'
import { evaluateGuardrails } from './guardrails.js'
import { observedTriggerAlerts } from './observed-alerts.js'
import { exposureOf } from './exposure.js'
import { nextPhase, phaseNamed, previousPhase } from './ladder.js'
import { rangeOfMetric, screenReadings } from './plausible.js'
import { findReading } from './readings.js'
import { evaluateTrend } from './trends.js'
import { formatSpan } from './time.js'
import { evaluateTriggers } from './triggers.js'
import type {
  Decision,
  Evidence,
  FreezeWindow,
  HoldCause,
  Observations,
  Phase,
  Policy,
  State,
  Transition
} from './types.js'

/**
 * The whole decision: pure, so the same inputs always give the same answer.
 * Order of precedence: kill switch off -> hold; a fired trigger (guardrails with on_fire: rollback among them) -> roll back one phase (or pause,
 * when every fired trigger says on_fire: pause; on_fire: observe triggers only report); paused ->
 * hold; final phase -> hold; a cool-down after a rollback out of the next phase -> hold; a gate
 * (guardrails included) not passing -> hold and say why; a freeze window open -> hold until it ends; otherwise advance
 * one phase.
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
    observations.userPercentage ?? exposureOf(policy, state).userPercentage
  )
  const alerts = [...evaluateAlerts(policy.alerts, observed.readings, now), ...guardrails.alerts]
  const triggers = [
    ...evaluateTriggers(policy, phase, observed, alerts, now, new Date(state.enteredAt)),
    ...guardrails.triggers
  ]
  // A fired observe-only trigger is "reported and alerted": on a metric no alert rule watches, it
  // raises the alert itself.
  alerts.push(...observedTriggerAlerts(policy, phase, triggers, alerts))
  // Gates guard the step to the next phase. The final phase has no step to take: its metric
  // gates (the seed writes success_criteria there) are its steady-state check, evaluated and
  // reported every run and never acted on (rollback triggers act).
  const gates = next
    ? [...phase.gates.map(gate => evaluateGate(gate, state, observed, now)), ...guardrails.gates]
    : phase.gates
        .filter(gate => gate.type === 'metrics_threshold')
        .map(gate => evaluateGate(gate, state, observed, now))
  const freeze = next ? freezeAtEither(policy.freezeWindows ?? [], now, observed.clock) : undefined
  const trends = policy.trends.flatMap(rule => {
    const outcome = evaluateTrend(rule, findReading(observed.readings, rule.metric), now)
    return outcome.alert ? [outcome.alert] : []
  })
  const unread = unreadAlertMetrics(policy.alerts, observed.readings)
  const base = {
    feature: policy.feature,
    phase: phase.name,
    gates,
    alerts,
    ...(unread.length ? { alertsUnread: unread } : {}),
    trends,
    triggers
  }
  const awaitingApproval =
    next !== undefined &&
    gates.some(g => g.type === 'manual_approval' && g.outcome !== 'pass') &&
    gates.every(g => g.type === 'manual_approval' || g.outcome === 'pass')
  const hold = (holdCause: HoldCause, reason: string, extra: Partial<Decision> = {}): Decision => ({
    ...base,
    action: 'hold',
    holdCause,
    reason,
    awaitingApproval: state.enabled && !state.paused && awaitingApproval,
    ...extra
  })

  if (!state.enabled) {
    return hold(
      'kill_switch',
      `the kill switch is off (${state.lastTransition?.reason ?? 'disabled'}); nothing moves until \`phasegate resume\``
    )
  }

  // Observe-only triggers are reported with the rest and never move the rollout.
  const observeOnly = triggers.filter(t => t.fired && t.onFire === 'observe')
  const observing = observeOnly.length
    ? ` (observe-only, nothing rolled back: ${observeOnly.map(t => t.reason).join('; ')})`
    : ''
  const fired = triggers.filter(t => t.fired && t.onFire === 'rollback')
  const pausing = triggers.filter(t => t.fired && t.onFire === 'pause')
  if (fired.length === 0 && pausing.length > 0 && !state.paused) {
    const why = pausing.map(t => t.reason).join('; ')
    const reason = `automatic pause (on_fire: pause): ${why}${observing}`
    return {
      ...base,
      action: 'pause',
      target: phase.name,
      reason,
      awaitingApproval: false,
      transition: transition(
        'pause',
        phase.name,
        phase.name,
        now,
        reason,
        [],
        pausing.flatMap(t => t.evidence)
      )
    }
  }
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
    const reason =
      (needsApproval
        ? `automatic rollback NEEDS APPROVAL (rollback.manual_approval_required): ${why}`
        : `automatic rollback: ${why}`) + observing
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

  if (state.paused) {
    return hold(
      'paused',
      `paused since ${state.paused.at} (${state.paused.reason}): it does not advance until \`phasegate resume\`; rollback triggers still act${observing}`
    )
  }

  if (!next) {
    const missed = gates.filter(g => g.outcome !== 'pass')
    const steady =
      gates.length === 0
        ? ''
        : missed.length === 0
          ? `; steady-state check ${gates.map(g => g.gate).join(', ')}: met`
          : `; steady-state check ${missed.map(g => g.gate).join(', ')}: NOT met (${missed.map(g => g.reason).join('; ')}), reported only`
    return hold(
      'final_phase',
      `${phase.name} is the final phase: the rollout is complete and cannot advance${steady}${observing}`
    )
  }

  const cooling = cooldownOf(next, state, observations, now)
  if (cooling === 'unknown') {
    return hold(
      'cooldown',
      `${next.name} has a cool-down of ${formatSpan(next.cooldownMs!)} after a rollback out of it, and it could not be checked: the git history is shallow (a depth-limited clone), so a rollback may be missing from it; the advance waits. Fetch the whole history: actions/checkout with fetch-depth: 0, or git fetch --unshallow${observing}`,
      { awaitingApproval: false }
    )
  }
  if (cooling) {
    return hold(
      'cooldown',
      `${next.name} was rolled back from at ${cooling.rolledBackAt}: its cool-down of ${formatSpan(next.cooldownMs!)} ends at ${cooling.endsAt}, and the advance waits until then${observing}`,
      { awaitingApproval: false, cooldown: { phase: next.name, endsAt: cooling.endsAt } }
    )
  }

  const frozen = freeze && {
    freeze: {
      window: freeze.window.name,
      endsAt: freeze.endsAt.toISOString(),
      ...(freeze.endless ? { endless: true as const } : {})
    }
  }
  const until =
    freeze &&
    `${freeze.endless ? 'at least ' : ''}until ${freeze.endsAt.toISOString()} (${localTime(freeze.window, freeze.endsAt)})${freeze.endless ? ': the windows chain without a gap' : ''}${freeze.onClock ? ` on the clock (${freeze.onClock.toISOString()}), whatever the evaluation time ${now.toISOString()} says` : ''}`
  const freezeNote = freeze
    ? `; freeze window ${describeWindow(freeze.window)} is open ${until}`
    : ''
  const notPassing = gates.filter(g => g.outcome !== 'pass')
  if (notPassing.length > 0) {
    return hold(
      'gates',
      `waiting to advance to ${next.name}: ${notPassing.map(g => `${g.gate} ${g.outcome} (${g.reason})`).join('; ')}${freezeNote}${observing}`,
      frozen || {}
    )
  }

  if (freeze) {
    // The advance PR may stay open and be approved; only its landing waits for the window's end.
    return hold(
      'freeze',
      `every gate to ${next.name} passes, but nothing lands as an advance inside a freeze window: ${describeWindow(freeze.window)} is open ${until}${observing}`,
      { ...frozen, awaitingApproval: state.enabled }
    )
  }

  const approvers = approvedBy(policy, phase.name, observations)
  const reason =
    gates.length === 0
      ? `${phase.name} has no gates`
      : gates.length === 1
        ? `the only gate of ${phase.name} passed (${gates[0]!.gate})`
        : `all ${gates.length} gates of ${phase.name} passed`
  const advanceReason = reason + observing
  return {
    ...base,
    action: 'advance',
    target: next.name,
    reason: advanceReason,
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

/**
 * The cool-down holding the advance into `next`, if any: its last rollback out of `next` (from the
 * history, or the state's last transition) was less than `next.cooldownMs` before `now`;
 * 'unknown' when none is seen in a shallow history, which may have cut it off.
 */
function cooldownOf(
  next: Phase,
  state: State,
  observations: Observations,
  now: Date
): { rolledBackAt: string; endsAt: string } | 'unknown' | undefined {
  if (!next.cooldownMs) return undefined
  const last = state.lastTransition
  const rollbacks = [
    ...(observations.rollbacks ?? []),
    ...(last && (last.kind === 'rollback' || last.kind === 'emergency') ? [last] : [])
  ].filter(r => r.from === next.name)
  // A shallow history shows its newest rollbacks only: none seen is no evidence that none happened.
  if (rollbacks.length === 0) return observations.historyShallow ? 'unknown' : undefined
  const latest = Math.max(...rollbacks.map(r => Date.parse(r.at)))
  const ends = latest + next.cooldownMs
  if (now.getTime() >= ends) return undefined
  return { rolledBackAt: new Date(latest).toISOString(), endsAt: new Date(ends).toISOString() }
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

/**
 * The freeze window open at `now`, else, when `now` is earlier than `clock` (see
 * Observations.clock), the one open at `clock`, with `onClock` set so that the report says why
 * an earlier `now` still waits.
 */
function freezeAtEither(
  windows: FreezeWindow[],
  now: Date,
  clock: Date | undefined
): (NonNullable<ReturnType<typeof openFreeze>> & { onClock?: Date }) | undefined {
  const atNow = openFreeze(windows, now)
  if (atNow || !clock || clock <= now) return atNow
  const atClock = openFreeze(windows, clock)
  return atClock && { ...atClock, onClock: clock }
}
