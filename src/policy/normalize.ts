import { nameUnit, specFrom } from '../engine/metric-spec.js'
import { msPerUnit } from '../engine/units.js'
import type {
  AlertRule,
  EmergencyContact,
  Experiment,
  Gate,
  GuardrailRule,
  MetricDefinition,
  MetricKind,
  MetricsConfig,
  MetricTrigger,
  MonitoringLevel,
  Phase,
  Policy,
  SettingOrigin,
  Threshold,
  TrendRule
} from '../engine/types.js'
import { PhasegateError } from '../errors.js'
import type { Duration } from './quantities.js'
import { NAME_PATTERN, type RawGate, type RawPolicy } from './schema.js'
import { workTreePathProblem } from './paths.js'
import { closest } from './closest.js'
import { ComparisonReader } from './comparisons.js'
import { shadowedPauses } from './shadowed-pause.js'

// The schema has parsed every duration, threshold and quantity (schema.ts); this file applies
// defaults and checks what involves more than one field.

/** GitHub Actions' app slug: the producer automated_test gates trust unless they name another. */
const ACTIONS_APP = 'github-actions'

/** A problem found after the shape checks, with the YAML path it is about. */
export interface PolicyIssue {
  path: (string | number)[]
  message: string
  hint?: string
  /** Point at the last path element's key rather than its value (e.g. an unknown option). */
  atKey?: boolean
}

/**
 * Problems the loader turns into a file:line:col error. A PhasegateError itself so that, should
 * one ever escape the loader, it is still printed as one line and not as a stack trace.
 */
export class PolicyIssues extends PhasegateError {
  constructor(readonly issues: PolicyIssue[]) {
    super(issues.map(i => i.message).join('; '), { hint: issues[0]?.hint })
  }
}

/** The evaluation window ({{window}} in queries) when a policy gives none. */
export const DEFAULT_WINDOW = '5m'

/** Observations per group where a guardrail's interval is tightest, unless the policy says. */
export const DEFAULT_GUARDRAIL_SAMPLE_SIZE = 10_000

/** The seed's ladder, used unless the policy lists its own under deployment.order. */
export const SEED_LADDER = [
  'development',
  'staging',
  'canary',
  'limited_production',
  'full_production'
]

export interface PhaseDefaults {
  userPercentage: number
  featureFlags: string[]
  monitoringLevel: MonitoringLevel
}

/**
 * The seed's Pipeline.DSPy.PhaseConfig, as per-phase defaults of the seed's own ladder (its phase
 * names, in its order) and of no other. The seed's rollback_threshold values are not defaults: a
 * threshold nobody wrote must never roll a rollout back, so a phase rolls back on what the policy
 * writes (docs/defaults.md).
 */
export const SEED_PHASE_CONFIG: Record<string, PhaseDefaults> = {
  development: { userPercentage: 100, featureFlags: ['all_features'], monitoringLevel: 'debug' },
  staging: { userPercentage: 100, featureFlags: ['core_features'], monitoringLevel: 'info' },
  canary: { userPercentage: 1, featureFlags: ['core_features'], monitoringLevel: 'warn' },
  limited_production: {
    userPercentage: 10,
    featureFlags: ['core_features'],
    monitoringLevel: 'warn'
  },
  full_production: {
    userPercentage: 100,
    featureFlags: ['core_features'],
    monitoringLevel: 'error'
  }
}

/** A phase of any other ladder; its user_percentage has no default and must be written. */
export const CUSTOM_PHASE_DEFAULTS: Omit<PhaseDefaults, 'userPercentage'> = {
  featureFlags: [],
  monitoringLevel: 'info'
}

/** A policy, and what validation wants a person to know without refusing it. */
export interface Normalized {
  policy: Policy
  notices: PolicyIssue[]
}

