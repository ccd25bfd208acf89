import { specFrom, type MetricSpec } from '../engine/metric-spec.js'
import { fromMs } from '../engine/units.js'
import type {
  Comparator,
  MetricDefinition,
  MetricDirection,
  MetricTrigger,
  Threshold
} from '../engine/types.js'
import type { PolicyIssue } from './normalize.js'
import type { Measure } from './quantities.js'

// Every place the policy compares a metric with a number, read as the person meant it: a time
// written with a unit is converted into the unit the metric's readings are in (refused when the
// metric has none, or one a time cannot be converted into), and a comparison that says "better is
// a breach" for a metric whose worse direction is known or declared is refused. Where a metric's
// direction is neither, its comparisons must at least agree with each other: experiments read the
// direction from them.

/** What a comparison decides: a criterion passes when it holds, a trigger fires when it holds. */
export type ComparisonUse = 'criterion' | 'trigger'

const FLIPPED: Record<Comparator, Comparator> = {
  '<': '>',
  '<=': '>=',
  '>': '<',
  '>=': '<=',
  '==': '=='
}

/**
 * The direction a comparison implies for its metric: a criterion "< x" (or a trigger "> x") says a
 * higher value is worse. "==" implies none.
 */
export function impliedDirection(op: Comparator, use: ComparisonUse): MetricDirection | undefined {
  if (op === '==') return undefined
  const below = op.startsWith('<')
  return below === (use === 'criterion') ? 'higher_is_worse' : 'lower_is_worse'
}

/** Reads the policy's comparisons against its metrics.definitions, collecting issues. */
export class ComparisonReader {
  /** For metrics with no known or declared direction: the first comparison that implied one. */
  private readonly implied = new Map<string, { direction: MetricDirection; where: string }>()

  constructor(
    private readonly definitions: Record<string, MetricDefinition>,
    private readonly issues: PolicyIssue[]
  ) {}

  /**
   * `threshold` on `metric` in the metric's unit, with that unit; an issue at `path` when its unit
   * cannot be converted or it compares the wrong way for the metric's direction. `shown` is how
   * messages quote it (a trigger's whole text).
   */
  threshold(
    threshold: Threshold,
    metric: string,
    use: ComparisonUse,
    path: (string | number)[],
    shown = `${metric}: "${threshold.source}"`
  ): Threshold {
    const spec = specFrom(this.definitions[metric], metric)
    this.checkDirection(threshold.op, use, spec, path, shown)
    const value = this.inUnit(threshold.value, threshold.unit, spec, path, shown)
    return {
      op: threshold.op,
      value,
      source: threshold.source,
      ...(spec.unit ? { unit: spec.unit } : {})
    }
  }

  /** A metric trigger with its threshold read as above. */
  trigger(trigger: MetricTrigger, path: (string | number)[]): MetricTrigger {
    const shown = `trigger "${trigger.source}"`
    return {
      ...trigger,
      threshold: this.threshold(trigger.threshold, trigger.metric, 'trigger', path, shown)
    }
  }

  /**
   * A phase's rollback_threshold: rolls back above `measure` (or past it the way the metric's
   * trigger compares, `op`), in the metric's unit.
   */
  rollbackThreshold(
    measure: Measure,
    metric: string,
    op: Comparator | undefined,
    path: (string | number)[]
  ): number {
    const spec = specFrom(this.definitions[metric], metric)
    const shown = `rollback_threshold ${metric}: ${measure.source}`
    if (op === undefined && spec.direction === 'lower_is_worse')
      this.issues.push({
        path,
        message: `${shown} rolls back when ${metric} rises above ${measure.source}, but a lower ${metric} is worse (${directionFrom(spec)}): it compares the wrong way`,
        hint: `write the trigger "${metric} < ${measure.source}" under rollback.automatic_triggers (this phase's rollback_threshold then replaces its number), or if a higher ${metric} really is worse, declare metrics: { definitions: { ${metric}: { direction: higher_is_worse } } }`
      })
    else if (op === undefined) this.checkDirection('>', 'trigger', spec, path, shown)
    return this.inUnit(measure.value, measure.unit, spec, path, shown)
  }

  /** An alert's warning or critical value in the metric's unit. */
  measure(measure: Measure, metric: string, path: (string | number)[]): number {
    const spec = specFrom(this.definitions[metric], metric)
    return this.inUnit(measure.value, measure.unit, spec, path, `${metric}: ${measure.source}`)
  }

  /** Whether a comparison read so far implies which way `metric` is worse (it has no direction). */
  implies(metric: string): boolean {
    return this.implied.has(metric)
  }

  private inUnit(
    value: number,
    unit: string | undefined,
    spec: MetricSpec,
    path: (string | number)[],
    shown: string
  ): number {
    if (unit === undefined) return value
    const metric = spec.metric
    if (!spec.unit) {
      this.issues.push({
        path,
        message: `${shown} is a time, but ${metric} has no unit, so phasegate cannot tell what its readings are in`,
        hint: `declare the unit your source reports: metrics: { definitions: { ${metric}: { unit: s } } } (or ms), or write a bare number in the readings' unit`
      })
      return value
    }
    const converted = fromMs(value, spec.unit)
    if (converted === undefined) {
      this.issues.push({
        path,
        message: `${shown} is a time, but ${metric} is in ${spec.unit}${spec.unitFrom === 'declared' ? ` (metrics.definitions.${metric}.unit)` : ''}, which a time cannot be converted into`,
        hint: `write a bare number in ${spec.unit}, or declare the unit the readings are in (ms, s ...)`
      })
      return value
    }
    return converted
  }

  private checkDirection(
    op: Comparator,
    use: ComparisonUse,
    spec: MetricSpec,
    path: (string | number)[],
    shown: string
  ): void {
    const implied = impliedDirection(op, use)
    if (!implied) return
    const metric = spec.metric
    const what = use === 'trigger' ? 'fires' : 'passes'
    const when = op.startsWith('<') ? 'low' : 'high'
    if (spec.direction) {
      if (implied === spec.direction) return
      const worse = spec.direction === 'higher_is_worse' ? 'higher' : 'lower'
      const other = worse === 'higher' ? 'lower_is_worse' : 'higher_is_worse'
      this.issues.push({
        path,
        message: `${shown} ${what} when ${metric} is ${when}, but a ${worse} ${metric} is worse (${directionFrom(spec)}): it compares the wrong way`,
        hint: `write "${FLIPPED[op]}" instead of "${op}"; if a ${worse === 'higher' ? 'lower' : 'higher'} ${metric} really is worse, declare metrics: { definitions: { ${metric}: { direction: ${other} } } }`
      })
      return
    }
    const where = path
      .map(k => (typeof k === 'number' ? `[${k}]` : `.${k}`))
      .join('')
      .slice(1)
    const first = this.implied.get(metric)
    if (!first) {
      this.implied.set(metric, { direction: implied, where })
      return
    }
    if (first.direction === implied) return
    const says = (d: MetricDirection) => (d === 'higher_is_worse' ? 'a higher' : 'a lower')
    this.issues.push({
      path,
      message: `${shown} says ${says(implied)} ${metric} is worse, but ${first.where} says ${says(first.direction)} one is: the two compare in opposite directions`,
      hint: `declare which way is worse, metrics: { definitions: { ${metric}: { direction: higher_is_worse } } } (or lower_is_worse), and fix the comparison that disagrees`
    })
  }
}

function directionFrom(spec: MetricSpec): string {
  return spec.directionFrom === 'declared'
    ? `metrics.definitions.${spec.metric}.direction`
    : `phasegate's default for the name ${spec.metric}`
}
