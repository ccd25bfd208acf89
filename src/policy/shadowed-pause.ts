import type { MetricTrigger, Phase, Threshold, Trigger } from '../engine/types.js'
import type { PolicyIssue } from './normalize.js'

// A rollback trigger that fires wins over a pausing one (docs/operate.md). A pausing trigger whose
// breach implies, in every phase, the breach of a rollback trigger on the same metric (as sustained
// or less) can therefore never act: `{ when: error_rate > 0.03, on_fire: pause }` beside
// `error_rate > 0.02`. Most likely the two thresholds were meant the other way round.

/** Whether every value that breaches `inner` also breaches `outer` (same side of the metric). */
function implies(inner: Threshold, outer: Threshold): boolean {
  const above = (op: string) => op === '>' || op === '>='
  const below = (op: string) => op === '<' || op === '<='
  if (above(inner.op) && above(outer.op))
    return (
      outer.value < inner.value ||
      (outer.value === inner.value && (outer.op === '>=' || inner.op === '>'))
    )
  if (below(inner.op) && below(outer.op))
    return (
      outer.value > inner.value ||
      (outer.value === inner.value && (outer.op === '<=' || inner.op === '<'))
    )
  return false
}

/**
 * A notice at each pausing metric trigger that can never act: in every phase of `phases` some
 * rollback trigger on the same metric (with the phase's rollback_threshold, when it writes one,
 * in place of its own) fires whenever it does, sustained no longer.
 */
export function shadowedPauses(
  triggers: readonly Trigger[],
  phases: readonly Phase[]
): PolicyIssue[] {
  const metric = (t: Trigger): t is MetricTrigger => t.kind === 'metric'
  const notices: PolicyIssue[] = []
  triggers.forEach((pause, i) => {
    if (!metric(pause) || pause.onFire !== 'pause') return
    const rollbacks = triggers.filter(
      (t): t is MetricTrigger =>
        metric(t) &&
        (t.onFire ?? 'rollback') === 'rollback' &&
        t.metric === pause.metric &&
        t.forMs <= pause.forMs
    )
    const own = (phase: Phase, r: MetricTrigger): Threshold => {
      const value = phase.rollbackThreshold[pause.metric]
      return value === undefined ? r.threshold : { ...r.threshold, value }
    }
    const beatenBy = (phase: Phase) => rollbacks.find(r => implies(pause.threshold, own(phase, r)))
    const winners = phases.map(beatenBy)
    const first = winners[0]
    if (phases.length === 0 || !first || winners.some(w => !w)) return
    notices.push({
      path: ['rollback', 'automatic_triggers', i],
      message: `"${pause.source}" (on_fire: pause) never acts: whenever it fires, "${first.source}" fires too, in every phase, and a rollback wins over a pause`,
      hint: `pause at the lower bar and roll back at the higher one (e.g. { when: "${pause.metric} ${first.threshold.op} ${first.threshold.value}", on_fire: pause } and "${pause.metric} ${pause.threshold.op} ${pause.threshold.value}"), or remove the pause`
    })
  })
  return notices
}
