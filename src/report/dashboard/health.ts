import { SEVERITY_RANK } from '../../engine/alerts.js'
import { guardrailName } from '../../engine/guardrails.js'
import type { Severity } from '../../engine/types.js'
import type { FeatureView } from './model.js'

// A feature's health at a glance: every flag `phasegate status` raises for it, worst first. The
// index shows the worst as its badge and lists the others, so a glance never says "healthy" while
// something status flags is in force (missing data included: it is never a pass).

/**
 * The health words, worst first. `level` is the badge's colour and nothing else depends on it: the
 * word is always written out (not colour alone).
 */
export const HEALTH = {
  lost: { word: 'state file lost', level: 'bad' },
  rollback: { word: 'rolling back', level: 'bad' },
  pausing: { word: 'pausing', level: 'bad' },
  critical: { word: 'critical alert', level: 'bad' },
  // Below critical: a fired trigger not acted on (first phase, kill switch off) usually raises
  // a critical alert too, which says more.
  fired: { word: 'trigger fired', level: 'bad' },
  datafile: { word: 'datafile stale', level: 'bad' },
  failed: { word: 'last run failed', level: 'bad' },
  stale: { word: 'heartbeat stale', level: 'bad' },
  off: { word: 'kill switch off', level: 'warn' },
  breached: { word: 'breached', level: 'warn' },
  'no-data': { word: 'no data', level: 'warn' },
  warning: { word: 'warning', level: 'warn' },
  paused: { word: 'paused', level: 'warn' },
  healthy: { word: 'healthy', level: 'ok' },
  'not-started': { word: 'not started', level: 'muted' }
} as const satisfies Record<string, { word: string; level: 'bad' | 'warn' | 'ok' | 'muted' }>

export type Health = keyof typeof HEALTH

const ORDER = Object.keys(HEALTH) as Health[]

/** One thing in force that keeps a feature from being healthy, in a line for people. */
export interface HealthFlag {
  health: Exclude<Health, 'healthy' | 'not-started'>
  text: string
  /** An instant the text refers to (ISO-8601), for the page to print as it prints times. */
  since?: string
}

const severityRank = (label: string): number =>
  label in SEVERITY_RANK ? SEVERITY_RANK[label as Severity] : 0

/**
 * Every flag in force for the feature, worst first (HEALTH's order; within a health, the order
 * status prints them). Empty when it is healthy or not started. A rollout that is not started
 * exposes nothing and tick does nothing for it, so only what is outside it (its datafile, open
 * alert issues) can flag it; a lost one is started as far as users know.
 */
