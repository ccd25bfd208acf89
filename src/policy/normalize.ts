import type {
  AlertRule,
  EmergencyContact,
  Experiment,
  Gate,
  MonitoringLevel,
  Phase,
  Policy,
  Threshold,
  TrendRule,
  Trigger
} from '../engine/types.js'
import { PhasegateError } from '../errors.js'
import { parseDuration, parseQuantity, parseThreshold, type Parsed } from './quantities.js'
import { NAME_PATTERN, type RawGate, type RawPolicy } from './schema.js'
import { workTreePathProblem } from './paths.js'

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

/** The seed's ladder, used unless the policy lists its own under deployment.order. */
export const SEED_LADDER = [
  'development',
  'staging',
  'canary',
  'limited_production',
  'full_production'
]

interface PhaseDefaults {
  userPercentage: number
  featureFlags: string[]
  monitoringLevel: MonitoringLevel
  rollbackThreshold: Record<string, number>
}

// The seed's Pipeline.DSPy.PhaseConfig, as per-phase defaults.
const SEED_PHASE_CONFIG: Record<string, PhaseDefaults> = {
  development: {
    userPercentage: 100,
    featureFlags: ['all_features'],
    monitoringLevel: 'debug',
    rollbackThreshold: { error_rate: 0.1, performance_degradation: 0.3 }
  },
  staging: {
    userPercentage: 100,
    featureFlags: ['core_features'],
    monitoringLevel: 'info',
    rollbackThreshold: { error_rate: 0.05, performance_degradation: 0.2 }
  },
  canary: {
    userPercentage: 1,
    featureFlags: ['core_features'],
    monitoringLevel: 'warn',
    rollbackThreshold: { error_rate: 0.02, performance_degradation: 0.15 }
  },
  limited_production: {
    userPercentage: 10,
    featureFlags: ['core_features'],
    monitoringLevel: 'warn',
    rollbackThreshold: { error_rate: 0.01, performance_degradation: 0.1 }
  },
  full_production: {
    userPercentage: 100,
    featureFlags: ['core_features'],
    monitoringLevel: 'error',
    rollbackThreshold: { error_rate: 0.005, performance_degradation: 0.05 }
  }
}

const CUSTOM_PHASE_DEFAULTS: PhaseDefaults = {
  userPercentage: 100,
  featureFlags: [],
  monitoringLevel: 'info',
  rollbackThreshold: {}
}

