import { inForce } from '../rollout/datafile.js'
import { loadRolloutsSettled, relativeTo, type RolloutFailure } from '../rollout/load.js'
import { repoRoot } from '../git/git.js'

export interface ListOptions {
  cwd: string
  policies: string[]
  /** Group the features into at most this many matrix entries (default: one per feature). */
  shards?: number
  /** When freeze windows are judged (a raise held back by one is not exposed); default: now. */
  now?: Date
}

/** One feature as the job matrix needs it, and where it stands. */
export interface ListedFeature {
  feature: string
  policy: string
  phase: string | null
  enabled: boolean
  user_percentage: number
}

/** A GitHub Actions matrix: `include` entries with the policy files each job ticks. */
export interface Matrix {
  include: Array<{ shard: string; features: string; policies: string }>
}

/**
 * Every rollout, in policy-file order, and a job matrix over them: with `shards`, features are
 * dealt round-robin into that many entries (GitHub allows 256 jobs per matrix). Policy paths are
 * relative to the repository root, one per line as the action's `policies` input takes them.
 * A policy that does not load is in `failures` and still in the matrix (named by its file), so
 * the job that ticks it fails with its located error while every other feature's job runs.
 */
export async function list(
  options: ListOptions
): Promise<{ features: ListedFeature[]; matrix: Matrix; failures: RolloutFailure[] }> {
  const { rollouts, failures } = await loadRolloutsSettled(options.cwd, options.policies)
  const root = await repoRoot(options.cwd)
  const loaded = rollouts.map(r => {
    // What the datafile serves: a raise waiting for a freeze window or a pause is not in it.
    const { exposure: exposed } = inForce(r, options.now ?? new Date())
    return {
      feature: r.policy.feature,
      policy: relativeTo(r.root, r.policyFile),
      phase: r.state?.phase ?? null,
      enabled: exposed.enabled,
      user_percentage: exposed.userPercentage
    }
  })
  const broken = failures.map(f => ({ policy: relativeTo(root, f.policyFile), feature: null }))
  const features: Array<ListedFeature | { policy: string; feature: null }> = [
    ...loaded,
    ...broken
  ].sort((a, b) => a.policy.localeCompare(b.policy))
  const shards = Math.max(1, Math.min(options.shards ?? features.length, features.length, 256))
  const buckets: Array<typeof features> = Array.from({ length: shards }, () => [])
  features.forEach((f, i) => buckets[i % shards]!.push(f))
  return {
    features: loaded,
    matrix: {
      include: buckets.map((b, i) => ({
        shard: `${i + 1}/${shards}`,
        features: b.map(f => f.feature ?? f.policy).join(','),
        policies: b.map(f => f.policy).join('\n')
      }))
    },
    failures
  }
}
