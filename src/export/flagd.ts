/**
 * flagd flag definitions (https://flagd.dev/reference/flag-definitions/) for every feature in a
 * datafile document, so any flagd provider in any language serves the rollout:
 * - `<feature>`: boolean; `fractional` targeting puts `user_percentage` of users in "on";
 * - `<feature>/<experiment>`: string, the user's group; `<feature>/<experiment>/configuration`:
 *   object, the group's configuration. Both answer the caller's default (flagd reason DEFAULT)
 *   for users outside the rollout or while the experiment is not running, as the SDK does.
 *
 * Bucketing differs from phasegate's own (docs/assignment.md "flagd"): flagd hashes
 * `salt + ":" + user id` with MurmurHash3 (32-bit) where phasegate uses SHA-256, so the same
 * proportions hold but not the same users. The kill switch is written as an ENABLED flag whose
 * only answer is "off" (not flagd's DISABLED state, which hands back the caller's default, and a
 * caller's default of `true` would keep the feature on).
 */
import type { DatafileDocument, FeatureDatafile } from './datafile-schema.js'

export const FLAGD_SCHEMA = 'https://flagd.dev/schema/v0/flags.json'

type JsonLogic = Record<string, unknown>

export interface FlagdDocument {
  $schema: string
  flags: Record<string, Record<string, unknown>>
}

/** The flagd document for every feature of a datafile document, flags in name order. */
export function flagdDocument(document: DatafileDocument): FlagdDocument {
  const flags: FlagdDocument['flags'] = {}
  for (const feature of Object.values(document.features)) {
    flags[feature.feature] = featureFlag(feature)
    for (const experiment of feature.experiments) {
      const key = `${feature.feature}/${experiment.name}`
      const groups = experiment.groups
      const running = feature.enabled && experiment.enabled && experiment.status === 'running'
      const targeting = running ? inRollout(feature, assignment(experiment)) : null
      flags[key] = {
        state: 'ENABLED',
        variants: Object.fromEntries(groups.map(g => [g.name, g.name])),
        defaultVariant: null,
        ...(targeting ? { targeting } : {}),
        metadata: metadataOf(feature)
      }
      flags[`${key}/configuration`] = {
        state: 'ENABLED',
        variants: Object.fromEntries(groups.map(g => [g.name, g.configuration])),
        defaultVariant: null,
        ...(targeting ? { targeting } : {}),
        metadata: metadataOf(feature)
      }
    }
  }
  return { $schema: FLAGD_SCHEMA, flags }
}

function featureFlag(feature: FeatureDatafile): Record<string, unknown> {
  const base = {
    state: 'ENABLED',
    variants: { on: true, off: false },
    defaultVariant: 'off',
    metadata: metadataOf(feature)
  }
  if (!feature.enabled || feature.user_percentage <= 0) return base
  if (feature.user_percentage >= 100) return { ...base, targeting: keyed('on', 'off') }
  return { ...base, targeting: keyed(rolloutSplit(feature), 'off') }
}

/**
 * `then` for a request with a targeting key, `otherwise` for one without: flagd would hash every
 * keyless request to one bucket (`"<salt>:"`), putting all anonymous traffic in or out together,
 * where the provider answers TARGETING_KEY_MISSING with the caller's default. An empty string is
 * a key, as it is to the provider.
 */
function keyed(then: JsonLogic | string, otherwise: string | null): JsonLogic {
  return { if: [{ '==': [{ var: 'targetingKey' }, null] }, otherwise, then] }
}

/** "in" for `user_percentage` of users, bucketed by the rollout's salt and the targeting key. */
function rolloutSplit(feature: FeatureDatafile): JsonLogic {
  const inside = Math.round(feature.user_percentage * 100)
  return {
    fractional: [
      { cat: [`${feature.rollout.salt}:`, { var: 'targetingKey' }] },
      ['on', inside],
      ['off', feature.rollout.buckets - inside]
    ]
  }
}

function inRollout(feature: FeatureDatafile, then: JsonLogic): JsonLogic | null {
  if (feature.user_percentage <= 0) return null
  if (feature.user_percentage >= 100) return keyed(then, null)
  return keyed({ if: [{ '==': [rolloutSplit(feature), 'on'] }, then, null] }, null)
}

/** The experiment's groups by weight; flagd needs whole-number weights, so decimals are scaled. */
function assignment(experiment: FeatureDatafile['experiments'][number]): JsonLogic {
  const decimals = Math.max(
    0,
    ...experiment.groups.map(g => (String(g.weight).split('.')[1] ?? '').length)
  )
  const scale = 10 ** Math.min(decimals, 6)
  return {
    fractional: [
      { cat: [`${experiment.seed}:`, { var: 'targetingKey' }] },
      ...experiment.groups.map(g => [g.name, Math.round(g.weight * scale)])
    ]
  }
}

function metadataOf(feature: FeatureDatafile): Record<string, string | number | boolean> {
  return {
    phase: feature.phase,
    enabled: feature.enabled,
    ...(feature.transition?.made_on ? { commit: feature.transition.made_on } : {})
  }
}
