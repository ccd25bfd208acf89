import { mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { at, HEALTHY, SEED_POLICY_TEXT } from '../support/policies.js'
import { sendJson, startServer, type TestServer } from '../support/http-server.js'
import { cli, sh, tempRepo } from '../support/repo.js'

// A reading that cannot be true (NaN, infinite, a negative or above-1 rate) is "no data" for that
// metric alone, whichever provider read it: the tick goes on for every other metric and feature.

const STATE = '.phasegate/state/production_deployment.yaml'
const METRICS = '.phasegate/metrics/production_deployment.yaml'

/** A repository whose rollout was started and stands in canary since at(0). */
function inCanary(files: Record<string, string> = {}): string {
  return tempRepo({
    'policies/production_deployment.yaml': SEED_POLICY_TEXT,
    [STATE]: [
      'feature: production_deployment',
      'phase: canary',
      `entered_at: ${at(0).toISOString()}`,
      'enabled: true',
      ''
    ].join('\n'),
    ...files
  })
}

function snapshot(dir: string, text: string): void {
  mkdirSync(join(dir, '.phasegate', 'metrics'), { recursive: true })
  writeFileSync(join(dir, METRICS), text)
}

describe('the file provider', () => {
  it('.nan for one metric is no data for it alone; a trigger on another metric still rolls back', async () => {
    const dir = inCanary()
    snapshot(
      dir,
      'error_rate: 0.05\nperformance_degradation: 0.01\nuser_satisfaction: .nan\nsystem_failure: 0\n'
    )
    const run = await cli(dir, 'tick', '--now', at(2).toISOString())
    expect(run.code, run.err).toBe(0)
    expect(run.out).toContain('ROLL BACK canary -> staging')
    expect(sh(dir, 'git', 'log', '-1', '--format=%B')).toContain('Phasegate-Kind: rollback')
  })

  it('says why a non-finite value is no data, naming the file', async () => {
    const dir = inCanary()
    snapshot(
      dir,
      'error_rate: .inf\nperformance_degradation: { value: .nan, samples: 10 }\nuser_satisfaction: 0.99\n'
    )
    const run = await cli(dir, 'status', '--json', '--now', at(2).toISOString())
    expect(run.code, run.err).toBe(0)
    const [report] = JSON.parse(run.out)
    const gate = report.decision.gates.find((g: { gate: string }) => g.gate === 'success_criteria')
    expect(gate.outcome).toBe('pending')
    expect(gate.reason).toContain(`error_rate: the value is +Inf in ${METRICS}`)
    expect(gate.reason).toContain(`performance_degradation: the value is NaN in ${METRICS}`)
  })

  it('a negative error rate in a snapshot does not advance', async () => {
    const dir = inCanary()
    snapshot(
      dir,
      `${Object.entries({ ...HEALTHY, error_rate: -0.5 })
        .map(([k, v]) => `${k}: ${v}`)
        .join('\n')}\n`
    )
    const run = await cli(dir, 'tick', '--approved-by', 'alice', '--now', at(30).toISOString())
    expect(run.code, run.err).toBe(0)
    expect(run.out).toContain('hold at canary')
    expect(run.out).toContain('-0.5 is below 0, which a rate cannot be')
    expect(sh(dir, 'git', 'log', '-1', '--format=%s')).toBe('baseline')
  })
})

describe('the http provider', () => {
  let server: TestServer
  beforeAll(async () => {
    server = await startServer(({ url }, response) => {
      const metric = url.searchParams.get('m')
      const values: Record<string, unknown> = {
        error_rate: -0.5,
        performance_degradation: 'NaN',
        user_satisfaction: 0.99,
        response_time: 800,
        system_failure: 0
      }
      sendJson(response, 200, { value: values[metric ?? ''] ?? null })
    })
  })
  afterAll(async () => {
    await server?.close()
  })

  it('impossible and non-finite answers are no data, and nothing advances on them', async () => {
    const policy = SEED_POLICY_TEXT.replace(
      'deployment:',
      [
        'metrics:',
        '  provider: http',
        `  url: ${server.url}/q?m={{query}}`,
        '  value_path: $.value',
        '  queries:',
        '    error_rate: error_rate',
        '    performance_degradation: performance_degradation',
        '    user_satisfaction: user_satisfaction',
        '    response_time: response_time',
        '    accuracy: accuracy',
        '    cost_per_request: cost_per_request',
        '    system_failure: system_failure',
        'deployment:'
      ].join('\n')
    )
    const dir = inCanary({ 'policies/production_deployment.yaml': policy })
    const run = await cli(dir, 'tick', '--approved-by', 'alice', '--now', at(30).toISOString())
    expect(run.code, run.err).toBe(0)
    expect(run.out).toContain('hold at canary')
    expect(run.out).toContain('-0.5 is below 0, which a rate cannot be')
    expect(run.out).toContain('the value is NaN')
    expect(sh(dir, 'git', 'log', '-1', '--format=%s')).toBe('baseline')
  })
})
