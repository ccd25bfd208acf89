import { describeExposure, exposureOf, type Exposure } from '../engine/exposure.js'
import type { ExperimentAnalysis } from '../experiments/analysis.js'
import { renderAnalysisMarkdown } from '../experiments/render.js'
import { createHash } from 'node:crypto'
import { nextPhase, phaseIndex, phaseNamed } from '../engine/ladder.js'
import { onFireSummary, orderedTriggers } from './triggers.js'
import { markdownCell as cell, markdownText as text } from './escape/markdown.js'
import type {
  Alert,
  Decision,
  Evidence,
  GateType,
  MetricReading,
  Policy,
  State,
  Transition
} from '../engine/types.js'

// Markdown for GitHub: the job summary, the advance PR's body and alert issues share these
// pieces, so a person sees the same table wherever the decision shows up. Every value phasegate
// did not write itself (names, reasons, values, thresholds) goes in through `text`.

const RESULT: Record<Evidence['result'], string> = {
  pass: '✅ pass',
  fail: '❌ fail',
  pending: '⏳ pending',
  fired: '🔥 fired',
  breached: '⚠️ breached, not fired',
  ok: '✅ ok',
  no_data: '❔ no data'
}

const MEASURE: Record<GateType, string> = {
  metrics_threshold: 'metric',
  manual_approval: 'approvals',
  automated_test: 'checks',
  time_based: 'time in phase',
  guardrail: 'treatment vs control'
}

function shown(value: Evidence['value']): string {
  if (value === undefined || value === null || value === '') return '—'
  return String(value)
}

/** A value with its guardrail numbers (interval, p, n per group) when it carries them. */
function shownEvidence(e: Evidence | undefined): string {
  if (!e?.interval || typeof e.value !== 'number')
    return e?.unit && typeof e.value === 'number' ? `${shown(e.value)} ${e.unit}` : shown(e?.value)
  const n = e.n ? `; n ${e.n.control} control / ${e.n.treatment} treatment` : ''
  const p = e.pValue !== undefined ? `; p ${e.pValue}` : ''
  return `${signedPercent(e.value)} [${signedPercent(e.interval[0])}, ${signedPercent(e.interval[1])}]${p}${n}`
}

function signedPercent(x: number): string {
  return `${x >= 0 ? '+' : ''}${(x * 100).toFixed(2)}%`
}

export function gateTable(decision: Decision): string {
  if (decision.gates.length === 0) return '_This phase has no gates._'
  const rows = ['| Gate | Measure | Value | Threshold | Result |', '|---|---|---|---|---|']
  for (const gate of decision.gates) {
    for (const e of gate.evidence.length ? gate.evidence : [undefined]) {
      rows.push(
        `| ${cell(gate.gate)} | ${cell(e?.metric ?? MEASURE[gate.type])} | ${cell(shownEvidence(e))} | ${cell(e?.compared ?? e?.threshold ?? '—')} | ${RESULT[e?.result ?? gate.outcome]} |`
      )
    }
  }
  const reasons = decision.gates
    .filter(g => g.outcome !== 'pass')
    .map(g => `- **${text(g.gate)}** ${g.outcome}: ${text(g.reason)}`)
  return [rows.join('\n'), ...(reasons.length ? ['', ...reasons] : [])].join('\n')
}

/**
 * Every rollback trigger in force, one row each (fired, breached but not fired, no data, ok),
 * with why each one that is not ok is what it is.
 */
export function triggerTable(decision: Decision): string {
  if (decision.triggers.length === 0) return '_No rollback triggers._'
  const triggers = orderedTriggers(decision.triggers)
  const rows = ['| Trigger | Value | Threshold | Result |', '|---|---|---|---|']
  for (const t of triggers) {
    const e = t.evidence[0]
    rows.push(
      `| ${cell(t.trigger)} | ${cell(shownEvidence(e))} | ${cell(e?.compared ?? e?.threshold ?? '—')} | ${RESULT[t.status]} |`
    )
  }
  const reasons = triggers
    .filter(t => t.status !== 'ok')
    .map(t => `- **${text(t.trigger)}** ${t.status.replace('_', ' ')}: ${text(t.reason)}`)
  const onFire = onFireSummary(decision.triggers)
  return [
    rows.join('\n'),
    ...(reasons.length ? ['', ...reasons] : []),
    ...(onFire ? ['', `_${onFire[0]!.toUpperCase()}${onFire.slice(1)}._`] : [])
  ].join('\n')
}

export function alertList(alerts: Alert[]): string {
  if (alerts.length === 0) return '_No alerts._'
  return alerts.map(a => `- **${a.severity}** ${text(a.message)}`).join('\n')
}

