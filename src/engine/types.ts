// The decision core's vocabulary. Everything here is plain data: the policy and state
// after validation, what was observed, and what decide() wants done.

export type Comparator = '<' | '<=' | '>' | '>=' | '=='

/**
 * A condition on one number, e.g. "< 0.01" or "> 0.95". `source` is the text as written. `value`
 * is in `unit` when there is one: as parsed, a time written with a unit ("< 0.5s") is in ms; once
 * loaded, every threshold on a metric with a unit is in the metric's unit (src/engine/units.ts).
 * No unit: a bare number, in whatever unit the readings are in.
 */
export interface Threshold {
  op: Comparator
  value: number
  source: string
  unit?: string
}

export type MonitoringLevel = 'debug' | 'info' | 'warn' | 'error'

/** Which way a metric is worse. */
export type MetricDirection = 'higher_is_worse' | 'lower_is_worse'

/** rate: a share between 0 and 1; mean: an average of measurements; count: a number of events. */
export type MetricKind = 'rate' | 'mean' | 'count'

/** What the policy's metrics.definitions says of one metric; each field optional. */
export interface MetricDefinition {
  direction?: MetricDirection
  kind?: MetricKind
  unit?: string
}

/**
 * Where a per-phase setting came from: written in the policy, the seed's PhaseConfig for a phase
 * of the seed's own ladder, or phasegate's default for any phase.
 */
export type SettingOrigin = 'policy' | 'seed default' | 'default'

export interface MetricsThresholdGate {
  type: 'metrics_threshold'
  name: string
  /** metric name -> condition the metric must meet to pass */
  thresholds: Record<string, Threshold>
  /** Read the metric for this experiment group instead of the whole rollout. */
  group?: string
  /** Readings with fewer samples than this are pending, not passing. */
  minSamples?: number
  /** Where the policy writes these thresholds, e.g. deployment.phases.canary.success_criteria. */
  from?: string
  /**
   * Sustained success (`for:`, ms): every threshold must have held over this window, judged on
   * range data with the triggers' coverage rule (a gap is not "held"). 0 or unset: latest value.
   */
  forMs?: number
}

export interface ManualApprovalGate {
  type: 'manual_approval'
  name: string
  required: number
  /**
   * Users ("alice", who also need write access) and teams ("@org/team", by membership). Empty:
   * anyone with write, maintain or admin permission but the author and bots.
   */
  approvers: string[]
}

export interface AutomatedTestGate {
  type: 'automated_test'
  name: string
  /** Check runs or workflow runs that must have concluded success. */
  checks: string[]
  /**
   * The app whose check runs count (its slug; "github-actions" by default, which also covers
   * workflow runs). Runs by any other producer are ignored, never allowed to override.
   */
  app: string
  /**
   * When set (".github/workflows/ci.yml"), only workflow runs of this file count: check runs,
   * and workflow runs of any other file, are ignored.
   */
  workflow?: string
}

export interface TimeBasedGate {
  type: 'time_based'
  name: string
  /** Minimum time in the phase, in milliseconds. */
  durationMs: number
  source: string
}

export type Gate = MetricsThresholdGate | ManualApprovalGate | AutomatedTestGate | TimeBasedGate
/** A guardrail is also a gate (not worse than control by more than its margin). */
export type GateType = Gate['type'] | 'guardrail'

export interface Phase {
  name: string
  enabled: boolean
  userPercentage: number
  featureFlags: string[]
  monitoringLevel: MonitoringLevel
  /**
   * metric -> value above which this phase rolls back (the seed's PhaseConfig.rollback_threshold),
   * only as the policy writes it for this phase: a threshold nobody wrote never rolls back.
   */
  rollbackThreshold: Record<string, number>
  /** Where userPercentage, featureFlags and monitoringLevel came from. */
  origins: Record<'userPercentage' | 'featureFlags' | 'monitoringLevel', SettingOrigin>
  /** The seed's success_criteria, as written; also turned into a metrics_threshold gate. */
  successCriteria: Record<string, Threshold>
  /** Minimum time in phase in ms (seed's `duration`), null when unbounded. */
  durationMs: number | null
  /** Gates that must all pass to leave this phase for the next one. */
  gates: Gate[]
  approvers: string[]
  /**
   * Cool-down (ms) after a rollback out of this phase before the advance into it may be proposed
   * again; unset: no cool-down.
   */
  cooldownMs?: number
}

