import { formatSpan } from './time.js'
import {
  comparedIn,
  findReading,
  heldFor,
  meets,
  shownThreshold,
  shownValue,
  usableValue
} from './readings.js'
import type {
  Approval,
  AutomatedTestGate,
  Evidence,
  Gate,
  GateOutcome,
  GateResult,
  ManualApprovalGate,
  MetricsThresholdGate,
  Observations,
  State,
  TimeBasedGate
} from './types.js'

export function evaluateGate(
  gate: Gate,
  state: State,
  observations: Observations,
  now: Date
): GateResult {
  switch (gate.type) {
    case 'metrics_threshold':
      return metricsThreshold(gate, observations, now, Date.parse(state.enteredAt))
    case 'manual_approval':
      return manualApproval(gate, observations.approvals)
    case 'automated_test':
      return automatedTest(gate, observations)
    case 'time_based':
      return timeBased(gate, state, now)
  }
}

/** fail if anything failed, else pending if anything is pending, else pass. */
function combine(outcomes: GateOutcome[]): GateOutcome {
  if (outcomes.includes('fail')) return 'fail'
  if (outcomes.includes('pending') || outcomes.length === 0) return 'pending'
  return 'pass'
}

function metricsThreshold(
  gate: MetricsThresholdGate,
  observations: Observations,
  now: Date,
  enteredAt: number
): GateResult {
  const forMs = gate.forMs ?? 0
  const evidence: Evidence[] = []
  const reasons: string[] = []
  for (const [metric, threshold] of Object.entries(gate.thresholds)) {
    const reading = findReading(observations.readings, metric, gate.group)
    const label = gate.group ? `${metric}[${gate.group}]` : metric
    const usable = usableValue(reading, label)
    let result: GateOutcome
    if ('reason' in usable) {
      result = 'pending'
      reasons.push(usable.reason)
    } else if (gate.minSamples !== undefined && (reading!.samples ?? 0) < gate.minSamples) {
      result = 'pending'
      reasons.push(
        `${label} has ${reading!.samples ?? 0} samples, fewer than the ${gate.minSamples} required`
      )
    } else if (meets(threshold, usable.value)) {
      // for: success must have held over the whole window, inside this phase, from range data.
      const held =
        forMs <= 0
          ? { held: true, reason: '' }
          : now.getTime() - forMs < enteredAt
            ? {
                held: false,
                reason: `the for: window of ${formatSpan(forMs)} reaches back before the phase was entered (${new Date(enteredAt).toISOString()})`
              }
            : heldFor(reading!, forMs, now, v => meets(threshold, v), 'success')
      result = held.held ? 'pass' : 'pending'
      reasons.push(
        `${label} ${shownValue(usable.value, threshold)} ${shownThreshold(threshold)}${forMs > 0 ? `, ${held.held ? held.reason : `but ${held.reason}`}` : ''}`
      )
    } else {
      result = 'fail'
      reasons.push(
        `${label} ${shownValue(usable.value, threshold)} is not ${shownThreshold(threshold)}`
      )
    }
    evidence.push({
      gate: gate.name,
      metric: label,
      value: 'value' in usable ? usable.value : null,
      threshold: threshold.source,
      ...comparedIn(threshold),
      result
    })
  }
  const outcome = combine(evidence.map(e => e.result as GateOutcome))
  const shown =
    outcome === 'pass' ? reasons : reasons.filter((_, i) => evidence[i]!.result !== 'pass')
  return { gate: gate.name, type: gate.type, outcome, reason: shown.join('; '), evidence }
}

/** Roles that can push, and so approve as in GitHub's own review rules. */
const WRITE_ACCESS = new Set(['admin', 'maintain', 'write'])

/**
 * Why an approval does not count, or undefined when it does. A member of a listed team counts by
 * membership; anyone else needs write access (when GitHub reported it) and, when the phase lists
 * approvers, to be listed by name.
 */
export function approvalRejection(approval: Approval, approvers: string[]): string | undefined {
  if (approval.bot) return 'a bot'
  if (approval.author) return 'the author of the change'
  if (approval.runner) return 'the person running phasegate'
  if (approval.stale) return 'approved an older commit'
  if (approval.unverified) return `could not be verified: ${approval.unverified}`
  const user = approval.user.toLowerCase()
  const entries = approvers.map(a => a.toLowerCase())
  const teams = (approval.teams ?? []).map(t => t.toLowerCase())
  if (entries.some(entry => entry.startsWith('@') && teams.includes(entry))) return undefined
  if (approval.permission !== undefined && !WRITE_ACCESS.has(approval.permission))
    return `has ${approval.permission} permission; approvals need write access`
  if (approvers.length === 0 || entries.includes(user)) return undefined
  return 'not a listed approver'
}

