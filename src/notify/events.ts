import { SEVERITY_RANK } from '../engine/alerts.js'
import { guardrailName } from '../engine/guardrails.js'
import type {
  Alert,
  Decision,
  EmergencyContact,
  NotificationEventKind,
  NotificationTarget,
  Policy,
  Severity,
  Transition
} from '../engine/types.js'

// What people are told, as data: built from what a run did (a commit it made, a PR it opened, an
// alert issue it changed, a feature it could not evaluate), never from what it merely saw, so a
// re-run that finds the work done has nothing to say. Each event carries an idempotency key
// derived from that effect (the transition commit, the alert issue and its severity); the dedup
// record (NotifiedLedger) and the receivers (Idempotency-Key header) both use it.

/** One thing worth telling people, the same for every target. */
export interface NotificationEvent {
  kind: NotificationEventKind
  /** Other kinds a target may listen for to hear this event (an emergency is also kill_switch). */
  also: NotificationEventKind[]
  severity: Severity
  feature: string
  /** One line: what happened. */
  title: string
  /** Why, in a sentence or two. */
  text: string
  /** Label and value pairs shown as a table (phase, from, to, commit ...). */
  facts: Array<[string, string]>
  /** ISO-8601 instant of the effect. */
  at: string
  /** Stable across re-runs of the same effect: "<feature>:<kind>:<what it is about>". */
  key: string
  /** The on-call contacts, named in emergency and critical events only (empty otherwise). */
  oncall: string[]
  /** Where to look: the run, commit or pull request. */
  url?: string
}

/** Transition kinds as events. Kinds without an entry (none today) are not announced. */
const TRANSITION_EVENTS: Record<string, { kind: NotificationEventKind; severity: Severity }> = {
  advance: { kind: 'advanced', severity: 'medium' },
  rollback: { kind: 'rollback', severity: 'high' },
  emergency: { kind: 'emergency_rollback', severity: 'critical' },
  resume: { kind: 'resume', severity: 'medium' },
  pause: { kind: 'pause', severity: 'medium' }
}

/** The on-call contacts as written in the policy (teams and users). */
export function oncallNames(contacts: EmergencyContact[]): string[] {
  return contacts.filter(c => c.oncall).flatMap(c => [c.team, c.user].filter(n => n !== undefined))
}

function withOncall(policy: Policy, event: Omit<NotificationEvent, 'oncall'>): NotificationEvent {
  const named = event.kind === 'emergency_rollback' || event.severity === 'critical'
  return { ...event, oncall: named ? oncallNames(policy.rollback.emergencyContacts) : [] }
}

/**
 * The event for a transition committed as `commit`: an automatic rollback is high (critical when
 * system_failure fired), a rollback by an operator is graceful, an emergency is critical and also
 * a kill_switch event. `proposedIn`: the commit is on that pull request, waiting for approval
 * (rollback.manual_approval_required), not on the default branch. Undefined for a transition
 * kind that is not announced.
 */
export function transitionEvent(
  policy: Policy,
  transition: Transition,
  commit: string,
  url?: string,
  proposedIn?: number
): NotificationEvent | undefined {
  const known = TRANSITION_EVENTS[transition.kind]
  if (!known) return undefined
  const graceful = transition.kind === 'rollback' && transition.operator !== undefined
  const systemFailure = transition.evidence.some(
    e => e.gate.endsWith('system_failure') && e.result === 'fired'
  )
  const kind = graceful ? 'graceful_rollback' : known.kind
  // A pause a trigger made (no operator) stands in for the rollback that trigger would have made:
  // told at the rollback's severity, not below an observe-only trial's alert.
  const severity =
    transition.kind === 'rollback' && systemFailure
      ? 'critical'
      : transition.kind === 'pause' && transition.operator === undefined
        ? 'high'
        : known.severity
  const headline: Record<string, string> = {
    advanced: `advanced ${transition.from} → ${transition.to}`,
    rollback: `rolled back ${transition.from} → ${transition.to}`,
    graceful_rollback: `rolled back ${transition.from} → ${transition.to} by ${transition.operator}`,
    emergency_rollback: `EMERGENCY: turned off and rolled back ${transition.from} → ${transition.to}`,
    resume: `resumed at ${transition.to}`,
    pause: `paused at ${transition.from}`
  }
  const title =
    proposedIn === undefined
      ? headline[kind]
      : `rollback ${transition.from} → ${transition.to} NEEDS APPROVAL in #${proposedIn}`
  return withOncall(policy, {
    kind,
    also: kind === 'emergency_rollback' ? ['kill_switch'] : [],
    severity,
    feature: policy.feature,
    title: `${policy.feature}: ${title}`,
    text: transition.reason,
    facts: [
      ['From', transition.from],
      ['To', transition.to],
      ...(transition.operator ? [['Operator', transition.operator] as [string, string]] : []),
      ...(transition.approvers.length
        ? [['Approvers', transition.approvers.join(', ')] as [string, string]]
        : []),
      ['Commit', commit.slice(0, 12)]
    ],
    at: transition.at,
    key: `${policy.feature}:${kind}:${commit}`,
    ...(url ? { url } : {})
  })
}

/**
 * An advance proposed as pull request `number`; `revision` tells one proposal on that PR from a
 * rebuilt one (its head commit, or when it was built).
 */