export interface AlertRule {
  metric: string
  /** The metric's direction (declared or known): critical lies past warning in this direction. */
  direction: MetricDirection
  warning: number
  critical: number
  /** The unit warning and critical (and the readings) are in, when the metric has one. */
  unit?: string
  /** Breach must hold this long (range data) before it counts; 0 = latest value. */
  forMs: number
}

/** The seed's check_trend_alerts: the latest window against the one before it. */
export interface TrendRule {
  metric: string
  windowMs: number
  /** Relative rise over the previous window that alerts (0.5 = +50%). */
  increase?: number
  /** Relative fall below the previous window that alerts (0.02 = -2%). */
  decrease?: number
}

/**
 * What a fired trigger does: roll back one phase (the default), pause the rollout instead, or
 * only observe (reported, alerts raised, evidence shown, nothing moves).
 */
export type OnFire = 'rollback' | 'pause' | 'observe'

export interface MetricTrigger {
  kind: 'metric'
  metric: string
  threshold: Threshold
  /** The breach must have held this long, judged on range data covering the window. */
  forMs: number
  source: string
  /** Unset: rollback. */
  onFire?: OnFire
}

export interface SystemFailureTrigger {
  kind: 'system_failure'
  source: string
}

export type Trigger = MetricTrigger | SystemFailureTrigger

export interface ExperimentGroup {
  name: string
  weight: number
  configuration: Record<string, unknown>
}

/** What a guardrail that fires does, as a trigger's on_fire: roll back, pause the rollout, or only report. */
export type GuardrailOnFire = 'rollback' | 'pause' | 'observe'

/**
 * The policy's guardrails.<metric>: treatment (users inside the phase's user_percentage) against
 * control (the rest), judged on data accumulated since the phase was entered.
 */
export interface GuardrailRule {
  metric: string
  /** From the metric's direction (metrics.definitions or its known name). */
  worse: 'increase' | 'decrease'
  /** The largest tolerated relative harm (0.05: up to 5% worse). */
  margin: number
  alpha: number
  /** N* of the confidence sequence: the combined n (both groups) where it is tightest. */
  tuning: number
  onFire: GuardrailOnFire
  /** Declared in metrics.definitions; undefined: a rate unless the source gives a standard deviation. */
  kind?: MetricKind
}

export interface Experiment {
  name: string
  enabled: boolean
  groups: ExperimentGroup[]
  successMetrics: string[]
  /**
   * Declared kinds of success metrics (metric_kinds): results and readings that contradict one
   * are errors; an undeclared metric's kind is read from its values. `count`: whole numbers,
   * analysed as a mean.
   */
  metricKinds?: Record<string, 'rate' | 'mean' | 'count'>
  durationMs: number | null
  minimumSampleSize: number
  seed: string
  hashVersion: 1 | 2
}

export interface EmergencyContact {
  team?: string
  user?: string
  oncall: boolean
}

export interface MetricsConfig {
  provider: string
  /** metric name -> provider-specific query (PromQL, JSON path, ...) */
  queries: Record<string, string>
  /** The evaluation window, a duration such as "5m": {{window}} in queries (default 5m). */
  window?: string
  /** Provider-specific settings (path, url, headers, timeout ...), validated by the provider. */
  options: Record<string, unknown>
}

/**
 * A span of time in which nothing lands as an advance (rollbacks always may). Membership is
 * judged on the wall clock of `timeZone` (an IANA name), so DST changes move the instants, not
 * the window:
 * - weekends: Saturday 00:00 to Monday 00:00;
 * - dates: from the start of `from` to the end of `to` (YYYY-MM-DD, inclusive);
 * - daily: from `from` to `to` (HH:MM) every day, across midnight when `to` is earlier.
 */
export type FreezeWindow = { name: string; timeZone: string } & (
  | { kind: 'weekends' }
  | { kind: 'dates'; from: string; to: string }
  | { kind: 'daily'; from: string; to: string }
)

