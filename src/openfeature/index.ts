/**
 * phasegate/openfeature: an OpenFeature server provider that answers from phasegate's datafile
 * (a path, or a URL polled with ETag / If-Modified-Since). Flag keys:
 * - a feature's name, evaluated as a boolean: is this targeting key inside the rollout;
 * - `feature/experiment` (or the experiment's name alone when no other feature has one so named),
 *   evaluated as a string (the user's group) or an object (the group's configuration).
 * Answers equal `phasegate assign` and the SDK's `Feature` for the same ids. Every failure (no
 * datafile yet, malformed file, unknown flag, wrong type, no targeting key) becomes an OpenFeature
 * error code and the caller's default: never an exception in the application.
 */
import { readFile, stat } from 'node:fs/promises'
import {
  FlagNotFoundError,
  GeneralError,
  OpenFeatureEventEmitter,
  ParseError,
  ProviderEvents,
  ProviderNotReadyError,
  StandardResolutionReasons,
  TargetingKeyMissingError,
  TypeMismatchError,
  type EvaluationContext,
  type JsonValue,
  type Provider,
  type ResolutionDetails
} from '@openfeature/server-sdk'
import { createAssigner, isInRollout } from '../experiments/assignment.js'
import {
  DatafileError,
  parseDatafile,
  type DatafileDocument,
  type FeatureDatafile
} from '../export/datafile-schema.js'

export interface PhasegateProviderOptions {
  /** A file path, or an http(s) URL serving the datafile (`phasegate export`, or one feature's file). */
  source: string
  /** How often to look for a new datafile, in ms (default 30 000; 0 = load once, never poll). */
  pollIntervalMs?: number
  /** After failed polls the interval doubles, up to this many ms (default 300 000). */
  maxBackoffMs?: number
  /** Per-request timeout for URLs, in ms (default 10 000). */
  timeoutMs?: number
  /** Largest datafile accepted, in bytes (default 10 MiB); a larger one is a parse error. */
  maxBytes?: number
}

type Experiment = FeatureDatafile['experiments'][number]
interface ExperimentEntry {
  feature: FeatureDatafile
  experiment: Experiment
  assign: (userId: string) => string
}

/** What is served now: the last datafile that loaded, with lookups built once per load. */
interface Loaded {
  document: DatafileDocument
  experiments: Map<string, ExperimentEntry | 'ambiguous'>
}

export class PhasegateProvider implements Provider {
  readonly metadata = { name: 'phasegate' } as const
  readonly runsOn = 'server' as const
  readonly events = new OpenFeatureEventEmitter()

  private loaded: Loaded | null = null
  /** Why the datafile could not be loaded (first load) or refreshed (later), or null. */
  private failure: DatafileError | Error | null = null
  private etag: string | null = null
  private lastModified: string | null = null
  private mtimeMs = -1
  private timer: NodeJS.Timeout | null = null
  private delayMs: number
  private readonly options: Required<PhasegateProviderOptions>

  constructor(options: PhasegateProviderOptions) {
    this.options = {
      pollIntervalMs: 30_000,
      maxBackoffMs: 300_000,
      timeoutMs: 10_000,
      maxBytes: 10 * 1024 * 1024,
      ...options
    }
    this.delayMs = this.options.pollIntervalMs
  }

  /** Loads the datafile once; the SDK reports the provider ready, or in error with the reason. */
  async initialize(): Promise<void> {
    await this.refresh()
    this.schedule()
    if (!this.loaded) throw this.failure ?? new GeneralError('no datafile loaded')
  }

  async onClose(): Promise<void> {
    if (this.timer) clearTimeout(this.timer)
    this.timer = null
  }

  /** Loads the datafile now if it changed; returns whether the served configuration changed. */
  async refresh(): Promise<boolean> {
    try {
      const text = await this.fetchText()
      if (text === null) {
        this.recovered()
        return false
      }
      const document = parseDatafile(text)
      const before = this.loaded && JSON.stringify(this.loaded.document)
      this.loaded = { document, experiments: indexExperiments(document) }
      const changed = before !== null && before !== JSON.stringify(document)
      const wasFailing = this.failure !== null
      this.failure = null
      this.delayMs = this.options.pollIntervalMs
      if (changed) {
        this.events.emit(ProviderEvents.ConfigurationChanged, {
          flagsChanged: changedFlags(JSON.parse(before) as DatafileDocument, document)
        })
      } else if (wasFailing && before !== null) this.events.emit(ProviderEvents.Ready)
      return changed
    } catch (error) {
      this.failure = error instanceof Error ? error : new Error(String(error))
      this.delayMs = Math.min(this.delayMs * 2 || 1000, this.options.maxBackoffMs)
      if (this.loaded)
        this.events.emit(ProviderEvents.Stale, { message: `datafile: ${this.failure.message}` })
      return false
    }
  }

