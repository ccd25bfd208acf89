import { describe, expect, it } from 'vitest'
import { cli, tempRepo } from '../support/repo.js'

const policyText = (feature: string) =>
  `feature: ${feature}\ndeployment:\n  order: [canary, full]\n  phases:\n    canary: { user_percentage: 5 }\n    full: { user_percentage: 100 }\n`

describe('phasegate list', () => {
  const files = Object.fromEntries(
    ['a', 'b', 'c', 'd', 'e'].map(f => [`policies/${f}.yaml`, policyText(`feature_${f}`)])
  )

  it('prints a job matrix with one entry per feature, each naming its policy file', async () => {
    const dir = tempRepo(files)
    const run = await cli(dir, 'list', '--json')
    expect(run.code, run.err).toBe(0)
    const matrix = JSON.parse(run.out) as { include: Array<Record<string, string>> }
    expect(matrix.include).toHaveLength(5)
    expect(matrix.include[0]).toEqual({
      shard: '1/5',
      features: 'feature_a',
      policies: 'policies/a.yaml'
    })
  })

  it('deals features into shards, each feature in exactly one', async () => {
    const dir = tempRepo(files)
    const matrix = JSON.parse((await cli(dir, 'list', '--json', '--shards', '2')).out) as {
      include: Array<Record<string, string>>
    }
    expect(matrix.include.map(e => e.shard)).toEqual(['1/2', '2/2'])
    const features = matrix.include.flatMap(e => e.features!.split(','))
    expect(features.sort()).toEqual([
      'feature_a',
      'feature_b',
      'feature_c',
      'feature_d',
      'feature_e'
    ])
    expect(matrix.include[0]!.policies!.split('\n')).toEqual([
      'policies/a.yaml',
      'policies/c.yaml',
      'policies/e.yaml'
    ])
  })

  it('shows where each feature stands; a rollout never started is off', async () => {
    const dir = tempRepo(files)
    await cli(dir, 'init', '--policy', 'policies/a.yaml', '--now', '2026-03-02T09:00:00Z')
    const out = (await cli(dir, 'list')).out
    expect(out).toMatch(/feature_a {2}canary {2}5% {2}policies\/a\.yaml/)
    expect(out).toMatch(/feature_b {2}not started {2}off/)
  })

  it('refuses a shard count that is not a whole number', async () => {
    const run = await cli(tempRepo(files), 'list', '--json', '--shards', 'two')
    expect(run.code).toBe(2)
    expect(run.err).toMatch(/--shards two/)
  })
})