export interface Policy {
  feature: string
  /** Phases in ladder order. */
  phases: Phase[]
  experiments: Experiment[]
  alerts: AlertRule[]
  trends: TrendRule[]
  dashboards: string[]
  triggers: Trigger[]
  /** Freeze windows (freeze.windows); unset or empty: none. */
  freezeWindows?: FreezeWindow[]
  rollback: {
    manualApprovalRequired: boolean
    emergencyContacts: EmergencyContact[]
    operators: string[]
    /** Consecutive failed reads of the metrics source that count as a system failure. */
    sourceFailureLimit: number
  }
  metrics: MetricsConfig
  /** Where people hear about this rollout besides GitHub issues; absent when the policy sets none. */
  notifications?: NotificationsConfig
  /** metric name -> what the policy declares of it (metrics.definitions); read via metricSpec(). */
  metricDefinitions: Record<string, MetricDefinition>
  /** The policy's guardrails, in file order; absent or empty when it has none. */
  guardrails?: GuardrailRule[]
  /** Where the state file lives, relative to the repository root. */
  statePath: string
  /**
   * How often the workflow runs (monitoring.schedule_interval), in ms; unset: the default of
   * engine/heartbeat.ts scheduleIntervalOf. A heartbeat older than three of these is stale.
   */
  scheduleIntervalMs?: number
  /**
   * What validation wants a person to know without refusing the policy, each as
   * "file:line:col: message (hint: ...)"; absent when there is nothing to say.
   */
  notices?: string[]
  /** Where each of `notices` points, by index (for annotations on the file, line and column). */
  noticeLocations?: Array<{ file: string; line?: number; col?: number } | undefined>
}

export type ExperimentStatus = 'pending' | 'running' | 'stopped' | 'concluded'

export type TransitionKind = 'advance' | 'rollback' | 'emergency' | 'resume' | 'pause'

export type GateOutcome = 'pass' | 'fail' | 'pending'

/** One fact behind a transition: which gate or trigger, what was seen, against what. */
export interface Evidence {
  gate: string
  metric?: string
  value?: number | string | null
  threshold?: string
  /** The unit `value` is in, when the metric has one. */
  unit?: string
  /** The threshold as compared, in `unit`: "< 0.5 s (written < 500ms)". */
  compared?: string
  /** A gate's outcome, or a trigger's status (only `fired` is ever recorded in a transition). */
  result: GateOutcome | TriggerStatus
  /** A guardrail's always-valid interval of `value` (a relative difference, treatment vs control). */
  interval?: [number, number]
  /** A guardrail's always-valid p-value of "no difference". */
  pValue?: number
  /** A guardrail's observations per group. */
  n?: { control: number; treatment: number }
}

export interface Transition {
  kind: TransitionKind
  from: string
  to: string
  at: string
  reason: string
  approvers: string[]
  operator?: string
  evidence: Evidence[]
  /** The advance commit a rollback reverted. */
  reverts?: string
  /**
   * The workflow run (GITHUB_RUN_ID) that dispatched this transition, written as a trailer only:
   * a re-run of that run (same id, next attempt) finds it landed and does not act again.
   */
  dispatchRun?: string
}

export interface State {
  feature: string
  phase: string
  /** ISO-8601 instant the current phase was entered. */
  enteredAt: string
  /** The kill switch: false turns the feature off everywhere, whatever the phase. */
  enabled: boolean
  experiments: Record<string, { status: ExperimentStatus; startedAt?: string }>
  lastTransition?: Transition
  /**
   * Set while the rollout is paused (a `pause` transition; a `resume` lifts it): it never
   * advances, its rollback triggers still act.
   */
  paused?: { at: string; reason: string; operator?: string }
  /**
   * Set only on the stand-in state of a lost rollout (rollout/load.ts currentState): its state
   * file is missing though its history has transitions, the newest being `sha`. It exposes
   * nothing; phasegate commits no transition for it. Never written to a state file.
   */
  lost?: { sha: string }
}

/** One number read from a metrics source, or the reason there is none. */
export interface DiscardedPoint {
  at: number
  written: string
  why: string
}

export interface MetricReading {
  metric: string
  group?: string
  /** A finite number, or null when there is no usable data (see `reason`). */
  value: number | null
  reason?: string
  samples?: number
  /** Range data, oldest first, [epoch seconds, value]: used for `for:` windows and trends. */
  series?: Array<[number, number]>
  /**
   * Points of `series` that could not be true or were not numbers (NaN in `series`: a gap,
   * never a breach): when (epoch seconds), the value as the source wrote it, and why it was
   * discarded, so that a report names what the source said.
   */
  discarded?: DiscardedPoint[]
  /**
   * Seconds between the points of `series` the source promises: Prometheus' query step, a file
   * snapshot's `step:`. Unset: inferred from the series (see heldFor).
   */
  stepS?: number
  /**
   * Epoch seconds: where the window the value summarises starts (an instant query of
   * `rate(x[5m])` at t covers t-5m..t). Triggers ignore readings whose window starts before the
   * phase was entered. Unset: the reading is taken to be fresh.
   */
  windowStart?: number
}