/** Turns a parsed policy into the engine's Policy, or throws PolicyIssues. */
export function normalizePolicy(raw: RawPolicy, fileStem: string): Normalized {
  const issues: PolicyIssue[] = []
  const notices: PolicyIssue[] = []

  const feature = raw.feature ?? fileStem
  if (!NAME_PATTERN.test(feature)) {
    const suggestion = feature.replace(/[^A-Za-z0-9_.-]+/g, '_').replace(/^[^A-Za-z0-9]+/, '')
    issues.push({
      path: [],
      message: `the feature is named after the file, "${fileStem}", which is not a valid name (letters, digits, "_", "." and "-", starting with a letter or digit, usable in a git branch name)`,
      hint: `add "feature: ${suggestion || 'my_feature'}" at the top, or rename the file`
    })
  }
  const ladder = raw.deployment.order ?? SEED_LADDER
  const seedLadder =
    ladder.length === SEED_LADDER.length && ladder.every((p, i) => p === SEED_LADDER[i])
  const rawPhases = raw.deployment.phases ?? {}
  const declaredDefinitions = raw.metrics?.definitions ?? {}
  const comparisons = new ComparisonReader(declaredDefinitions, issues)
  // A name that states its unit (rpc_latency_us) and a declared unit that says otherwise cannot
  // both be right; whichever phasegate picked, one reader of the policy would be wrong by 1000x.
  for (const [metric, definition] of Object.entries(declaredDefinitions)) {
    const stated = nameUnit(metric)
    if (!stated || definition.unit === undefined) continue
    if (msPerUnit(definition.unit) === msPerUnit(stated)) continue
    issues.push({
      path: ['metrics', 'definitions', metric, 'unit'],
      message: `metrics.definitions.${metric}.unit is ${definition.unit}, but the name ${metric} says its readings are in ${stated}`,
      hint: `declare unit: ${stated} (or leave it out), or rename the metric to what its readings are in`
    })
  }

  const seen = new Set<string>()
  ladder.forEach((phase, i) => {
    if (seen.has(phase))
      issues.push({
        path: ['deployment', 'order', i],
        message: `phase "${phase}" is listed twice in deployment.order`,
        hint: 'each phase is one rung of the ladder; remove the repeat'
      })
    seen.add(phase)
  })
  for (const phaseName of Object.keys(rawPhases)) {
    if (!ladder.includes(phaseName)) {
      const guess = closest(phaseName, ladder)
      issues.push({
        path: ['deployment', 'phases', phaseName],
        message: `unknown phase "${phaseName}"${guess ? ` (did you mean "${guess}"?)` : ''}; the phases are ${ladder.join(', ')}`,
        hint: raw.deployment.order
          ? 'add it to deployment.order or fix its name'
          : 'list your own ladder under deployment.order to use other phase names'
      })
    }
  }

  const triggers = (raw.rollback?.automatic_triggers ?? []).map((trigger, i) =>
    trigger.kind === 'metric'
      ? comparisons.trigger(trigger, ['rollback', 'automatic_triggers', i])
      : trigger
  )

  const phases: Phase[] = ladder.map((phaseName, index) => {
    const rawPhase = rawPhases[phaseName] ?? {}
    const path = ['deployment', 'phases', phaseName]
    const seedDefaults = seedLadder ? SEED_PHASE_CONFIG[phaseName] : undefined
    if (rawPhase.user_percentage === undefined && !seedDefaults) {
      issues.push({
        path: rawPhases[phaseName] ? path : ['deployment', 'order', index],
        message: `phase "${phaseName}" has no user_percentage; only the seed's own ladder (${SEED_LADDER.join(', ')}) has default percentages`,
        hint: `write "user_percentage: <0-100>" under deployment.phases.${phaseName}`
      })
    }
    const origin = (written: unknown): SettingOrigin =>
      written !== undefined ? 'policy' : seedDefaults ? 'seed default' : 'default'
    const criteria = (thresholds: Record<string, Threshold>, at: (string | number)[]) =>
      Object.fromEntries(
        Object.entries(thresholds).map(([metric, t]) => [
          metric,
          comparisons.threshold(t, metric, 'criterion', [...at, metric])
        ])
      )
    gateKeyProblems(rawPhase, phaseName, index === ladder.length - 1, issues, notices)
    // A cool-down holds the advance into its phase after a rollback out of it; nothing advances
    // into the first phase (nor rolls back out of it), so there it never acts.
    if (index === 0 && rawPhase.cooldown)
      notices.push({
        path: [...path, 'cooldown'],
        atKey: true,
        message: `phase "${phaseName}" is the first phase: nothing advances into it, so its cooldown never acts`,
        hint: `a cooldown holds the advance into its own phase after a rollback out of it: move it to the phase that should wait (e.g. deployment.phases.${ladder[1] ?? phaseName}), or remove it`
      })
    const successCriteria = criteria(rawPhase.success_criteria ?? {}, [...path, 'success_criteria'])
    const durationSource = rawPhase.duration ?? null
    const phaseApprovers = rawPhase.approvers ?? []
    const gates = rawPhase.gates
      ? rawPhase.gates.map((gate, i) =>
          gateFrom(
            gate.type === 'metrics_threshold'
              ? {
                  ...gate,
                  thresholds: criteria(gate.thresholds, [...path, 'gates', i, 'thresholds'])
                }
              : gate,
            phaseApprovers,
            `deployment.phases.${phaseName}.gates[${i}].thresholds`
          )
        )
      : defaultGates(successCriteria, durationSource, phaseApprovers, phaseName)
    const names = new Set<string>()
    gates.forEach((gate, i) => {
      if (names.has(gate.name)) {
        issues.push({
          path: [...path, 'gates', i],
          message: `two gates in phase "${phaseName}" are named "${gate.name}"`,
          hint: 'give each gate a distinct name'
        })
      }
      names.add(gate.name)
    })
    return {
      name: phaseName,
      enabled: rawPhase.enabled ?? true,
      // Only reached with an issue recorded above when neither is there.
      userPercentage: rawPhase.user_percentage ?? seedDefaults?.userPercentage ?? 0,
      featureFlags:
        rawPhase.feature_flags ?? seedDefaults?.featureFlags ?? CUSTOM_PHASE_DEFAULTS.featureFlags,
      monitoringLevel:
        rawPhase.monitoring_level ??
        seedDefaults?.monitoringLevel ??
        CUSTOM_PHASE_DEFAULTS.monitoringLevel,
      origins: {
        userPercentage: origin(rawPhase.user_percentage),
        featureFlags: origin(rawPhase.feature_flags),
        monitoringLevel: origin(rawPhase.monitoring_level)
      },
      rollbackThreshold: Object.fromEntries(
        Object.entries(rawPhase.rollback_threshold ?? {}).map(([metric, measure]) => [
          metric,
          comparisons.rollbackThreshold(
            measure,
            metric,
            triggers.find((t): t is MetricTrigger => t.kind === 'metric' && t.metric === metric)
              ?.threshold.op,
            [...path, 'rollback_threshold', metric]
          )
        ])
      ),
      successCriteria,
      durationMs: durationSource?.ms ?? null,
      gates,
      approvers: phaseApprovers,
      ...(rawPhase.cooldown ? { cooldownMs: rawPhase.cooldown.ms } : {})
    }
  })

  const alerts: AlertRule[] = []
  for (const [metric, rule] of Object.entries(raw.monitoring?.alerts ?? {})) {
    const path = ['monitoring', 'alerts', metric]
    const { direction, unit } = specFrom(declaredDefinitions[metric], metric)
    if ((rule.warning.unit === undefined) !== (rule.critical.unit === undefined)) {
      const bare = rule.warning.unit === undefined ? 'warning' : 'critical'
      const timed = bare === 'warning' ? 'critical' : 'warning'
      issues.push({
        path: [...path, bare],
        message: `alert "${metric}": ${bare} ${rule[bare].source} has no unit but ${timed} ${rule[timed].source} has one; a bare number is in the readings' unit${unit ? ` (${unit})` : ''}, so the two may not mean what they look like`,
        hint: `write both with a unit (e.g. ${rule[bare].source}ms) or both as bare numbers in the readings' unit`
      })
      continue
    }
    const warning = comparisons.measure(rule.warning, metric, [...path, 'warning'])
    const critical = comparisons.measure(rule.critical, metric, [...path, 'critical'])
    if (!direction) {
      issues.push({
        path,
        atKey: true,
        message: `alert "${metric}": phasegate does not know whether a higher or a lower ${metric} is worse`,
        hint: `declare it: metrics: { definitions: { ${metric}: { direction: higher_is_worse } } } (or lower_is_worse)`
      })
      continue
    }
    if (warning === critical) {
      issues.push({
        path: [...path, 'critical'],
        message: `alert "${metric}" has the same warning and critical value`,
        hint: 'critical is the worse one: above warning when higher is worse, below it when lower is worse'
      })
    } else if (critical > warning !== (direction === 'higher_is_worse')) {
      const worse = direction === 'higher_is_worse' ? 'higher' : 'lower'
      issues.push({
        path: [...path, 'critical'],
        message: `alert "${metric}": critical ${rule.critical.source} is ${worse === 'higher' ? 'below' : 'above'} warning ${rule.warning.source}, but a ${worse} ${metric} is worse`,
        hint: `swap them, or if a ${worse === 'higher' ? 'lower' : 'higher'} ${metric} really is worse, declare metrics.definitions.${metric}.direction: ${worse === 'higher' ? 'lower_is_worse' : 'higher_is_worse'}`
      })
    }
    alerts.push({
      metric,
      direction,
      warning,
      critical,
      ...(unit ? { unit } : {}),
      forMs: rule.for?.ms ?? 0
    })
  }

  // A trend alerts on a move the metric's direction calls better only by mistake.
  for (const [metric, rule] of Object.entries(raw.monitoring?.trends ?? {})) {
    const { direction, directionFrom } = specFrom(declaredDefinitions[metric], metric)
    const better = direction === 'higher_is_worse' ? 'decrease' : 'increase'
    if (!direction || rule[better] === undefined) continue
    const worse = direction === 'higher_is_worse' ? 'higher' : 'lower'
    issues.push({
      path: ['monitoring', 'trends', metric, better],
      atKey: true,
      message: `trend "${metric}": ${better}: alerts when ${metric} ${better === 'increase' ? 'rises' : 'falls'}, but a ${worse} ${metric} is worse (${directionFrom === 'declared' ? `metrics.definitions.${metric}.direction` : `phasegate's default for the name ${metric}`}): it watches the wrong way`,
      hint: `write ${better === 'increase' ? 'decrease' : 'increase'}: instead; if a ${worse === 'higher' ? 'lower' : 'higher'} ${metric} really is worse, declare metrics: { definitions: { ${metric}: { direction: ${direction === 'higher_is_worse' ? 'lower_is_worse' : 'higher_is_worse'} } } }`
    })
  }
  const trends: TrendRule[] = Object.entries(raw.monitoring?.trends ?? {}).map(
    ([metric, rule]) => ({
      metric,
      windowMs: rule.window.ms,
      ...(rule.increase !== undefined ? { increase: rule.increase } : {}),
      ...(rule.decrease !== undefined ? { decrease: rule.decrease } : {})
    })
  )

  // One source of truth for what a metric is: metrics.definitions. An experiment's metric_kinds
  // (the older key) is folded into it, with a notice; a kind it contradicts is an error.
  const definitions = { ...declaredDefinitions }
  for (const [experimentName, rawExperiment] of Object.entries(raw.experiments ?? {})) {
    for (const [metric, kind] of Object.entries(rawExperiment.metric_kinds ?? {})) {
      const path = ['experiments', experimentName, 'metric_kinds', metric]
      if (!(rawExperiment.success_metrics ?? []).includes(metric)) {
        issues.push({
          path,
          message: `metric_kinds names "${metric}", which is not one of the experiment's success_metrics`,
          hint: 'declare kinds only for success metrics (a typo?)',
          atKey: true
        })
        continue
      }
      const declared = definitions[metric]?.kind
      if (declared !== undefined && declared !== kind) {
        issues.push({
          path,
          message: `metric_kinds says ${metric} is a ${kind}, but ${declaredDefinitions[metric]?.kind === declared ? 'metrics.definitions' : 'another experiment'} says it is a ${declared}`,
          hint: `a metric is one kind everywhere: declare it once, as metrics.definitions.${metric}.kind`
        })
        continue
      }
      definitions[metric] = { ...definitions[metric], kind }
      notices.push({
        path,
        message: `metric_kinds is read as metrics.definitions.${metric}.kind: ${kind}`,
        atKey: true,
        hint: `move it there ("metrics: { definitions: { ${metric}: { kind: ${kind} } } }"); one declaration serves experiments and guardrails`
      })
    }
  }
  // An experiment judges a success metric by which way it should move: with no direction declared,
  // known or implied by a comparison, the analysis could only guess it from the name. Say so.
  for (const [experimentName, rawExperiment] of Object.entries(raw.experiments ?? {}))
    (rawExperiment.success_metrics ?? []).forEach((metric, i) => {
      if (specFrom(definitions[metric], metric).direction || comparisons.implies(metric)) return
      notices.push({
        path: ['experiments', experimentName, 'success_metrics', i],
        message: `experiment "${experimentName}": phasegate does not know whether a higher or a lower ${metric} is better, so its analysis guesses from the name`,
        hint: `declare it: metrics: { definitions: { ${metric}: { direction: higher_is_worse } } } (or lower_is_worse)`
      })
    })
  const guardrails = guardrailsFrom(raw, definitions, issues)
  const experiments: Experiment[] = Object.entries(raw.experiments ?? {}).map(
    ([experimentName, rawExperiment]) => ({
      name: experimentName,
      enabled: rawExperiment.enabled ?? true,
      groups: Object.entries(rawExperiment.groups).map(([groupName, group]) => ({
        name: groupName,
        weight: group.weight,
        configuration: group.configuration ?? {}
      })),
      successMetrics: rawExperiment.success_metrics ?? [],
      ...declaredKinds(rawExperiment.success_metrics ?? [], definitions),
      durationMs: rawExperiment.duration?.ms ?? null,
      minimumSampleSize: rawExperiment.minimum_sample_size ?? 0,
      seed: rawExperiment.seed ?? experimentName,
      hashVersion: rawExperiment.hash_version ?? 2
    })
  )

  const emergencyContacts: EmergencyContact[] = (raw.rollback?.emergency_contacts ?? []).map(c => ({
    ...(c.team ? { team: c.team } : {}),
    ...(c.user ? { user: c.user } : {}),
    oncall: c.oncall ?? false
  }))

  if ((raw.metrics?.provider ?? 'file') === 'file') {
    // The snapshot holds history only where it lists series: points; say so where a window is
    // asked for, rather than let a trigger wait silently for data that never comes.
    const windows: Array<[string, (string | number)[]]> = []
    raw.rollback?.automatic_triggers?.forEach((trigger, i) => {
      if (trigger.kind === 'metric' && trigger.forMs > 0)
        windows.push([trigger.metric, ['rollback', 'automatic_triggers', i, 'for']])
    })
    for (const [metric, rule] of Object.entries(raw.monitoring?.alerts ?? {}))
      if (rule.for) windows.push([metric, ['monitoring', 'alerts', metric, 'for']])
    for (const [phaseName, rawPhase] of Object.entries(rawPhases))
      rawPhase?.gates?.forEach((gate, i) => {
        if (gate.type === 'metrics_threshold' && gate.for)
          for (const metric of Object.keys(gate.thresholds))
            windows.push([metric, ['deployment', 'phases', phaseName, 'gates', i, 'for']])
      })
    for (const [metric, path] of windows)
      notices.push({
        path,
        message: `the file provider can judge this window only from timestamped points: give ${metric} a series: [[time, value], ...] in the snapshot covering it; a plain value never holds for a window`,
        hint: 'see "Sustained breaches" in docs/metrics.md'
      })
  }

  // A file provider's snapshot is read from where the policy says: inside the work tree only.
  const metricsPath = (raw.metrics as { path?: unknown } | undefined)?.path
  const pathProblem =
    (raw.metrics?.provider ?? 'file') === 'file' && typeof metricsPath === 'string'
      ? workTreePathProblem(metricsPath)
      : undefined
  if (pathProblem)
    issues.push({
      path: ['metrics', 'path'],
      message: `the metrics file ${pathProblem}`,
      hint: 'write the snapshot file relative to the repository root, e.g. .phasegate/metrics/checkout.yaml'
    })

  if (issues.length > 0) throw new PolicyIssues(issues)
  notices.push(...shadowedPauses(triggers, phases))
  const policy: Policy = {
    feature,
    phases,
    experiments,
    alerts,
    trends,
    dashboards: raw.monitoring?.dashboards ?? [],
    triggers,
    ...(raw.deployment.freeze?.length ? { freezeWindows: raw.deployment.freeze } : {}),
    rollback: {
      manualApprovalRequired: raw.rollback?.manual_approval_required ?? false,
      emergencyContacts,
      operators: raw.rollback?.operators ?? [],
      sourceFailureLimit: raw.rollback?.source_failure_limit ?? 3
    },
    metrics: metricsConfigOf(raw),
    ...(raw.notifications ? { notifications: raw.notifications } : {}),
    metricDefinitions: definitions,
    ...(guardrails.length ? { guardrails } : {}),
    statePath: raw.state ?? `.phasegate/state/${feature}.yaml`,
    ...(raw.monitoring?.schedule_interval
      ? { scheduleIntervalMs: raw.monitoring.schedule_interval.ms }
      : {})
  }
  return { policy, notices }
}

