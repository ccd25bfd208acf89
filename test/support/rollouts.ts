import { at, HEALTHY, SEED_POLICY_TEXT } from './policies.js'
import { cli, tempRepo, writeMetrics, type CliRun } from './repo.js'

// Rollouts on real git repositories, driven through the CLI in-process, for the integration tests
// that start from a rollout already under way. (The Prometheus traffic scenario is scenario.ts.)

/** `phasegate tick` at at(hours), with alice's approval, so a manual gate never holds it. */
export const tick = (dir: string, hours: number): Promise<CliRun> =>
  cli(dir, 'tick', '--approved-by', 'alice', '--now', at(hours).toISOString())

/**
 * A new repository whose rollout stands at canary: `policyText` as
 * policies/production_deployment.yaml (its phases must start development, staging, canary), the
 * HEALTHY metrics snapshot, `init` at at(0) (Monday 2026-03-02 09:00 UTC), then ticks that
 * advance to staging at at(1) and to canary at at(2). Returns the repository's directory; the
 * metrics stay HEALTHY until rewritten.
 */
export async function rolloutAtCanary(policyText = SEED_POLICY_TEXT): Promise<string> {
  const dir = tempRepo({ 'policies/production_deployment.yaml': policyText })
  writeMetrics(dir, HEALTHY)
  await cli(dir, 'init', '--now', at(0).toISOString())
  await tick(dir, 1) // development -> staging
  await tick(dir, 2) // staging -> canary
  return dir
}

/** One metrics-file series point a minute from `from` to `to` hours (at()), leaving out `skip`'s. */
export function minuteSeries(
  from: number,
  to: number,
  value: number,
  skip?: [number, number]
): Array<[string, number]> {
  const points: Array<[string, number]> = []
  for (let minute = from * 60; minute <= to * 60; minute++)
    if (!skip || minute < skip[0] * 60 || minute > skip[1] * 60)
      points.push([at(minute / 60).toISOString(), value])
  return points
}
