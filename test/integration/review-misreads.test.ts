// Members of issue 12's and 14's kinds found by the attack review (see the session note): each
// failed on ceb41d0. A reading's validity reads the one declaration of the metric; a crash-free
// rate is better higher; help names every option; no two policies share one of phasegate's files.
import { existsSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { knownMetric } from '../../src/engine/metric-spec.js'
import { cli, tempRepo } from '../support/repo.js'

const NOW = '2026-03-01T00:00:00Z'
const LATER = '2026-03-01T01:00:00Z'

function ladder(feature: string, a: string, extra = ''): string {
  return [
    `feature: ${feature}`,
    'deployment:',
    '  order: [a, b]',
    '  phases:',
    `    a: ${a}`,
    '    b: {user_percentage: 100}',
    extra
  ].join('\n')
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- a test reads the JSON report loosely
type Loose = any

function statusJson(run: { out: string }): Array<Record<string, Loose>> {
  return JSON.parse(run.out) as Array<Record<string, Loose>>
}

describe('no silent misreads, found by review', () => {
  it('F13 an error rate of -0.5 never passes "< 0.01", whatever follows "_rate" in its name', async () => {
    // knownMetric('error_rate_5xx') says kind: rate, but the validity check (plausible.ts) reads
    // the name's suffix only, so -0.5 passes: issue 12 item 8's own example on another name.
    expect(knownMetric('error_rate_5xx')?.kind).toBe('rate')
    const dir = tempRepo({
      'policies/f.yaml': ladder(
        'f',
        '{user_percentage: 5, success_criteria: {error_rate_5xx: "< 0.01"}}'
      )
    })
    expect((await cli(dir, 'init', '--now', NOW)).code).toBe(0)
    writeFileSync(join(dir, 'snap.yaml'), 'error_rate_5xx: -0.5\n')
    const run = await cli(dir, 'status', '--json', '--now', LATER, '--metrics', 'snap.yaml')
    const gate = statusJson(run)[0]!.decision.gates.find(
      (g: { gate: string }) => g.gate === 'success_criteria'
    )
    expect(gate.outcome).not.toBe('pass')
  })

  it('F8 crash-free / error-free metrics are not "higher is worse"', () => {
    // Sentry's and Crashlytics' crash-free rate: higher is better. Today the word "crash" wins,
    // so an experiment's metricDirection and guardrails read an improvement as a regression.
    expect(knownMetric('crash_free_rate')?.direction).not.toBe('higher_is_worse')
    expect(knownMetric('error_free_sessions')?.direction).not.toBe('higher_is_worse')
  })

  it('F10 per-command help names -h without "undefined"', async () => {
    const run = await cli(tempRepo(), 'status', '--help')
    expect(run.out + run.err).not.toMatch(/undefined/)
  })

  it('F3 two features never share one datafile path (x.yaml and x.yml)', async () => {
    const dir = tempRepo({
      'policies/pay.yaml': ladder(
        'pay',
        '{user_percentage: 50}',
        'state: .phasegate/state/x.yaml\n'
      ),
      'policies/pay2.yaml': ladder(
        'pay2',
        '{user_percentage: 10}',
        'state: .phasegate/state/x.yml\n'
      )
    })
    const validate = await cli(dir, 'validate')
    expect(validate.code).toBe(1)
    expect(validate.err).toMatch(/two policies write \.phasegate\/state\/x\.datafile\.json/)
    // Neither acts: init writes no datafile that one of them would silently lose.
    await cli(dir, 'init', '--now', NOW)
    expect(existsSync(join(dir, '.phasegate/state/x.datafile.json'))).toBe(false)
  })
})