/**
 * Local mode's approvals (`--approved-by`): what the person running phasegate vouches for, under
 * GitHub's identity rules. Bot logins ("name[bot]") and `runner`'s own identities (compared
 * case-insensitively) are kept, marked, so that the gate says why they do not count.
 */
export function vouchedApprovals(logins: string[], runner: string[]): Approval[] {
  const self = new Set(runner.map(r => r.toLowerCase()))
  return logins.map(user => ({
    user,
    ...(/\[bot\]$/i.test(user) ? { bot: true } : {}),
    ...(self.has(user.toLowerCase()) ? { runner: true } : {})
  }))
}

export function validApprovers(gate: ManualApprovalGate, approvals: Approval[]): string[] {
  const users = new Map<string, string>()
  for (const approval of approvals) {
    if (!approvalRejection(approval, gate.approvers))
      users.set(approval.user.toLowerCase(), approval.user)
  }
  return [...users.values()]
}

function manualApproval(gate: ManualApprovalGate, approvals: Approval[]): GateResult {
  const valid = validApprovers(gate, approvals)
  const ignored = approvals
    .map(a => ({ user: a.user, why: approvalRejection(a, gate.approvers) }))
    .filter(a => a.why)
    .map(a => `${a.user} (${a.why})`)
  const outcome: GateOutcome = valid.length >= gate.required ? 'pass' : 'pending'
  const from = gate.approvers.length ? ` from ${gate.approvers.join(', ')}` : ''
  const parts = [
    outcome === 'pass'
      ? `approved by ${valid.join(', ')}`
      : `${valid.length} of ${gate.required} required approval${gate.required > 1 ? 's' : ''}${from}${valid.length ? ` (${valid.join(', ')})` : ''}`
  ]
  if (ignored.length) parts.push(`not counted: ${ignored.join(', ')}`)
  return {
    gate: gate.name,
    type: gate.type,
    outcome,
    reason: parts.join('; '),
    evidence: [
      {
        gate: gate.name,
        value: valid.join(',') || null,
        threshold: `>= ${gate.required} approvals`,
        result: outcome
      }
    ]
  }
}

function automatedTest(gate: AutomatedTestGate, observations: Observations): GateResult {
  const evidence: Evidence[] = gate.checks.map(name => {
    const check = observations.checks.find(
      c => c.name === name && (c.app === undefined || c.app === gate.app)
    )
    const result: GateOutcome =
      !check || check.conclusion === null
        ? 'pending'
        : check.conclusion === 'success'
          ? 'pass'
          : 'fail'
    return {
      gate: gate.name,
      metric: name,
      value: check ? (check.conclusion ?? 'in progress') : 'not run',
      threshold: 'success',
      result
    }
  })
  const outcome = combine(evidence.map(e => e.result as GateOutcome))
  const reason = evidence
    .filter(e => outcome === 'pass' || e.result !== 'pass')
    .map(e =>
      e.result === 'pass'
        ? `${e.metric} succeeded`
        : e.value === 'not run'
          ? `${e.metric} has not run`
          : `${e.metric}: ${e.value}`
    )
    .join('; ')
  return { gate: gate.name, type: gate.type, outcome, reason, evidence }
}

function timeBased(gate: TimeBasedGate, state: State, now: Date): GateResult {
  const elapsed = now.getTime() - Date.parse(state.enteredAt)
  const outcome: GateOutcome = elapsed >= gate.durationMs ? 'pass' : 'pending'
  const reason =
    outcome === 'pass'
      ? `in ${state.phase} for ${formatSpan(elapsed)}, at least ${gate.source}`
      : `in ${state.phase} for ${formatSpan(Math.max(elapsed, 0))} of ${gate.source}; ${formatSpan(gate.durationMs - elapsed)} to go`
  return {
    gate: gate.name,
    type: gate.type,
    outcome,
    reason,
    evidence: [
      {
        gate: gate.name,
        metric: 'time_in_phase',
        value: formatSpan(Math.max(elapsed, 0)),
        threshold: `>= ${gate.source}`,
        result: outcome
      }
    ]
  }
}
