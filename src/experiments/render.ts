import type { ExperimentAnalysis, MetricComparison, Verdict } from './analysis.js'
import {
  markdownCell as cell,
  markdownCode as code,
  markdownText as text
} from '../report/escape/markdown.js'

const VERDICT: Record<Verdict, string> = {
  treatment_better: 'TREATMENT BETTER',
  control_better: 'CONTROL BETTER',
  no_detectable_difference: 'no detectable difference',
  keep_running: 'keep running',
  invalid: 'INVALID'
}

function number(value: number): string {
  if (!Number.isFinite(value)) return String(value)
  const magnitude = Math.abs(value)
  return magnitude !== 0 && (magnitude < 1e-3 || magnitude >= 1e6)
    ? value.toExponential(3)
    : value.toPrecision(4).replace(/\.?0+$/, '')
}

function percent(value: number): string {
  return Number.isFinite(value) ? `${value >= 0 ? '+' : ''}${(value * 100).toFixed(2)}%` : 'n/a'
}

function pValue(p: number): string {
  return p < 1e-4 ? p.toExponential(2) : p.toFixed(4)
}

function status(analysis: ExperimentAnalysis): string {
  if (!analysis.status) return ''
  return ` (${analysis.status}${analysis.startedAt ? ` since ${analysis.startedAt}` : ''})`
}

/** The interval and p-value the verdict used: the confidence sequence when sequential is on. */
function used(c: MetricComparison) {
  return c.sequential ?? c.fixedHorizon
}

/** The analysis as a person reads it in a terminal. */
export function renderAnalysis(analysis: ExperimentAnalysis): string {
  const level = `${Math.round((1 - analysis.alpha) * 100)}%`
  const lines = [
    `experiment ${analysis.experiment}${status(analysis)}: ${VERDICT[analysis.verdict]}`,
    ...analysis.reasons.map(r => `  ${r}`),
    `  groups: ${analysis.groups
      .map(
        g =>
          `${g.name} ${g.users} users (${(g.observedShare * 100).toFixed(1)}%, expected ${(g.expectedShare * 100).toFixed(1)}%)`
      )
      .join(', ')}`,
    `  sample ratio: chi-square p = ${pValue(analysis.sampleRatio.pValue)}${
      analysis.sampleRatio.mismatch
        ? ' MISMATCH'
        : analysis.sampleRatio.checked
          ? ' ok'
          : ' (not checked until every group expects 5 users)'
    }`,
    ...analysis.warnings.map(w => `  warning: ${w}`),
    `  ${analysis.sequential ? `sequential testing on (confidence sequences, N* = ${analysis.tuning})` : 'fixed-horizon tests (valid for a single look only)'}; p-values Holm-adjusted`
  ]
  for (const m of analysis.metrics) {
    const means = m.groups.map(g => `${g.name} ${number(g.mean)} (n=${g.count})`).join(', ')
    lines.push(
      `  ${m.metric} [${m.kind ?? 'no data'}, ${m.direction === 'increase' ? 'higher' : 'lower'} is better]: ${means || 'no data'}`
    )
    if (m.missing) lines.push(`    ${m.missing}`)
    for (const c of m.comparisons) {
      const { interval, relativeInterval } = used(c)
      lines.push(
        `    ${c.treatment} vs ${analysis.control}: ${number(c.difference)} (${percent(c.relativeDifference)}), ` +
          `${level} CI [${number(interval[0])}, ${number(interval[1])}] ` +
          `([${percent(relativeInterval[0])}, ${percent(relativeInterval[1])}]), ` +
          `${c.test === 'fisher exact' ? 'Fisher exact ' : ''}p = ${pValue(c.adjustedPValue)} -> ${c.outcome.replaceAll('_', ' ')}`
      )
    }
  }
  return lines.join('\n')
}

/** A short markdown section for the job summary and the advance PR's report. */
export function renderAnalysisMarkdown(analysis: ExperimentAnalysis): string {
  const rows = analysis.metrics.flatMap(m =>
    m.comparisons.length === 0
      ? [`| ${cell(m.metric)} | — | — | — | ${cell(m.missing ?? 'no data')} |`]
      : m.comparisons.map(c => {
          const { relativeInterval } = used(c)
          return `| ${cell(m.metric)} | ${cell(c.treatment)} | ${percent(c.relativeDifference)} | [${percent(relativeInterval[0])}, ${percent(relativeInterval[1])}] | p = ${pValue(c.adjustedPValue)}, ${c.outcome.replaceAll('_', ' ')} |`
        })
  )
  return [
    `### Experiment ${code(analysis.experiment)}${analysis.status ? ` ${text(status(analysis))}` : ''}: ${VERDICT[analysis.verdict]}`,
    '',
    ...analysis.reasons.map(r => `- ${text(r)}`),
    ...analysis.warnings.map(w => `- warning: ${text(w)}`),
    '',
    `| metric | group | change vs ${text(analysis.control)} | ${Math.round((1 - analysis.alpha) * 100)}% interval | result |`,
    '| --- | --- | --- | --- | --- |',
    ...rows
  ].join('\n')
}
