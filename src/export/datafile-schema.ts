/**
 * The datafile's shape, parsing and JSON Schema. The datafile: everything an application needs to answer "is this user in" and "which group",
 * as JSON, one file per feature (written beside its state file in the feature's transition
 * commit), combined by `phasegate export` into one document for consumers. The zod schema below
 * is the single source of the published JSON Schema (`schema/datafile.schema.json`) and of the
 * OpenFeature provider's validation.
 */
import * as z from 'zod'
import type { TransitionKind } from '../engine/types.js'
import { BUCKETS } from '../experiments/assignment.js'
import { lazy } from '../lazy.js'
import { jsonSyntaxProblem } from './json-problem.js'

/** Bumped on any change a consumer must know about (docs/versioning.md). */
export const DATAFILE_VERSION = 1

// Built on first use: most commands (status, tick) never read or write a datafile.
const schemas = lazy(() => {
  const experimentSchema = z.strictObject({
    name: z.string().min(1),
    /** pending | running | stopped | concluded; only `running` assigns users. */
    status: z.enum(['pending', 'running', 'stopped', 'concluded']),
    /** The experiment is switched on in the policy. */
    enabled: z.boolean(),
    seed: z.string(),
    hash_version: z.union([z.literal(1), z.literal(2)]),
    groups: z
      .array(
        z.strictObject({
          name: z.string().min(1),
          weight: z.number().nonnegative(),
          configuration: z.record(z.string(), z.unknown())
        })
      )
      .min(1)
  })

  const featureDatafileSchema = z.strictObject({
    datafile_version: z.literal(DATAFILE_VERSION),
    feature: z.string().min(1),
    phase: z.string().min(1),
    /** The kill switch and the phase's `enabled`, combined: false turns the feature off for all. */
    enabled: z.boolean(),
    /** Percentage of users (0–100, in steps of 0.01) inside the rollout while enabled. */
    user_percentage: z.number().min(0).max(100),
    feature_flags: z.array(z.string()),
    monitoring_level: z.enum(['debug', 'info', 'warn', 'error']),
    /** How a user id maps to the rollout: bucket(salt, id) < user_percentage * 100 (docs/assignment.md). */
    rollout: z.strictObject({
      hash_version: z.literal(2),
      salt: z.string(),
      buckets: z.literal(BUCKETS)
    }),
    experiments: z.array(experimentSchema),
    /** The transition this file reflects; null before the first one. */
    transition: z
      .strictObject({
        kind: z.enum(['init', 'advance', 'rollback', 'emergency', 'resume', 'pause']),
        from: z.string().nullable(),
        to: z.string(),
        at: z.string(),
        /** The commit the transition was made on (its parent): a file cannot name its own commit. */
        made_on: z.string().nullable()
      })
      .nullable(),
    /**
     * The action's last evaluation of the feature (the heartbeat record), when the exporting clone
     * had one: never in the per-feature file a transition writes, only in `phasegate export`.
     */
    heartbeat: z
      .strictObject({
        /** When the scheduled run last evaluated the feature (RFC 3339). */
        evaluated_at: z.iso.datetime({ offset: true }),
        /** What that run decided (advance, hold, rollback, ...). */
        outcome: z.string(),
        /** From this time on (RFC 3339) the heartbeat is stale: three schedule intervals later. */
        stale_after: z.iso.datetime({ offset: true })
      })
      .optional()
  })

  const datafileDocumentSchema = z.strictObject({
    datafile_version: z.literal(DATAFILE_VERSION),
    /** Feature name -> its datafile, in name order. */
    features: z.record(z.string(), featureDatafileSchema)
  })
  return { featureDatafileSchema, datafileDocumentSchema }
})

/** One feature's datafile (what a transition writes beside the state file). */
export const featureDatafileSchema = () => schemas().featureDatafileSchema
/** `phasegate export`'s combined document. */
export const datafileDocumentSchema = () => schemas().datafileDocumentSchema

export type FeatureDatafile = z.infer<ReturnType<typeof featureDatafileSchema>>
export type DatafileDocument = z.infer<ReturnType<typeof datafileDocumentSchema>>
export type DatafileTransitionKind = TransitionKind | 'init'

/** One document for consumers: every feature's datafile, keyed and ordered by name. */
export function combineDatafiles(datafiles: FeatureDatafile[]): DatafileDocument {
  const features: Record<string, FeatureDatafile> = {}
  for (const d of [...datafiles].sort((a, b) => (a.feature < b.feature ? -1 : 1)))
    features[d.feature] = d
  return { datafile_version: DATAFILE_VERSION, features }
}

/** The text written to disk: two-space JSON and a final newline, so diffs read line by line. */
export function renderDatafile(value: FeatureDatafile | DatafileDocument): string {
  return `${JSON.stringify(value, null, 2)}\n`
}

/**
 * Reads a datafile text: either a combined document or one feature's file (wrapped into a
 * document). Throws a `DatafileError` naming what is wrong; never returns a partial document.
 */
export function parseDatafile(text: string): DatafileDocument {
  let json: unknown
  try {
    json = JSON.parse(text)
  } catch (error) {
    throw new DatafileError(`not JSON: ${jsonSyntaxProblem(error, text)}`)
  }
  const single = featureDatafileSchema().safeParse(json)
  if (single.success) return combineDatafiles([single.data])
  const document = datafileDocumentSchema().safeParse(json)
  if (!document.success) {
    const issue = document.error.issues[0]!
    throw new DatafileError(
      `not a phasegate datafile: ${issue.path.join('.') || '(top level)'}: ${issue.message}`
    )
  }
  for (const [name, d] of Object.entries(document.data.features)) {
    if (d.feature !== name)
      throw new DatafileError(`features.${name} describes feature "${d.feature}"`)
  }
  return document.data
}

export class DatafileError extends Error {
  override name = 'DatafileError'
}

/** The published JSON Schema of the combined document (which also defines one feature's file). */
export function datafileJsonSchema(): string {
  const schema = z.toJSONSchema(
    z.union([datafileDocumentSchema(), featureDatafileSchema()]).meta({
      title: 'phasegate datafile',
      description:
        "A feature's rollout as an application needs it (one feature), or `phasegate export`'s combination of them."
    }),
    { io: 'input', target: 'draft-2020-12', reused: 'ref' }
  )
  return `${JSON.stringify(schema, null, 2)}\n`
}