  resolveBooleanEvaluation(
    flagKey: string,
    _defaultValue: boolean,
    context: EvaluationContext
  ): Promise<ResolutionDetails<boolean>> {
    return settle(() => {
      const feature = this.feature(flagKey, 'boolean')
      const metadata = metadataOf(feature)
      if (!feature.enabled)
        return {
          value: false,
          variant: 'off',
          reason: StandardResolutionReasons.DISABLED,
          flagMetadata: metadata
        }
      const inside = isInRollout(feature.feature, targetingKey(context), feature.user_percentage)
      return {
        value: inside,
        variant: inside ? 'on' : 'off',
        reason: inside
          ? StandardResolutionReasons.TARGETING_MATCH
          : StandardResolutionReasons.DEFAULT,
        flagMetadata: metadata
      }
    })
  }

  resolveStringEvaluation(
    flagKey: string,
    defaultValue: string,
    context: EvaluationContext
  ): Promise<ResolutionDetails<string>> {
    return settle(() => this.group(flagKey, defaultValue, context, g => g.name))
  }

  resolveObjectEvaluation<T extends JsonValue>(
    flagKey: string,
    defaultValue: T,
    context: EvaluationContext
  ): Promise<ResolutionDetails<T>> {
    return settle(() => this.group(flagKey, defaultValue, context, g => g.configuration as T))
  }

  resolveNumberEvaluation(flagKey: string): Promise<ResolutionDetails<number>> {
    return settle(() => {
      this.document()
      throw new TypeMismatchError(`phasegate flag "${flagKey}" is not a number flag`)
    })
  }

  private document(): DatafileDocument {
    if (this.loaded) return this.loaded.document
    if (this.failure instanceof DatafileError) throw new ParseError(this.failure.message)
    if (this.failure) throw new GeneralError(`datafile unavailable: ${this.failure.message}`)
    throw new ProviderNotReadyError('the datafile has not been loaded yet')
  }

  private feature(flagKey: string, type: string): FeatureDatafile {
    const feature = this.document().features[flagKey]
    if (feature) return feature
    if (this.loaded!.experiments.has(flagKey))
      throw new TypeMismatchError(
        `"${flagKey}" is an experiment: evaluate it as a string or object`
      )
    throw new FlagNotFoundError(
      `no feature "${flagKey}" in the datafile (${type} flags are features)`
    )
  }

  private group<T>(
    flagKey: string,
    defaultValue: T,
    context: EvaluationContext,
    valueOf: (group: Experiment['groups'][number]) => T
  ): ResolutionDetails<T> {
    const document = this.document()
    const entry = this.loaded!.experiments.get(flagKey)
    if (entry === 'ambiguous')
      throw new FlagNotFoundError(
        `several features have an experiment "${flagKey}": use feature/${flagKey}`
      )
    if (!entry) {
      if (document.features[flagKey])
        throw new TypeMismatchError(`"${flagKey}" is a feature: evaluate it as a boolean`)
      throw new FlagNotFoundError(`no experiment "${flagKey}" in the datafile`)
    }
    const { feature, experiment } = entry
    const metadata = { ...metadataOf(feature), experiment: experiment.name }
    const userId = targetingKey(context)
    // The same order of questions as the SDK's Feature.group: running, feature on, in rollout.
    if (!experiment.enabled || experiment.status !== 'running' || !feature.enabled)
      return {
        value: defaultValue,
        reason: StandardResolutionReasons.DISABLED,
        flagMetadata: metadata
      }
    if (!isInRollout(feature.feature, userId, feature.user_percentage))
      return {
        value: defaultValue,
        reason: StandardResolutionReasons.DEFAULT,
        flagMetadata: metadata
      }
    const name = entry.assign(userId)
    const group = experiment.groups.find(g => g.name === name)!
    return {
      value: valueOf(group),
      variant: name,
      reason: StandardResolutionReasons.TARGETING_MATCH,
      flagMetadata: metadata
    }
  }