/** Where metric values come from, as the provider reads it. */
export function metricsConfigOf(raw: RawPolicy): MetricsConfig {
  const { provider, queries, window, ...rest } = raw.metrics ?? {}
  // Definitions describe metrics whatever the provider; they are not the provider's options.
  const options: Record<string, unknown> = { ...rest }
  delete options.definitions
  return {
    provider: provider ?? 'file',
    queries: queries ?? {},
    window: window?.source ?? DEFAULT_WINDOW,
    options
  }
}

/** The kinds metrics.definitions declares for an experiment's success metrics, if any. */
function declaredKinds(
  metrics: string[],
  definitions: Record<string, MetricDefinition>
): { metricKinds?: Record<string, MetricKind> } {
  const kinds = Object.fromEntries(
    metrics.flatMap(m => (definitions[m]?.kind ? [[m, definitions[m].kind]] : []))
  ) as Record<string, MetricKind>
  return Object.keys(kinds).length ? { metricKinds: kinds } : {}
}

/** The policy's guardrails, each with its metric's direction and kind from metrics.definitions. */
function guardrailsFrom(
  raw: RawPolicy,
  definitions: Record<string, MetricDefinition>,
  issues: PolicyIssue[]
): GuardrailRule[] {
  const rules: GuardrailRule[] = []
  for (const [metric, rule] of Object.entries(raw.guardrails ?? {})) {
    const spec = specFrom(definitions[metric], metric)
    if (!spec.direction) {
      issues.push({
        path: ['guardrails', metric],
        atKey: true,
        message: `guardrail "${metric}": phasegate does not know whether a higher or a lower ${metric} is worse`,
        hint: `declare it: metrics: { definitions: { ${metric}: { direction: higher_is_worse } } } (or lower_is_worse)`
      })
      continue
    }
    rules.push({
      metric,
      worse: spec.direction === 'higher_is_worse' ? 'increase' : 'decrease',
      margin: rule.margin,
      alpha: rule.alpha ?? 0.05,
      tuning: 2 * (rule.minimum_sample_size ?? DEFAULT_GUARDRAIL_SAMPLE_SIZE),
      onFire: rule.on_fire ?? 'rollback',
      ...(spec.kind ? { kind: spec.kind } : {})
    })
  }
  return rules
}