/** Turns a shape-checked policy into the engine's Policy, or throws PolicyIssues. */
export function normalizePolicy(raw: RawPolicy, fileStem: string): Policy {
  const issues: PolicyIssue[] = []
  const value = <T>(parsed: Parsed<T>, path: (string | number)[], fallback: T): T => {
    if (parsed.ok) return parsed.value
    issues.push({ path, message: parsed.error, hint: parsed.hint })
    return fallback
  }

  const feature = raw.feature ?? fileStem
  if (!NAME_PATTERN.test(feature)) {
    const suggestion = feature.replace(/[^A-Za-z0-9_.-]+/g, '_').replace(/^[^A-Za-z0-9]+/, '')
    issues.push({
      path: [],
      message: `the feature is named after the file, "${fileStem}", which is not a valid name (letters, digits, "_", "." and "-", starting with a letter or digit)`,
      hint: `add "feature: ${suggestion || 'my_feature'}" at the top, or rename the file`
    })
  }
  const ladder = raw.deployment.order ?? SEED_LADDER
  const rawPhases = raw.deployment.phases ?? {}

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

  const phases: Phase[] = ladder.map(phaseName => {
    const rawPhase = rawPhases[phaseName] ?? {}
    const path = ['deployment', 'phases', phaseName]
    const defaults = SEED_PHASE_CONFIG[phaseName] ?? CUSTOM_PHASE_DEFAULTS
    const successCriteria = thresholds(
      rawPhase.success_criteria ?? {},
      [...path, 'success_criteria'],
      value
    )
    const durationMs =
      rawPhase.duration == null
        ? null
        : value(parseDuration(rawPhase.duration), [...path, 'duration'], null)
    const rollbackThreshold = { ...defaults.rollbackThreshold }
    for (const [metric, limit] of Object.entries(rawPhase.rollback_threshold ?? {})) {
      rollbackThreshold[metric] = value(
        parseQuantity(limit),
        [...path, 'rollback_threshold', metric],
        0
      )
    }
    const phaseApprovers = rawPhase.approvers ?? []
    const gates = rawPhase.gates
      ? rawPhase.gates.map((gate, i) =>
          gateFrom(gate, phaseApprovers, [...path, 'gates', i], value)
        )
      : defaultGates(
          successCriteria,
          durationMs,
          phaseApprovers,
          rawPhase.duration == null ? undefined : String(rawPhase.duration)
        )
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
      userPercentage: rawPhase.user_percentage ?? defaults.userPercentage,
      featureFlags: rawPhase.feature_flags ?? defaults.featureFlags,
      monitoringLevel: rawPhase.monitoring_level ?? defaults.monitoringLevel,
      rollbackThreshold,
      successCriteria,
      durationMs,
      gates,
      approvers: phaseApprovers
    }
  })

  const alerts: AlertRule[] = Object.entries(raw.monitoring?.alerts ?? {}).map(([metric, rule]) => {
    const path = ['monitoring', 'alerts', metric]
    const warning = value(parseQuantity(rule.warning), [...path, 'warning'], 0)
    const critical = value(parseQuantity(rule.critical), [...path, 'critical'], 0)
    if (warning === critical) {
      issues.push({
        path: [...path, 'critical'],
        message: `alert "${metric}" has the same warning and critical value`,
        hint: 'critical is the worse one: above warning when higher is worse, below it when lower is worse'
      })
    }
    return {
      metric,
      warning,
      critical,
      forMs: rule.for ? value(parseDuration(rule.for), [...path, 'for'], 0) : 0
    }
  })

  const trends: TrendRule[] = Object.entries(raw.monitoring?.trends ?? {}).map(
    ([metric, rule]) => ({
      metric,
      windowMs: value(parseDuration(rule.window), ['monitoring', 'trends', metric, 'window'], 0),
      ...(rule.increase !== undefined ? { increase: rule.increase } : {}),
      ...(rule.decrease !== undefined ? { decrease: rule.decrease } : {})
    })
  )

  const triggers: Trigger[] = (raw.rollback?.automatic_triggers ?? []).map((entry, i) => {
    const path = ['rollback', 'automatic_triggers', i]
    const when = typeof entry === 'string' ? entry : entry.when
    const forMs =
      typeof entry === 'string' || !entry.for
        ? 0
        : value(parseDuration(entry.for), [...path, 'for'], 0)
    return value(parseTrigger(when, forMs), typeof entry === 'string' ? path : [...path, 'when'], {
      kind: 'system_failure',
      source: when
    })
  })

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
      durationMs:
        rawExperiment.duration == null
          ? null
          : value(
              parseDuration(rawExperiment.duration),
              ['experiments', experimentName, 'duration'],
              null
            ),
      minimumSampleSize: rawExperiment.minimum_sample_size ?? 0,
      seed: rawExperiment.seed ?? experimentName,
      hashVersion: rawExperiment.hash_version ?? 2
    })
  )

  const { provider, queries, window, ...options } = raw.metrics ?? {}
  const emergencyContacts: EmergencyContact[] = (raw.rollback?.emergency_contacts ?? []).map(c => ({
    ...(c.team ? { team: c.team } : {}),
    ...(c.user ? { user: c.user } : {}),
    oncall: c.oncall ?? false
  }))

  // A file provider's snapshot is read from where the policy says: inside the work tree only.
  const metricsPath = (options as { path?: unknown }).path
  const pathProblem =
    (provider ?? 'file') === 'file' && typeof metricsPath === 'string'
      ? workTreePathProblem(metricsPath)
      : undefined
  if (pathProblem)
    issues.push({
      path: ['metrics', 'path'],
      message: `the metrics file ${pathProblem}`,
      hint: 'write the snapshot file relative to the repository root, e.g. .phasegate/metrics/checkout.yaml'
    })

  if (issues.length > 0) throw new PolicyIssues(issues)
  return {
    feature,
    phases,
    experiments,
    alerts,
    trends,
    dashboards: raw.monitoring?.dashboards ?? [],
    triggers,
    rollback: {
      manualApprovalRequired: raw.rollback?.manual_approval_required ?? false,
      emergencyContacts,
      operators: raw.rollback?.operators ?? [],
      sourceFailureLimit: raw.rollback?.source_failure_limit ?? 3
    },
    metrics: {
      provider: provider ?? 'file',
      queries: queries ?? {},
      window: window === undefined ? DEFAULT_WINDOW : String(window),
      options
    },
    statePath: raw.state ?? `.phasegate/state/${feature}.yaml`
  }
}