/** A user's role on the repository, as GitHub's collaborator permission endpoint names it. */
export type RepositoryPermission = 'admin' | 'maintain' | 'write' | 'triage' | 'read' | 'none'

export interface Approval {
  user: string
  /** Teams the user belongs to, as "@org/team". */
  teams?: string[]
  bot?: boolean
  /** The approver wrote the change being approved. */
  author?: boolean
  /** The approver is the person running phasegate locally (`--approved-by` cannot self-approve). */
  runner?: boolean
  /** The approval was given on an older commit than the one to be merged. */
  stale?: boolean
  /**
   * The approver's role on the repository, as GitHub reports it. Undefined only for local mode's
   * `--approved-by`, where the person running phasegate vouches for the approvers.
   */
  permission?: RepositoryPermission
  /** Why GitHub could not confirm the approver's standing (a refused lookup): never counts. */
  unverified?: string
}

export interface CheckObservation {
  name: string
  /** The producer's app slug; undefined for local mode's `--check`, vouched by its runner. */
  app?: string
  /** success, failure, cancelled, ... ; null while still running */
  conclusion: string | null
}

export interface Observations {
  readings: MetricReading[]
  /**
   * The machine's clock, set for a run that commits (a tick, not status or a dry run): when the
   * evaluation time (`--now`, the action's `now`) is earlier, a freeze window open at the clock
   * holds an advance too, so no past time lands an advance, dated in the past, inside a window
   * open today.
   */
  clock?: Date
  approvals: Approval[]
  checks: CheckObservation[]
  /**
   * The metrics source could not be read on `consecutive` consecutive runs (this one included)
   * since the phase was entered, the first of them at `since` (ISO-8601); at the
   * policy's rollback.source_failure_limit this is a system_failure.
   */
  sourceFailures?: { consecutive: number; since?: string; reason: string }
  /**
   * Per-group readings (groups `control` and `treatment`, and `<metric>_stddev` for means)
   * accumulated since the phase was entered, for the policy's guardrails: `value` is the group's
   * rate or mean, `samples` its number of observations.
   */
  guardrailReadings?: MetricReading[]
  /**
   * The rollout's rollbacks (automatic, manual and emergency) from its git history, newest first:
   * the phase each left and when, for the cool-downs. Unset: only the state's last transition.
   */
  rollbacks?: Array<{ from: string; to: string; at: string }>
  /**
   * Set when `rollbacks` comes from a shallow git history (a depth-limited clone): a rollback
   * older than its oldest commit is missing, so "none seen" does not end a cool-down.
   */
  historyShallow?: true
  /**
   * The phase's user percentage the datafile serves, when a raise by a policy edit waits for a
   * freeze window or a pause (exposureInForce); unset: the policy's. Guardrails split users by it.
   */
  userPercentage?: number
}

export interface GateResult {
  gate: string
  type: GateType
  outcome: GateOutcome
  reason: string
  evidence: Evidence[]
}

export type Severity = 'low' | 'medium' | 'high' | 'critical'

export interface Alert {
  metric: string
  value: number
  severity: Severity
  warning: number
  critical: number
  /** The unit value, warning and critical are in, when the metric has one. */
  unit?: string
  message: string
  /**
   * Set when a fired observe-only trigger (this name) raised the alert, its metric having no
   * monitoring.alerts rule (engine/observed-alerts.ts); warning and critical are its threshold.
   */
  trigger?: string
}

export interface TrendAlert {
  metric: string
  direction: 'increase' | 'decrease'
  /** Mean over the latest window, and over the one before it. */
  current: number
  previous: number
  /** (current - previous) / previous; ±Infinity when previous is 0. */
  change: number
  message: string
}

/**
 * What became of a rollback trigger: fired; breached but not fired (too low a severity, not held
 * for its `for:`); ok (within its threshold); or no data (missing, non-finite or impossible).
 */
export type TriggerStatus = 'fired' | 'breached' | 'ok' | 'no_data'