/**
 * A Mermaid bar chart of each metric that drove the decision as a percentage of its threshold,
 * so metrics in different units share one axis: at or under 100 is inside a "<" threshold.
 */
export function metricsChart(decision: Decision, readings: MetricReading[] = []): string {
  const points = new Map<string, number>()
  const thresholdOf = new Map<string, number>()
  for (const e of decision.gates.flatMap(g => g.evidence)) {
    // As compared (in the reading's unit), not as written: "< 500ms" against seconds is 0.5.
    const written = e.compared ?? e.threshold
    const limit = written ? Number(/-?\d+(\.\d+)?(e-?\d+)?/.exec(written)?.[0]) : NaN
    if (e.metric && typeof e.value === 'number' && Number.isFinite(limit) && limit !== 0) {
      points.set(e.metric, (100 * e.value) / limit)
      thresholdOf.set(e.metric, limit)
    }
  }
  for (const a of decision.alerts) {
    if (!points.has(a.metric) && a.critical !== 0)
      points.set(a.metric, (100 * a.value) / a.critical)
  }
  for (const r of readings) {
    if (points.has(r.metric) || r.group || r.value === null) continue
    const alert = decision.alerts.find(a => a.metric === r.metric)
    if (alert) points.set(r.metric, (100 * r.value) / alert.critical)
  }
  if (points.size === 0) return ''
  const names = [...points.keys()]
  const values = names.map(n => Math.round(points.get(n)! * 10) / 10)
  const top = Math.max(120, ...values.map(v => Math.ceil(v / 10) * 10))
  return [
    '```mermaid',
    'xychart-beta',
    `  title "Metrics as % of their threshold (${chartLabel(decision.phase)})"`,
    `  x-axis [${names.map(n => `"${chartLabel(n)}"`).join(', ')}]`,
    `  y-axis "% of threshold" 0 --> ${top}`,
    `  bar [${values.join(', ')}]`,
    `  line [${names.map(() => 100).join(', ')}]`,
    '```'
  ].join('\n')
}

/**
 * A label inside the Mermaid block: one line, no quote that ends the label, no backtick that
 * could end the code fence and let what follows render as Markdown.
 */