function defaultGates(
  successCriteria: Record<string, Threshold>,
  duration: Duration | null,
  approvers: string[],
  phaseName: string
): Gate[] {
  const gates: Gate[] = []
  if (Object.keys(successCriteria).length > 0) {
    gates.push({
      type: 'metrics_threshold',
      name: 'success_criteria',
      thresholds: successCriteria,
      from: `deployment.phases.${phaseName}.success_criteria`
    })
  }
  if (duration !== null) {
    gates.push({
      type: 'time_based',
      name: 'duration',
      durationMs: duration.ms,
      source: duration.source
    })
  }
  gates.push({ type: 'manual_approval', name: 'approval', required: 1, approvers })
  return gates
}

/**
 * The phase keys that make gates but would make none here. Beside an explicit `gates:` list,
 * `success_criteria` and `duration` are not read (the list is the whole rule), and `approvers`
 * is read only by a manual_approval gate that lists none of its own: each is an error at its key,
 * with the gate that says it. On the final phase (nothing to advance to) only metric gates are
 * read, as its steady-state check (reported, never acted on); any other gate key gets a notice.
 */
function gateKeyProblems(
  rawPhase: NonNullable<RawPolicy['deployment']['phases']>[string],
  phaseName: string,
  final: boolean,
  issues: PolicyIssue[],
  notices: PolicyIssue[]
): void {
  if (!rawPhase) return
  const path = ['deployment', 'phases', phaseName]
  const written = (
    [
      ['success_criteria', Object.keys(rawPhase.success_criteria ?? {}).length > 0],
      ['duration', rawPhase.duration != null],
      ['approvers', (rawPhase.approvers ?? []).length > 0],
      ['gates', (rawPhase.gates ?? []).length > 0]
    ] as const
  )
    .filter(([, present]) => present)
    .map(([key]) => key)
  if (final) {
    // Its metric gates (success_criteria, metrics_threshold gates) are read as the steady-state
    // check; nothing else on it can act.
    const inert = written.filter(
      key =>
        key !== 'success_criteria' &&
        (key !== 'gates' || rawPhase.gates!.some(g => g.type !== 'metrics_threshold'))
    )
    for (const key of inert)
      notices.push({
        path: [...path, key],
        atKey: true,
        message: `phase "${phaseName}" is the final phase: nothing advances from it, so its ${key} never acts`,
        hint: `remove ${key} from deployment.phases.${phaseName}, or add the phase it should guard the way to`
      })
    return
  }
  if (!rawPhase.gates) return
  const asGate: Record<string, string> = {
    success_criteria: `{ type: metrics_threshold, thresholds: { ${Object.entries(
      rawPhase.success_criteria ?? {}
    )
      .map(([metric, t]) => `${metric}: "${t.source}"`)
      .join(', ')} } }`,
    duration: `{ type: time_based, duration: ${rawPhase.duration?.source ?? ''} }`
  }
  for (const key of ['success_criteria', 'duration'] as const)
    if (written.includes(key))
      issues.push({
        path: [...path, key],
        atKey: true,
        message: `phase "${phaseName}" has an explicit gates list, so its ${key} would do nothing (the gates list is the whole rule)`,
        hint: `add this gate to deployment.phases.${phaseName}.gates instead: ${asGate[key]}`
      })
  const readsApprovers = rawPhase.gates.some(g => g.type === 'manual_approval' && !g.approvers)
  if (written.includes('approvers') && !readsApprovers)
    issues.push({
      path: [...path, 'approvers'],
      atKey: true,
      message: `phase "${phaseName}": approvers is read only by a manual_approval gate without approvers of its own, and its gates list has none, so it would do nothing`,
      hint: `add "- type: manual_approval" to deployment.phases.${phaseName}.gates, or move the logins into a gate's approvers`
    })
}

function gateFrom(gate: RawGate, phaseApprovers: string[], from: string): Gate {
  switch (gate.type) {
    case 'metrics_threshold':
      return {
        type: gate.type,
        name: gate.name ?? gate.type,
        thresholds: gate.thresholds,
        from,
        ...(gate.group ? { group: gate.group } : {}),
        ...(gate.min_samples !== undefined ? { minSamples: gate.min_samples } : {}),
        ...(gate.for ? { forMs: gate.for.ms } : {})
      }
    case 'manual_approval':
      return {
        type: gate.type,
        name: gate.name ?? gate.type,
        required: gate.required ?? 1,
        approvers: gate.approvers ?? phaseApprovers
      }
    case 'automated_test':
      return {
        type: gate.type,
        name: gate.name ?? gate.type,
        checks: gate.checks,
        app: gate.app ?? ACTIONS_APP,
        ...(gate.workflow ? { workflow: gate.workflow } : {})
      }
    case 'time_based':
      return {
        type: gate.type,
        name: gate.name ?? gate.type,
        durationMs: gate.duration.ms,
        source: gate.duration.source
      }
  }
}