export function proposalEvent(
  policy: Policy,
  transition: Transition,
  pr: { number: number; revision: string; url?: string }
): NotificationEvent {
  return withOncall(policy, {
    kind: 'advance_proposed',
    also: [],
    severity: 'medium',
    feature: policy.feature,
    title: `${policy.feature}: advance ${transition.from} → ${transition.to} proposed in #${pr.number}`,
    text: transition.reason,
    facts: [
      ['From', transition.from],
      ['To', transition.to],
      ['Pull request', `#${pr.number}`]
    ],
    at: transition.at,
    key: `${policy.feature}:advance_proposed:${pr.number}:${pr.revision}`,
    ...(pr.url ? { url: pr.url } : {})
  })
}

/**
 * An alert opened, escalated (or de-escalated: any change of severity) or resolved, keyed by the
 * record that holds it: the alert issue on GitHub, or for the CLI the phase it arose in.
 */
export function alertEvent(
  policy: Policy,
  change: 'opened' | 'escalated' | 'resolved',
  alert: Pick<Alert, 'metric' | 'message'> & { severity?: Severity },
  where: { record: string; phase: string; at: string; url?: string }
): NotificationEvent {
  const severity = change === 'resolved' ? 'medium' : (alert.severity ?? 'medium')
  const kind = `alert_${change}` as const
  return withOncall(policy, {
    kind,
    also: [],
    severity,
    feature: policy.feature,
    title: `${policy.feature}: ${alert.metric} alert ${change}${change === 'resolved' ? '' : ` (${severity})`}`,
    text: alert.message,
    facts: [
      ['Phase', where.phase],
      ['Metric', alert.metric]
    ],
    at: where.at,
    key: `${policy.feature}:${kind}:${alert.metric}:${where.record}:${change === 'resolved' ? 'resolved' : severity}`,
    ...(where.url ? { url: where.url } : {})
  })
}

/**
 * Every guardrail's conclusive verdict in `decision`: `worse` (it fired: worse than control beyond
 * its margin, whatever its on_fire does) is high; `not worse` (its gate passed) is medium. An
 * inconclusive guardrail (too little evidence, no data) has nothing to say. `record` names what
 * the verdict is told with (a transition commit, a proposal, a phase entry), so the same verdict
 * with the same record is told once.
 */
export function guardrailVerdictEvents(
  policy: Policy,
  decision: Pick<Decision, 'phase' | 'triggers' | 'gates'>,
  where: { record: string; at: string; url?: string }
): NotificationEvent[] {
  const names = new Set((policy.guardrails ?? []).map(guardrailName))
  return decision.triggers.flatMap(trigger => {
    if (!names.has(trigger.trigger)) return []
    const gate = decision.gates.find(g => g.type === 'guardrail' && g.gate === trigger.trigger)
    const worse = trigger.status === 'fired' || trigger.status === 'breached'
    if (!worse && !(trigger.status === 'ok' && gate?.outcome === 'pass')) return []
    const verdict = worse ? 'worse' : 'not worse'
    const evidence = trigger.evidence[0]
    return [
      withOncall(policy, {
        kind: 'guardrail_verdict',
        also: [],
        severity: worse ? 'high' : 'medium',
        feature: policy.feature,
        title: `${policy.feature}: ${trigger.trigger}: ${verdict} than control`,
        text: trigger.reason,
        facts: [
          ['Phase', decision.phase],
          ['Guardrail', trigger.trigger],
          ['Verdict', verdict],
          ...(trigger.onFire && worse
            ? ([['On fire', trigger.onFire]] as Array<[string, string]>)
            : []),
          ...(evidence?.interval
            ? ([['Interval', evidence.interval.join(' to ')]] as Array<[string, string]>)
            : [])
        ],
        at: where.at,
        key: `${policy.feature}:guardrail_verdict:${trigger.trigger}:${verdict}:${where.record}`,
        ...(where.url ? { url: where.url } : {})
      })
    ]
  })
}

/**
 * A feature that could not be evaluated (a broken policy or state file, an unreadable source):
 * high, keyed by the message and the commit it was seen on, so a schedule that keeps failing on
 * the same commit says so once.
 */
export function failureEvent(
  policy: Pick<Policy, 'feature' | 'rollback'> | undefined,
  name: string,
  message: string,
  where: { commit: string; at: string; url?: string }
): NotificationEvent {
  const event: Omit<NotificationEvent, 'oncall'> = {
    kind: 'evaluation_failed',
    also: [],
    severity: 'high',
    feature: name,
    title: `${name}: could not be evaluated`,
    text: message,
    facts: [['Commit', where.commit.slice(0, 12)]],
    at: where.at,
    key: `${name}:evaluation_failed:${where.commit}:${digest(message)}`,
    ...(where.url ? { url: where.url } : {})
  }
  return policy ? withOncall(policy as Policy, event) : { ...event, oncall: [] }
}

/** A short stable digest (FNV-1a, hex) so a key stays short whatever the message. */
function digest(text: string): string {
  let hash = 0x811c9dc5
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i)
    hash = Math.imul(hash, 0x01000193) >>> 0
  }
  return hash.toString(16).padStart(8, '0')
}

/**
 * Whether `target` is sent `event`: it listens for the event's kind (or one of its aliases) and
 * the event is at least the target's minimum severity. Low events are never sent (log only).
 */
export function routes(target: NotificationTarget, event: NotificationEvent): boolean {
  if (event.severity === 'low') return false
  const listens = [event.kind, ...event.also].some(k => target.events.includes(k))
  return listens && SEVERITY_RANK[event.severity] >= SEVERITY_RANK[target.minSeverity]
}