function chartLabel(name: string): string {
  // eslint-disable-next-line no-control-regex
  return name.replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029]+/g, ' ').replace(/["`]/g, "'")
}

function headline(decision: Decision): string {
  switch (decision.action) {
    case 'advance':
      return `**Advance** ${text(decision.phase)} → ${text(decision.target ?? '')}: ${text(decision.reason)}`
    case 'rollback':
      return `**Roll back** ${text(decision.phase)} → ${text(decision.target ?? '')}: ${text(decision.reason)}`
    case 'pause':
      return `**Pause** at ${text(decision.phase)}: ${text(decision.reason)}`
    case 'hold':
      return decision.awaitingApproval
        ? `**Waiting for approval** to advance ${text(decision.phase)} → ${decision.target ? text(decision.target) : 'the next phase'}: every other gate passes`
        : `**Hold** at ${text(decision.phase)}: ${text(decision.reason)}`
  }
}

/** The operating controls holding this rollout, each a line under the headline. */
function operateLines(state: State, decision: Decision): string[] {
  const lines: string[] = []
  if (state.paused) lines.push(`⏸️ **Paused** since ${state.paused.at}: ${state.paused.reason}`)
  if (decision.freeze)
    lines.push(
      `❄️ **Freeze window** "${decision.freeze.window}" is open: no advance lands ${decision.freeze.endless ? 'for at least' : 'until'} ${decision.freeze.endsAt} (the advance PR may still be approved)`
    )
  if (decision.cooldown)
    lines.push(
      `🧊 **Cool-down** after a rollback out of ${decision.cooldown.phase}: the advance waits until ${decision.cooldown.endsAt}`
    )
  return lines.length ? ['', ...lines] : []
}

function manualHeadline(t: Transition): string {
  if (t.kind === 'pause' || t.kind === 'resume')
    return `**${t.kind === 'pause' ? 'Paused' : 'Resumed'}** at ${text(t.to)}: ${text(t.reason)}`
  return `**${t.kind === 'emergency' ? 'Emergency rollback' : 'Roll back'}** ${text(t.from)} → ${text(t.to)}: ${text(t.reason)}`
}

/** Where the run left the rollout, beside the state the decision was made from. */
function leftAt(
  policy: Policy,
  before: State,
  after: State,
  exposure: Exposure = exposureOf(policy, after)
): string {
  const phase = phaseNamed(policy, after.phase)
  const position = `${phaseIndex(policy, phase.name) + 1} of ${policy.phases.length}`
  const moved = after.phase !== before.phase || after.enabled !== before.enabled
  return `${moved ? 'This run left' : 'This run leaves'} ${text(policy.feature)} at **${text(phase.name)}** (${position}) · ${text(describeExposure(exposure))} · kill switch ${after.enabled ? 'on' : '**OFF**'}`
}

export interface ReportInput {
  policy: Policy
  /** The state the decision was made from: the heading and the gate table are its phase's. */
  state: State
  /** The state after the run, when the report is of a run that may have moved the rollout. */
  after?: State
  decision: Decision
  /** A transition a person made (a dispatched rollback), shown above the decision. */
  manual?: Transition
  readings?: MetricReading[]
  /** Lines about what the run did (commit, pull request, issue), shown under the decision. */
  actions?: string[]
  /** Each enabled experiment's status and verdict. */
  experiments?: ExperimentAnalysis[]
  /**
   * What `state` and `after` expose (exposureInForce: less a raise that waits for a freeze
   * window or a pause), when the caller knows the committed datafile; default exposureOf.
   */
  exposure?: { state: Exposure; after?: Exposure }
}

/**
 * A line about what the run did, as text, but with the pull requests and issues phasegate names
 * ("advance PR #12", "alert issue #3") linked again: a same-repository reference after "PR " or
 * "issue ". Bare #12, another repository's, GH-12 and SHAs stay broken wherever they come from.
 */
function actionLine(action: string): string {
  return text(action).replace(/\b(PR|issue) #&#8203;(?=\d)/g, '$1 #')
}

/** One rollout's evaluation: decision, gates, alerts and the metrics chart. */
export function renderReport(input: ReportInput): string {
  const { policy, state, decision } = input
  const phase = phaseNamed(policy, state.phase)
  const next = nextPhase(policy, state.phase)
  const position = `${phaseIndex(policy, phase.name) + 1} of ${policy.phases.length}`
  const parts = [
    `### ${text(policy.feature)}: ${text(phase.name)} (${position})`,
    `${text(describeExposure(input.exposure?.state ?? exposureOf(policy, state)))} · kill switch ${state.enabled ? 'on' : '**OFF**'} · in this phase since ${text(state.enteredAt)}`,
    '',
    ...(input.manual ? [manualHeadline(input.manual), ''] : []),
    headline({ ...decision, target: decision.target ?? next?.name }),
    ...operateLines(state, decision),
    ...(input.actions?.length ? ['', ...input.actions.map(a => `- ${actionLine(a)}`)] : []),
    ...(input.after ? ['', leftAt(policy, state, input.after, input.exposure?.after)] : []),
    '',
    next
      ? `#### Gates to advance to ${text(next.name)}`
      : '#### Steady-state check (final phase: reported, never acted on)',
    gateTable(decision),
    '',
    '#### Alerts',
    alertList(decision.alerts)
  ]
  parts.push('', '#### Rollback triggers', triggerTable(decision))
  const chart = metricsChart(decision, input.readings)
  if (chart) parts.push('', chart)
  if (input.experiments?.length) {
    parts.push('', '#### Experiments', ...input.experiments.map(renderAnalysisMarkdown))
  }
  return parts.join('\n')
}

/**
 * What a pull request body's content depends on, as a short hash: the body is rewritten only
 * when an outcome changes, not because "time in phase" ticked on.
 */
export function reportDigest(decision: Decision, experiments: ExperimentAnalysis[] = []): string {
  const basis = JSON.stringify([
    experiments.map(e => [e.experiment, e.verdict]),
    decision.action,
    // A hold of another kind is another report: the tick takes back the PR's status on each.
    decision.holdCause ?? null,
    decision.phase,
    decision.target,
    decision.awaitingApproval,
    decision.gates.map(g => [g.gate, g.outcome, g.type === 'manual_approval' ? g.reason : '']),
    decision.alerts.map(a => [a.metric, a.severity]),
    decision.triggers.map(t => [t.trigger, t.status])
  ])
  return createHash('sha256').update(basis).digest('hex').slice(0, 16)
}

const DIGEST_RE = /<!-- phasegate:digest=([0-9a-f]+) -->/

export function digestOf(body: string | null | undefined): string | undefined {
  return DIGEST_RE.exec(body ?? '')?.[1]
}

export function withDigest(
  body: string,
  decision: Decision,
  experiments: ExperimentAnalysis[] = []
): string {
  return `${body}\n\n<!-- phasegate:digest=${reportDigest(decision, experiments)} -->\n`
}
