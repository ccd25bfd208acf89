import { expect } from 'vitest'
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

/**
 * Feature f's policy on three phases, a (10% of users), b (50%) and c (100%), with `rest` (more
 * policy lines, e.g. a rollback section) after them.
 */
export function abcPolicy(...rest: string[]): string {
  return [
    'feature: f',
    'deployment:',
    '  order: [a, b, c]',
    '  phases:',
    '    a: {user_percentage: 10}',
    '    b: {user_percentage: 50}',
    '    c: {user_percentage: 100}',
    ...rest,
    ''
  ].join('\n')
}

/** Hour `h` of 2026-03-01 (UTC), as an RFC 3339 string for --now. */
export const hourOf = (h: number): string => new Date(Date.UTC(2026, 2, 1, h)).toISOString()

/**
 * A new repository with `policy` as policies/f.yaml, started at a (hourOf(0)) and advanced to b
 * (hourOf(1), approved by bob), checked on the way. Returns the repository's directory.
 */
export async function abcAtB(policy = abcPolicy()): Promise<string> {
  const dir = tempRepo({ 'policies/f.yaml': policy })
  expect((await cli(dir, 'init', '--now', hourOf(0))).code).toBe(0)
  const advance = await cli(dir, 'tick', '--now', hourOf(1), '--approved-by', 'bob')
  expect(advance.out).toMatch(/ADVANCE a -> b/)
  return dir
}