export interface TriggerResult {
  trigger: string
  status: TriggerStatus
  /** status === 'fired' */
  fired: boolean
  /**
   * What this trigger (or guardrail) does when it fires: the policy's on_fire, rollback unless
   * written. Always set, so every report can say it.
   */
  onFire: OnFire
  reason: string
  evidence: Evidence[]
  /**
   * Breached, but not enough to roll back yet: the evidence predates the phase, or the metrics
   * source failed on fewer runs than the limit. Reports list these next to the fired ones.
   */
  waiting?: boolean
}

export type DecisionAction = 'advance' | 'rollback' | 'pause' | 'hold'

/**
 * Why a decision holds, as a value the flows branch on (the reason is for people):
 * - kill_switch: the kill switch is off; nothing moves until a resume;
 * - first_phase_trigger: a trigger fired in the first phase, where there is nothing to roll back to;
 * - final_phase: the rollout is complete;
 * - gates: a gate of the phase does not pass (see awaitingApproval for approval being the only one);
 * - paused: an operator (or an on_fire: pause trigger) paused the rollout;
 * - cooldown: the phase to advance into was rolled back from too recently (Decision.cooldown);
 * - freeze: every gate passes (or only approval waits) but a freeze window is open
 *   (Decision.freeze): the advance PR may open and be approved, nothing lands.
 */
export type HoldCause =
  'kill_switch' | 'first_phase_trigger' | 'final_phase' | 'gates' | 'paused' | 'cooldown' | 'freeze'

export interface Decision {
  action: DecisionAction
  feature: string
  phase: string
  /** The phase the rollout moves to (advance or rollback). */
  target?: string
  reason: string
  gates: GateResult[]
  alerts: Alert[]
  /**
   * The metrics of alert rules that read no usable value this run: their alerts are unknown,
   * not resolved (an open alert stays open). Unset when every rule's metric was read. Not
   * derivable from the trigger, guardrail and gate rows: an alert rule's metric need be none of
   * theirs, and impossible readings become no data only inside decide().
   */
  alertsUnread?: string[]
  /** Trend alerts: warnings for people; they never roll back by themselves. */
  trends: TrendAlert[]
  triggers: TriggerResult[]
  /** Set when action is hold: why, as a value to branch on. */
  holdCause?: HoldCause
  /** Every gate but manual approval passes: the advance only waits for people. */
  awaitingApproval: boolean
  /**
   * Set on an automatic rollback when the policy says rollback.manual_approval_required: the
   * rollback is proposed for approval, not pushed. Never set when system_failure fired (or for an
   * emergency dispatch, which is not a decision): those always act at once.
   */
  rollbackNeedsApproval?: boolean
  /** Set while a freeze window is open: its name and when no window is open any more (ISO-8601). */
  freeze?: { window: string; endsAt: string; endless?: true }
  /** Set while a cool-down holds the advance: the phase rolled back from and when it ends. */
  cooldown?: { phase: string; endsAt: string }
  /** Set when action is advance or rollback: what the commit records. */
  transition?: Transition
}

/**
 * What a notification is about: a transition, a proposal, an alert's life, a guardrail's
 * conclusive verdict, or a feature that could not be evaluated. `kill_switch` names the emergency rollback
 * too, for targets that only want to hear when the feature is turned off.
 */
export const NOTIFICATION_EVENTS = [
  'advance_proposed',
  'advanced',
  'rollback',
  'graceful_rollback',
  'emergency_rollback',
  'kill_switch',
  'resume',
  'pause',
  'alert_opened',
  'alert_escalated',
  'alert_resolved',
  'guardrail_verdict',
  'evaluation_failed'
] as const
export type NotificationEventKind = (typeof NOTIFICATION_EVENTS)[number]

/** One place notifications go: the policy's `notifications.targets[]`. */
export interface NotificationTarget {
  name: string
  type: 'slack' | 'teams' | 'webhook'
  /** NAME of the secret (metrics-secrets / environment) holding the webhook URL. */
  urlSecret: string
  /** NAME of the secret holding the HMAC-SHA256 key (webhook only); unset: unsigned. */
  signingSecret?: string
  /** The events this target hears; every event when the policy lists none. */
  events: NotificationEventKind[]
  /** The lowest severity sent; `low` is never sent (the seed's rule: low is log only). */
  minSeverity: Exclude<Severity, 'low'>
}

export interface NotificationsConfig {
  targets: NotificationTarget[]
  /** Per attempt, milliseconds. */
  timeoutMs: number
  /** Attempts after the first, on a 5xx, 429, timeout or refused connection. */
  retries: number
}
