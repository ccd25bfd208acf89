import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { SEED_POLICY_PATH } from '../../support/policies.js'
import { cli, tempRepo, writeMetrics } from '../../support/repo.js'

const NOW = '2026-11-27T09:00:00Z'

describe('phasegate assign', () => {
  it('prints user_id,group for ids on the command line, as docs/assignment.md’s vectors say', async () => {
    const dir = tempRepo()
    const run = await cli(
      dir,
      'assign',
      '--experiment',
      'dspy_vs_traditional',
      'user-1',
      'user-2',
      'a,b'
    )
    expect(run.err).toBe('')
    expect(run.code).toBe(0)
    expect(run.out).toBe('user-1,control\nuser-2,treatment\n"a,b",control\n')
  })

  it('streams ids from --users and prints JSON lines with --json', async () => {
    const dir = tempRepo()
    writeFileSync(join(dir, 'users.txt'), 'user-1\r\n\r\nuser-2\n  42  \n')
    const run = await cli(
      dir,
      'assign',
      '--experiment',
      'dspy_vs_traditional',
      '--users',
      'users.txt',
      '--json'
    )
    expect(run.err).toBe('')
    expect(
      run.out
        .trim()
        .split('\n')
        .map(l => JSON.parse(l))
    ).toEqual([
      { user_id: 'user-1', group: 'control' },
      { user_id: 'user-2', group: 'treatment' },
      { user_id: '42', group: 'treatment' }
    ])
  })

  it('follows the seed’s algorithm for an experiment with hash_version: 1', async () => {
    const seedPolicy = readFileSync(SEED_POLICY_PATH, 'utf8')
    const dir = tempRepo({
      'policies/production_deployment.yaml': seedPolicy.replace(
        '    enabled: true\n    groups:',
        '    enabled: true\n    hash_version: 1\n    groups:'
      )
    })
    const run = await cli(
      dir,
      'assign',
      '--experiment',
      'dspy_vs_traditional',
      'user-1',
      'user-2',
      '42'
    )
    expect(run.err).toBe('')
    // python: int.from_bytes(sha256(b"user-1dspy_vs_traditional").digest(), "big") % 100 == 62, ...
    expect(run.out).toBe('user-1,treatment\nuser-2,control\n42,treatment\n')
  })

  it('names the experiments there are when asked for one that is not', async () => {
    const dir = tempRepo()
    const run = await cli(dir, 'assign', '--experiment', 'nope', 'u1')
    expect(run.code).toBe(1)
    expect(run.err).toMatch(
      /no experiment named 'nope' \(hint: experiments in these policies: dspy_vs_traditional\)/
    )
  })
})

/** Per-user rows: accuracy 80% vs 86%, response time 900 vs 860 ms (± up to 300). */
function resultsCsv(users: number, extra = ''): string {
  const lines = ['user_id,group,accuracy,response_time,cost_per_request,user_satisfaction']
  for (let i = 0; i < users; i++) {
    const treatment = i % 2 === 1
    const accurate = (i * 7919) % 100 < (treatment ? 86 : 80) ? 1 : 0
    const time = (treatment ? 860 : 900) + ((i * 104729) % 601) - 300
    const cost = (0.02 + ((i * 31) % 7) / 1000).toFixed(4)
    lines.push(
      `u${i},${treatment ? 'treatment' : 'control'},${accurate},${time},${cost},${(i * 13) % 10 < 9 ? 1 : 0}`
    )
  }
  return lines.join('\n') + '\n' + extra
}

