/** Builds a feature's datafile from its policy and state (shape: ./datafile-schema.ts). */
import { existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { exposureOf } from '../engine/exposure.js'
import type { Policy, State } from '../engine/types.js'
import { BUCKETS } from '../experiments/assignment.js'
import { DATAFILE_VERSION, featureDatafileSchema, type FeatureDatafile } from './datafile-schema.js'
import { jsonSyntaxProblem } from './json-problem.js'

export * from './datafile-schema.js'

/**
 * Where a feature's datafile lives (one of phasegate's own files, rollout/write.ts ownFilesOf): beside its state file, same name with `.datafile.json` for
 * `.yaml` (`.phasegate/state/pay.yaml` -> `.phasegate/state/pay.datafile.json`), relative to the
 * repository root. Per feature, so one feature's transition never touches another's files.
 */
export function datafilePathOf(policy: Pick<Policy, 'statePath'>): string {
  return `${policy.statePath.replace(/\.ya?ml$/i, '')}.datafile.json`
}

/**
 * A feature's datafile from its policy and state (null state: not started, exposed as off; a lost
 * rollout's stand-in state, `state.lost`: off, with no transition to name). `madeOn` is the
 * commit the transition is written on top of (HEAD before it), when known.
 */
export function featureDatafile(
  policy: Policy,
  state: State | null,
  madeOn: string | null = null
): FeatureDatafile {
  const phase = exposureOf(policy, state)
  const last = state?.lastTransition
  return {
    datafile_version: DATAFILE_VERSION,
    feature: policy.feature,
    phase: phase.phase,
    enabled: phase.enabled,
    user_percentage: phase.userPercentage,
    feature_flags: [...phase.featureFlags],
    monitoring_level: phase.monitoringLevel,
    rollout: { hash_version: 2, salt: `rollout:${policy.feature}`, buckets: BUCKETS },
    experiments: policy.experiments.map(e => ({
      name: e.name,
      status: state?.experiments[e.name]?.status ?? 'running',
      enabled: e.enabled,
      seed: e.seed,
      hash_version: e.hashVersion,
      groups: e.groups.map(g => ({
        name: g.name,
        weight: g.weight,
        configuration: g.configuration
      }))
    })),
    transition:
      state && !state.lost
        ? last
          ? { kind: last.kind, from: last.from, to: last.to, at: last.at, made_on: madeOn }
          : { kind: 'init', from: null, to: state.phase, at: state.enteredAt, made_on: madeOn }
        : null
  }
}

/** A committed datafile as read from a checkout: absent, unreadable (why), or parsed. */
export type CommittedDatafile =
  | { kind: 'absent' }
  | { kind: 'unreadable'; why: string }
  | { kind: 'parsed'; datafile: FeatureDatafile }

/** Reads the datafile at `path` (relative to `root`) without throwing: a bad one says why. */
export function readCommittedDatafile(root: string, path: string): CommittedDatafile {
  const file = join(root, path)
  if (!existsSync(file)) return { kind: 'absent' }
  const text = readFileSync(file, 'utf8')
  let json: unknown
  try {
    json = JSON.parse(text)
  } catch (error) {
    return { kind: 'unreadable', why: `is not JSON (${jsonSyntaxProblem(error, text)})` }
  }
  const parsed = featureDatafileSchema().safeParse(json)
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!
    return {
      kind: 'unreadable',
      why: `is not a phasegate datafile (${issue.path.join('.') || 'top level'}: ${issue.message})`
    }
  }
  return { kind: 'parsed', datafile: parsed.data }
}
