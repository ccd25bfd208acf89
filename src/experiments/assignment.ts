import { createRequire } from 'node:module'
import type { Experiment } from '../engine/types.js'
import { PhasegateError } from '../errors.js'

// node:crypto is loaded with the first hash: on Node 24 importing it loads about 50 modules, a
// start-up cost that commands hashing nothing (status, tick on a seed policy) would pay.
const requireBuiltin = createRequire(import.meta.url)
let hash: typeof import('node:crypto').hash | undefined

function sha256(text: string): Buffer {
  hash ??= (requireBuiltin('node:crypto') as typeof import('node:crypto')).hash
  return hash('sha256', text, 'buffer')
}

/** Buckets per experiment or rollout in hash version 2: weights and percentages resolve to 0.01%. */
export const BUCKETS = 10_000

/**
 * Version 2's bucket (docs/assignment.md): the first four bytes of SHA-256 of `salt:userId`, as a
 * big-endian unsigned integer, scaled to [0, 10000). Scaling rather than `mod` keeps every bucket
 * equally likely, and the separator keeps ("ab", "c") and ("a", "bc") apart.
 */
export function bucketOf(salt: string, userId: string): number {
  const digest = sha256(`${salt}:${userId}`)
  return Math.floor((digest.readUInt32BE(0) * BUCKETS) / 4294967296)
}

/**
 * Whether a user is inside a phase's `user_percentage`. The rollout has its own salt, so that the
 * 1% canary is not also the experiment's lowest buckets (which would put all of it in control);
 * and the threshold only grows with the percentage, so a ramp only adds users.
 */
export function isInRollout(feature: string, userId: string, userPercentage: number): boolean {
  return bucketOf(`rollout:${feature}`, userId) < userPercentage * 100
}

/**
 * The rollout's own exposure as an experiment: users inside the phase's user_percentage are the
 * treatment, the rest control (the same hashing as isInRollout and assign). At 0% or 100% there
 * is no control to compare with (or no treatment): null for everyone.
 */
export function exposureGroup(
  feature: string,
  userId: string,
  userPercentage: number
): 'treatment' | 'control' | null {
  if (!(userPercentage > 0 && userPercentage < 100)) return null
  return isInRollout(feature, userId, userPercentage) ? 'treatment' : 'control'
}

export type AssignmentRule = Pick<Experiment, 'name' | 'groups' | 'seed' | 'hashVersion'>

/** Returns the group name for a user id; builds the weight table once for many users. */
export function createAssigner(experiment: AssignmentRule): (userId: string) => string {
  const groups = checkWeights(experiment)
  const total = groups.reduce((sum, g) => sum + g.weight, 0)
  if (experiment.hashVersion === 1) {
    const cumulative = cumulate(groups)
    return userId => {
      const remainder = digestModulo(`${userId}${experiment.seed}`, total)
      return cumulative.find(g => remainder < g.upTo)!.name
    }
  }
  // bucket / 10000 < cumulative / total, compared without division so other languages agree exactly.
  const thresholds = cumulate(groups).map(g => ({ name: g.name, upTo: BUCKETS * g.upTo }))
  return userId => {
    const scaled = bucketOf(experiment.seed, userId) * total
    return thresholds.find(g => scaled < g.upTo)!.name
  }
}

export function assignGroup(experiment: AssignmentRule, userId: string): string {
  return createAssigner(experiment)(userId)
}

function cumulate(groups: Array<{ name: string; weight: number }>) {
  let upTo = 0
  // Zero-weight groups can never be chosen; leaving them out keeps `find` from landing on them.
  return groups.filter(g => g.weight > 0).map(g => ({ name: g.name, upTo: (upTo += g.weight) }))
}

/**
 * The seed's `:binary.decode_unsigned(sha256) |> rem(total)`: the 256-bit digest as a big-endian
 * integer modulo `total`, by Horner's rule one byte at a time (exact while total·256 < 2^53).
 */
function digestModulo(text: string, total: number): number {
  const digest = sha256(text)
  let remainder = 0
  for (const byte of digest) remainder = (remainder * 256 + byte) % total
  return remainder
}

function checkWeights(experiment: AssignmentRule) {
  const where = `experiment '${experiment.name}'`
  if (experiment.groups.length === 0) {
    throw new PhasegateError(`${where} has no groups`, {
      hint: 'list at least one group under groups: with a weight'
    })
  }
  for (const group of experiment.groups) {
    if (!Number.isFinite(group.weight) || group.weight < 0) {
      throw new PhasegateError(`${where}: group '${group.name}' has weight ${group.weight}`, {
        hint: 'weights are non-negative numbers'
      })
    }
    if (experiment.hashVersion === 1 && !Number.isInteger(group.weight)) {
      throw new PhasegateError(
        `${where}: group '${group.name}' has weight ${group.weight}, but hash_version 1 needs whole numbers`,
        { hint: 'use whole-number weights, or hash_version: 2' }
      )
    }
  }
  const total = experiment.groups.reduce((sum, g) => sum + g.weight, 0)
  if (total <= 0) {
    throw new PhasegateError(`${where}: the group weights add up to 0`, {
      hint: 'give at least one group a positive weight'
    })
  }
  if (experiment.hashVersion === 1 && total * 256 >= Number.MAX_SAFE_INTEGER) {
    throw new PhasegateError(
      `${where}: the group weights add up to ${total}, too large for hash_version 1`,
      {
        hint: 'scale the weights down, e.g. to percentages'
      }
    )
  }
  return experiment.groups
}