describe('phasegate analyze', () => {
  it('reports estimates, intervals, the sample ratio check and a verdict from a results file', async () => {
    const dir = tempRepo()
    writeFileSync(join(dir, 'results.csv'), resultsCsv(8000))
    const run = await cli(
      dir,
      'analyze',
      '--experiment',
      'dspy_vs_traditional',
      '--results',
      'results.csv',
      '--now',
      NOW
    )
    expect(run.err).toBe('')
    expect(run.code).toBe(0)
    expect(run.out).toMatch(/^experiment dspy_vs_traditional: CONTROL BETTER/)
    expect(run.out).toContain('groups: control 4000 users (50.0%, expected 50.0%)')
    expect(run.out).toMatch(/accuracy \[rate, higher is better\]: control 0\.8\d* \(n=4000\)/)
    expect(run.out).toMatch(/response_time \[mean, lower is better\]/)
    expect(run.out).toContain('sequential testing on (confidence sequences, N* = 2000)')

    const json = await cli(
      dir,
      'analyze',
      '--experiment',
      'dspy_vs_traditional',
      '--results',
      'results.csv',
      '--json',
      '--now',
      NOW
    )
    const analysis = JSON.parse(json.out)
    expect(analysis.verdict).toBe('control_better')
    expect(analysis.sampleRatio).toMatchObject({ checked: true, mismatch: false })
    const accuracy = analysis.metrics.find((m: { metric: string }) => m.metric === 'accuracy')
    expect(accuracy.comparisons[0]).toMatchObject({
      treatment: 'treatment',
      test: 'two-proportion z',
      outcome: 'better'
    })
    expect(accuracy.comparisons[0].sequential.interval[0]).toBeGreaterThan(0)
  })

  it.each([
    [
      'an unknown group',
      'u9,treatmnt,1,900,0.02,1\n',
      /results\.csv:8002:4: unknown group 'treatmnt'/
    ],
    [
      'a non-numeric value',
      'u9,control,1,fast,0.02,1\n',
      /results\.csv:8002:14: response_time: 'fast' is not a number/
    ]
  ])(
    'stops at %s with the line number, a non-zero exit and no report',
    async (_, extra, message) => {
      const dir = tempRepo()
      writeFileSync(join(dir, 'results.csv'), resultsCsv(8000, extra))
      const run = await cli(
        dir,
        'analyze',
        '--experiment',
        'dspy_vs_traditional',
        '--results',
        'results.csv'
      )
      expect(run.code).toBe(1)
      expect(run.err).toMatch(message)
      expect(run.out).toBe('')
    }
  )

  it('a metric declared a rate in metric_kinds makes a stray value an error at its line and column', async () => {
    const dir = tempRepo({
      'policies/production_deployment.yaml': readFileSync(SEED_POLICY_PATH, 'utf8').replace(
        '    duration: 30d\n',
        '    metric_kinds: { accuracy: rate, user_satisfaction: rate }\n    duration: 30d\n'
      )
    })
    writeFileSync(join(dir, 'results.csv'), resultsCsv(8000, 'u8000,control,2,900,0.02,1\n'))
    const run = await cli(
      dir,
      'analyze',
      '--experiment',
      'dspy_vs_traditional',
      '--results',
      'results.csv'
    )
    expect(run.code).toBe(1)
    expect(run.err).toMatch(/results\.csv:8002:15: accuracy is declared a rate: 2 is not 0 or 1/)
    expect(run.out).toBe('')
  })

  it('metric_kinds may only name success metrics', async () => {
    const dir = tempRepo({
      'policies/production_deployment.yaml': readFileSync(SEED_POLICY_PATH, 'utf8').replace(
        '    duration: 30d\n',
        '    metric_kinds: { acuracy: rate }\n    duration: 30d\n'
      )
    })
    const run = await cli(dir, 'analyze', '--experiment', 'dspy_vs_traditional')
    expect(run.code).toBe(1)
    expect(run.err).toMatch(/production_deployment\.yaml:\d+:\d+: .*metric_kinds names "acuracy"/)
  })

  it('stops at a missing column and at a negative count', async () => {
    const dir = tempRepo()
    writeFileSync(join(dir, 'missing.csv'), 'user_id,group,accuracy\nu1,control,1\n')
    writeFileSync(
      join(dir, 'negative.ndjson'),
      '{"group":"control","metric":"accuracy","count":-1,"successes":0}\n'
    )
    const missing = await cli(
      dir,
      'analyze',
      '--experiment',
      'dspy_vs_traditional',
      '--results',
      'missing.csv'
    )
    expect(missing.code).toBe(1)
    expect(missing.err).toMatch(
      /missing\.csv:1: missing columns 'response_time', 'cost_per_request', 'user_satisfaction'/
    )
    const negative = await cli(
      dir,
      'analyze',
      '--experiment',
      'dspy_vs_traditional',
      '--results',
      'negative.ndjson'
    )
    expect(negative.code).toBe(1)
    expect(negative.err).toMatch(/negative\.ndjson:1:40: count must be a whole number of 0 or more/)
    expect(missing.out + negative.out).toBe('')
  })

  it('keeps running until the duration has passed since the state file’s start', async () => {
    const dir = tempRepo()
    writeFileSync(join(dir, 'results.csv'), resultsCsv(8000))
    await cli(dir, 'init', '--now', '2026-11-01T00:00:00Z')
    const early = await cli(
      dir,
      'analyze',
      '--experiment',
      'dspy_vs_traditional',
      '--results',
      'results.csv',
      '--now',
      '2026-11-11T00:00:00Z'
    )
    expect(early.err).toBe('')
    expect(early.out).toMatch(
      /^experiment dspy_vs_traditional \(running since 2026-11-01T00:00:00.000Z\): keep running\n {2}running 240\.0h of its 720\.0h duration/
    )
    const later = await cli(
      dir,
      'analyze',
      '--experiment',
      'dspy_vs_traditional',
      '--results',
      'results.csv',
      '--now',
      '2026-12-15T00:00:00Z'
    )
    expect(later.out).toMatch(
      /^experiment dspy_vs_traditional \(running since .*\): CONTROL BETTER/
    )
  })

  it('reads per-group statistics from the policy’s metrics provider', async () => {
    const dir = tempRepo()
    const group = (accuracy: number, time: number) => ({
      accuracy: { value: accuracy, samples: 5000 },
      response_time: { value: time, samples: 5000 },
      response_time_stddev: 150,
      cost_per_request: { value: 0.02, samples: 5000 },
      cost_per_request_stddev: 0.004,
      user_satisfaction: { value: 0.96, samples: 5000 }
    })
    writeMetrics(dir, { groups: { control: group(0.8, 900), treatment: group(0.84, 850) } })
    const run = await cli(
      dir,
      'analyze',
      '--experiment',
      'dspy_vs_traditional',
      '--json',
      '--now',
      NOW
    )
    expect(run.err).toBe('')
    const analysis = JSON.parse(run.out)
    expect(analysis.groups.map((g: { users: number }) => g.users)).toEqual([5000, 5000])
    expect(analysis.metrics.map((m: { kind: string }) => m.kind)).toEqual([
      'rate',
      'mean',
      'mean',
      'rate'
    ])
    expect(analysis.verdict).toBe('treatment_better')
    expect(analysis.reasons).toContain(
      'duration not checked: the state file has no start time for this experiment'
    )
  })
})