type ValueFn = <T>(parsed: Parsed<T>, path: (string | number)[], fallback: T) => T

function thresholds(
  raw: Record<string, string | number>,
  path: (string | number)[],
  value: ValueFn
) {
  const out: Record<string, Threshold> = {}
  for (const [metric, condition] of Object.entries(raw)) {
    out[metric] = value(parseThreshold(condition), [...path, metric], {
      op: '<=',
      value: 0,
      source: ''
    })
  }
  return out
}

function defaultGates(
  successCriteria: Record<string, Threshold>,
  durationMs: number | null,
  approvers: string[],
  durationSource: string | undefined
): Gate[] {
  const gates: Gate[] = []
  if (Object.keys(successCriteria).length > 0) {
    gates.push({ type: 'metrics_threshold', name: 'success_criteria', thresholds: successCriteria })
  }
  if (durationMs !== null) {
    gates.push({
      type: 'time_based',
      name: 'duration',
      durationMs,
      source: durationSource ?? `${durationMs}ms`
    })
  }
  gates.push({ type: 'manual_approval', name: 'approval', required: 1, approvers })
  return gates
}

function gateFrom(
  gate: RawGate,
  phaseApprovers: string[],
  path: (string | number)[],
  value: ValueFn
): Gate {
  switch (gate.type) {
    case 'metrics_threshold':
      return {
        type: gate.type,
        name: gate.name ?? gate.type,
        thresholds: thresholds(gate.thresholds, [...path, 'thresholds'], value),
        ...(gate.group ? { group: gate.group } : {}),
        ...(gate.min_samples !== undefined ? { minSamples: gate.min_samples } : {})
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
        app: gate.app ?? ACTIONS_APP
      }
    case 'time_based':
      return {
        type: gate.type,
        name: gate.name ?? gate.type,
        durationMs: value(parseDuration(gate.duration), [...path, 'duration'], 0),
        source: String(gate.duration)
      }
  }
}

const TRIGGER_RE = /^([A-Za-z_][A-Za-z0-9_.]*)\s*(<=|>=|==|<|>)\s*(.+)$/

/** "error_rate > 0.02" or "system_failure". */
export function parseTrigger(source: string, forMs = 0): Parsed<Trigger> {
  const text = source.trim()
  if (text === 'system_failure')
    return { ok: true, value: { kind: 'system_failure', source: text } }
  const match = TRIGGER_RE.exec(text)
  if (!match) {
    return {
      ok: false,
      error: `"${source}" is not a rollback trigger`,
      hint: 'write "<metric> > <number>", e.g. "error_rate > 0.02", or "system_failure"'
    }
  }
  const threshold = parseThreshold(`${match[2]} ${match[3]}`)
  if (!threshold.ok) {
    const sustained = /\s+for\s+(\S+)$/.exec(match[3]!)
    return {
      ok: false,
      error: `"${source}": ${threshold.error}`,
      hint: sustained
        ? `write a trigger that must hold for a while as { when: "${match[1]} ${match[2]} ${match[3]!.slice(0, sustained.index)}", for: ${sustained[1]} }`
        : threshold.hint
    }
  }
  return {
    ok: true,
    value: { kind: 'metric', metric: match[1]!, threshold: threshold.value, forMs, source: text }
  }
}

/**
 * The candidate within edit distance 2 of `word`, or else one that `word` abbreviates
 * ("user_percent" for "user_percentage"), for "did you mean". Never `word` itself.
 */
export function closest(word: string, candidates: string[]): string | undefined {
  let best: string | undefined
  let bestDistance = 3
  for (const candidate of candidates) {
    if (candidate === word) continue
    const d = editDistance(word, candidate)
    // A one- or two-letter word is within distance 2 of every short key: no guess from nothing.
    if (d < bestDistance && d < word.length) {
      best = candidate
      bestDistance = d
    }
  }
  if (best || word.length < 4) return best
  return candidates.find(c => c !== word && c.startsWith(word))
}

function editDistance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, j) => j)
  for (let i = 1; i <= a.length; i++) {
    let previous = row[0]!
    row[0] = i
    for (let j = 1; j <= b.length; j++) {
      const current = row[j]!
      row[j] = Math.min(row[j]! + 1, row[j - 1]! + 1, previous + (a[i - 1] === b[j - 1] ? 0 : 1))
      previous = current
    }
  }
  return row[b.length]!
}