  /** The datafile's text when it changed since the last load, or null when it did not. */
  private async fetchText(): Promise<string | null> {
    const { source, timeoutMs, maxBytes } = this.options
    if (!/^https?:\/\//i.test(source)) {
      const info = await stat(source)
      if (info.mtimeMs === this.mtimeMs && this.loaded) return null
      if (info.size > maxBytes) throw new DatafileError(`larger than ${maxBytes} bytes`)
      this.mtimeMs = info.mtimeMs
      return readFile(source, 'utf8')
    }
    const headers: Record<string, string> = { accept: 'application/json' }
    if (this.loaded && this.etag) headers['if-none-match'] = this.etag
    if (this.loaded && this.lastModified) headers['if-modified-since'] = this.lastModified
    const response = await fetch(source, { headers, signal: AbortSignal.timeout(timeoutMs) })
    if (response.status === 304) return null
    if (!response.ok) throw new Error(`GET ${source}: HTTP ${response.status}`)
    const declared = Number(response.headers.get('content-length') ?? 0)
    if (declared > maxBytes) {
      await response.body?.cancel()
      throw new DatafileError(`larger than ${maxBytes} bytes`)
    }
    const text = await response.text()
    if (Buffer.byteLength(text) > maxBytes) throw new DatafileError(`larger than ${maxBytes} bytes`)
    this.etag = response.headers.get('etag')
    this.lastModified = response.headers.get('last-modified')
    return text
  }

  private recovered(): void {
    if (this.failure && this.loaded) this.events.emit(ProviderEvents.Ready)
    this.failure = null
    this.delayMs = this.options.pollIntervalMs
  }

  private schedule(): void {
    if (this.options.pollIntervalMs <= 0) return
    this.timer = setTimeout(() => {
      void this.refresh().finally(() => {
        if (this.timer) this.schedule()
      })
    }, this.delayMs)
    this.timer.unref()
  }
}

/** Runs a resolution; the SDK turns a thrown OpenFeatureError into its code and the default. */
async function settle<T>(resolve: () => ResolutionDetails<T>): Promise<ResolutionDetails<T>> {
  return resolve()
}

function targetingKey(context: EvaluationContext): string {
  const key = context.targetingKey
  if (typeof key !== 'string')
    throw new TargetingKeyMissingError('phasegate needs the user id as the targeting key')
  return key
}

/**
 * The flag metadata of every answer: the phase and percentage, the transition the datafile
 * reflects and, when the datafile carries the action's heartbeat (`phasegate export` in a clone
 * with the record), when the feature was last evaluated and whether that is stale now (past
 * `stale_after`: scheduled runs, and so rollbacks, may have stopped).
 */
function metadataOf(feature: FeatureDatafile): Record<string, string | number | boolean> {
  const heartbeat = feature.heartbeat
  return {
    phase: feature.phase,
    userPercentage: feature.user_percentage,
    ...(feature.transition?.made_on ? { commit: feature.transition.made_on } : {}),
    ...(feature.transition
      ? { transitionKind: feature.transition.kind, transitionAt: feature.transition.at }
      : {}),
    ...(heartbeat
      ? {
          evaluatedAt: heartbeat.evaluated_at,
          heartbeatStale: !(Date.now() <= Date.parse(heartbeat.stale_after))
        }
      : {})
  }
}

function indexExperiments(document: DatafileDocument): Loaded['experiments'] {
  const index: Loaded['experiments'] = new Map()
  for (const feature of Object.values(document.features)) {
    for (const experiment of feature.experiments) {
      const entry: ExperimentEntry = {
        feature,
        experiment,
        assign: createAssigner({
          name: experiment.name,
          seed: experiment.seed,
          hashVersion: experiment.hash_version,
          groups: experiment.groups
        })
      }
      index.set(`${feature.feature}/${experiment.name}`, entry)
      index.set(experiment.name, index.has(experiment.name) ? 'ambiguous' : entry)
    }
  }
  return index
}

/** Flag keys whose answers may differ between two datafiles. */
function changedFlags(before: DatafileDocument, after: DatafileDocument): string[] {
  const names = new Set([...Object.keys(before.features), ...Object.keys(after.features)])
  const changed: string[] = []
  for (const name of [...names].sort()) {
    const a = before.features[name]
    const b = after.features[name]
    if (JSON.stringify(a) === JSON.stringify(b)) continue
    changed.push(name)
    for (const e of [...(a?.experiments ?? []), ...(b?.experiments ?? [])])
      if (!changed.includes(`${name}/${e.name}`)) changed.push(`${name}/${e.name}`)
  }
  return changed
}