export function healthFlags(feature: FeatureView): HealthFlag[] {
  const { decision, state, policy } = feature
  const flags: HealthFlag[] = []
  const flag = (health: HealthFlag['health'], text: string, since?: string) =>
    flags.push({ health, text, ...(since ? { since } : {}) })
  const live = isLive(feature)
  // A guardrail is judged as a trigger (and a gate); its name says it is one.
  const guardrails = new Set((policy.guardrails ?? []).map(guardrailName))
  const trigger = (name: string) => (guardrails.has(name) ? name : `rollback trigger ${name}`)

  if (state.lost)
    flag(
      'lost',
      feature.lost ??
        `the state file ${policy.statePath} is missing though the history has transitions (the last: ${state.lost.sha.slice(0, 7)})`
    )
  if (live) {
    if (decision.action === 'rollback')
      flag(
        'rollback',
        `rolls back to ${decision.target ?? '?'}${decision.rollbackNeedsApproval ? ' (once approved)' : ''}: ${decision.reason}`
      )
    if (decision.action === 'pause') flag('pausing', `pauses the rollout: ${decision.reason}`)
    // A fired trigger the decision does not act on: in the first phase there is nothing to roll
    // back to; an observe-only one only reports.
    if (decision.action !== 'rollback' && decision.action !== 'pause')
      for (const t of decision.triggers.filter(t => t.status === 'fired'))
        flag('fired', `${trigger(t.trigger)} fired: ${t.reason}`)
  }
  for (const a of live ? decision.alerts : [])
    if (SEVERITY_RANK[a.severity] >= SEVERITY_RANK.high) flag('critical', a.message)
  for (const i of feature.issues ?? [])
    if (severityRank(i.severity) >= SEVERITY_RANK.high) flag('critical', issueText(i))
  if (feature.datafile)
    flag(
      'datafile',
      `the committed datafile ${feature.datafile.path} ${feature.datafile.reason}: applications read it, not the state; \`${feature.datafile.fix}\` rewrites it`
    )
  const beat = feature.heartbeat
  if (live && beat) {
    if (beat.evaluatedAt === null)
      flag('stale', 'no evaluation by the action recorded (no heartbeat)')
    else if (beat.stale)
      flag(
        'stale',
        `the action last evaluated it ${beat.future ? 'in the future (a record nothing can have written)' : 'too long ago'}: scheduled runs, and rollbacks, are not happening`,
        beat.evaluatedAt
      )
    else if (beat.outcome === 'failed')
      flag('failed', 'the action could not evaluate it on its last run', beat.evaluatedAt)
  }
  if (live) {
    if (!state.enabled && !state.lost) flag('off', 'kill switch off: the feature is disabled')
    for (const t of decision.triggers.filter(t => t.status === 'breached'))
      flag('breached', `${trigger(t.trigger)} breached, not fired: ${t.reason}`)
    for (const t of decision.triggers.filter(t => t.status === 'no_data'))
      flag('no-data', `${trigger(t.trigger)}: ${t.reason}`)
    // A guardrail's gate says what its trigger row (above) says already.
    for (const g of decision.gates.filter(g => g.type !== 'guardrail'))
      for (const e of g.evidence.filter(e => e.result === 'no_data'))
        flag('no-data', `gate ${g.gate}: no data${e.metric ? ` for ${e.metric}` : ''}`)
    for (const metric of decision.alertsUnread ?? [])
      flag('no-data', `alert rule ${metric}: no data, its alerts are unknown`)
    for (const x of feature.experiments.filter(x => x.error))
      flag('no-data', `experiment ${x.name}: results could not be read (${x.error})`)
    for (const a of decision.alerts)
      if (SEVERITY_RANK[a.severity] < SEVERITY_RANK.high) flag('warning', a.message)
    for (const t of decision.trends) flag('warning', t.message)
    for (const x of feature.experiments) {
      if (x.analysis?.sampleRatio.mismatch)
        flag('warning', `experiment ${x.name}: sample ratio mismatch, its results are not valid`)
      // status headlines it CONTROL BETTER: the new path does worse than the traditional one.
      if (x.analysis?.verdict === 'control_better')
        flag('warning', `experiment ${x.name}: control better (the treatment does worse)`)
    }
  }
  for (const i of feature.issues ?? [])
    if (severityRank(i.severity) < SEVERITY_RANK.high) flag('warning', issueText(i))
  // Its reason names who paused it (rollout/manual.ts), or the trigger that did: status's words.
  if (live && state.paused) flag('paused', state.paused.reason, state.paused.at)
  return ORDER.flatMap(h => flags.filter(f => f.health === h))
}

/** Whether tick acts on the feature: started, or lost (users were exposed; it is off now). */
function isLive(feature: FeatureView): boolean {
  return feature.started || feature.state.lost !== undefined
}

function issueText(issue: NonNullable<FeatureView['issues']>[number]): string {
  return `open alert issue #${issue.number}${issue.alert ? ` (${issue.alert})` : ''}${issue.severity ? `, ${issue.severity}` : ', severity not labelled'}: ${issue.title}`
}

/** The one word for the feature: its worst flag's, else healthy (or not started). */
export function healthOf(feature: FeatureView, flags = healthFlags(feature)): Health {
  return flags[0]?.health ?? (feature.started ? 'healthy' : 'not-started')
}

/**
 * The feature's open alerts: the decision's alerts and trend alerts, and its open alert issues on
 * GitHub whose alert is not among them (one alert raised in an issue is counted once). `worst` is
 * the highest severity among them; `unread` the alert rules that read no data, whose alerts are
 * unknown (so no count of them is a "0").
 */
export function openAlertsOf(feature: FeatureView): {
  count: number
  worst?: Severity
  unread: string[]
} {
  // Before init status shows no decision, and neither does the index.
  const decision = isLive(feature)
    ? feature.decision
    : { alerts: [], trends: [], alertsUnread: undefined }
  const current = new Set(decision.alerts.map(a => a.metric))
  const issues = (feature.issues ?? []).filter(i => !i.alert || !current.has(i.alert))
  const severities = [
    ...decision.alerts.map(a => a.severity),
    ...issues.map(i => i.severity).filter((s): s is Severity => s in SEVERITY_RANK)
  ]
  const worst = severities.reduce<Severity | undefined>(
    (w, s) => (!w || SEVERITY_RANK[s] > SEVERITY_RANK[w] ? s : w),
    undefined
  )
  return {
    count: decision.alerts.length + decision.trends.length + issues.length,
    ...(worst ? { worst } : {}),
    unread: decision.alertsUnread ?? []
  }
}
