import { readFileSync } from 'node:fs'
import { describe, expect, it, onTestFinished } from 'vitest'
import { parse, parseDocument } from 'yaml'
import { startServer } from '../support/http-server.js'
import { at } from '../support/policies.js'
import { cli, tempRepo, transitionsIn, writeMetrics } from '../support/repo.js'

// The complete example of docs/guardrails.md, run through the CLI with the file provider: the
// policy and the snapshot are the documentation's own YAML blocks.

const DOC = readFileSync(new URL('../../docs/guardrails.md', import.meta.url), 'utf8')
const [POLICY, SNAPSHOT] = [...DOC.matchAll(/^```yaml\n([\s\S]*?)^```/gm)].map(m => m[1]!)

const groups = (control: [number, number], treatment: [number, number]) => ({
  groups: {
    control: { error_rate: { value: control[0], samples: control[1] } },
    treatment: { error_rate: { value: treatment[0], samples: treatment[1] } }
  }
})

/** The documented rollout, moved on to canary (10% treatment) at hour 1. */
async function atCanary(): Promise<string> {
  const dir = tempRepo({ 'policies/checkout.yaml': POLICY! })
  writeMetrics(dir, {}, 'checkout')
  await cli(dir, 'init', '--now', at(0).toISOString())
  const toCanary = await cli(dir, 'tick', '--approved-by', 'alice', '--now', at(1).toISOString())
  expect(toCanary.out).toContain('ADVANCE staging -> canary')
  return dir
}

describe('guardrails through the CLI (file provider, docs/guardrails.md)', () => {
  it('the documented snapshot, a 10% regression in treatment, rolls back with the comparison in the trailers', async () => {
    const dir = await atCanary()
    writeMetrics(dir, parse(SNAPSHOT!), 'checkout')
    const run = await cli(dir, 'tick', '--now', at(3).toISOString())
    expect(run.out).toContain('ROLL BACK canary -> staging')
    expect(run.out).toMatch(
      /error_rate: treatment worse beyond the margin: \+10\.00% \[\+6\.42%, \+13\.58%\]/
    )
    const [rollback] = await transitionsIn(dir, 'checkout')
    expect(rollback!.kind).toBe('rollback')
    expect(rollback!.evidence).toEqual([
      {
        gate: 'guardrail: error_rate (margin 5.00%)',
        metric: 'error_rate',
        value: 0.1,
        threshold: '<= +0.05 vs control (alpha 0.05)',
        result: 'fired',
        interval: [expect.closeTo(0.0642, 4), expect.closeTo(0.1358, 4)],
        pValue: expect.closeTo(1.12e-17, 19),
        n: { control: 9_000_000, treatment: 1_000_000 }
      }
    ])
  })

  it('an A/A rollout advances once the guardrail shows the treatment within the margin', async () => {
    const dir = await atCanary()
    writeMetrics(dir, groups([0.01, 9_000_000], [0.01, 1_000_000]), 'checkout')
    const status = await cli(dir, 'status', '--now', at(3).toISOString())
    expect(status.out).toMatch(
      /\[pass\] guardrail: error_rate \(margin 5\.00%\)\s+error_rate: not worse than the margin: \+0\.00% \[-3\.40%, \+3\.40%\] vs control \(p = 1\.00; n control 9000000, treatment 1000000\)/
    )
    const run = await cli(dir, 'tick', '--now', at(3).toISOString())
    expect(run.out).toContain('ADVANCE canary -> full')
    const [advance] = await transitionsIn(dir, 'checkout')
    expect(advance!.evidence).toContainEqual(
      expect.objectContaining({
        gate: 'guardrail: error_rate (margin 5.00%)',
        result: 'pass',
        n: { control: 9_000_000, treatment: 1_000_000 }
      })
    )
  })

  it('holds while the evidence is not yet enough either way', async () => {
    const dir = await atCanary()
    writeMetrics(dir, groups([0.01, 900_000], [0.0102, 100_000]), 'checkout')
    const run = await cli(dir, 'tick', '--now', at(3).toISOString())
    expect(run.out).toMatch(/hold at canary: .*guardrail: error_rate \(margin 5\.00%\) pending/)
    expect(run.out).toContain('not yet shown within the margin')
  })

  it('no data is never a pass: a snapshot without groups holds', async () => {
    const dir = await atCanary()
    writeMetrics(dir, { error_rate: 0.01 }, 'checkout')
    const run = await cli(dir, 'tick', '--now', at(3).toISOString())
    expect(run.out).toMatch(
      /hold at canary: .*guardrail: error_rate \(margin 5\.00%\) pending \(no data for error_rate for group control/
    )
    expect(run.out).toMatch(/\[NO DATA\] guardrail: error_rate/)
  })

  it('a sample ratio mismatch holds and alerts, and never rolls back, however bad the treatment looks', async () => {
    const dir = await atCanary()
    // 20% of the observations at a 10% exposure: the split itself is wrong.
    writeMetrics(dir, groups([0.01, 8_000_000], [0.02, 2_000_000]), 'checkout')
    const run = await cli(dir, 'tick', '--now', at(3).toISOString())
    expect(run.out).toMatch(/hold at canary: .*sample ratio mismatch/)
    expect(run.out).toMatch(/\[high\] error_rate: sample ratio mismatch/)
    expect(run.out).not.toContain('ROLL BACK')
  })

  it('on_fire: observe reports the regression and rolls nothing back; pause pauses the rollout', async () => {
    for (const [onFire, expected, says] of [
      ['observe', 'ADVANCE canary -> full', 'observe-only, nothing rolled back'],
      ['pause', 'PAUSE at canary', 'automatic pause (on_fire: pause)']
    ] as const) {
      const dir = tempRepo({
        'policies/checkout.yaml': POLICY!.replace(
          '    # on_fire: rollback # rollback (default) | pause | observe',
          `    on_fire: ${onFire}`
        )
      })
      writeMetrics(dir, {}, 'checkout')
      await cli(dir, 'init', '--now', at(0).toISOString())
      await cli(dir, 'tick', '--approved-by', 'alice', '--now', at(1).toISOString())
      writeMetrics(dir, parse(SNAPSHOT!), 'checkout')
      const run = await cli(dir, 'tick', '--now', at(3).toISOString())
      expect(run.out, onFire).toContain(expected)
      expect(run.out, onFire).toContain(says)
      expect(run.out, onFire).not.toContain('ROLL BACK')
      // A pause is a transition like any other: committed, and held until an operator resumes.
      const state = readFileSync(`${dir}/.phasegate/state/checkout.yaml`, 'utf8')
      expect(/^paused:/m.test(state), `${onFire}: ${state}`).toBe(onFire === 'pause')
    }
  })
})

describe('a snapshot taken before the phase was entered', () => {
  it("is no data, not this phase's evidence: the guardrail holds instead of rolling back", async () => {
    const dir = await atCanary()
    writeMetrics(
      dir,
      { ...parse(SNAPSHOT!), as_of: new Date(at(0.5).getTime()).toISOString() },
      'checkout'
    )
    const run = await cli(dir, 'tick', '--now', at(3).toISOString())
    expect(run.out).not.toContain('ROLL BACK')
    expect(run.out).toMatch(
      /hold at canary: .*guardrail: error_rate \(margin 5\.00%\) pending \(no data for error_rate for group control: it was taken at .*, before canary was entered/
    )
  })
})

describe('guardrails through the http provider', () => {
  it('reads each group with its sample count (sample_paths) over the time since the phase was entered, and rolls back a 10% regression', async () => {
    const counts = { control: [0.01, 9_000_000], treatment: [0.011, 1_000_000] } as const
    const server = await startServer(({ url }, response) => {
      const [, group] = (url.searchParams.get('q') ?? '').split(':')
      const [rate, count] = counts[group as keyof typeof counts]
      response.setHeader('Content-Type', 'application/json')
      response.end(JSON.stringify({ data: { rate, requests: count } }))
    })
    onTestFinished(() => server.close())
    const doc = parseDocument(POLICY!)
    doc.set('metrics', {
      provider: 'http',
      url: `${server.url}/query?q={{query}}`,
      value_path: '$.data.rate',
      sample_paths: { error_rate: '$.data.requests' },
      group_queries: { error_rate: 'error_rate:{{group}}:{{window}}' }
    })
    const dir = tempRepo({ 'policies/checkout.yaml': doc.toString() })
    await cli(dir, 'init', '--now', at(0).toISOString())
    await cli(dir, 'tick', '--approved-by', 'alice', '--now', at(1).toISOString())
    const run = await cli(dir, 'tick', '--now', at(3).toISOString())
    expect(run.out).toContain('ROLL BACK canary -> staging')
    expect(server.received.map(r => decodeURIComponent(r.url))).toEqual(
      expect.arrayContaining([
        '/query?q=error_rate:control:7200s',
        '/query?q=error_rate:treatment:7200s'
      ])
    )
    const [rollback] = await transitionsIn(dir, 'checkout')
    expect(rollback!.evidence[0]).toMatchObject({
      result: 'fired',
      n: { control: 9_000_000, treatment: 1_000_000 }
    })
  })
})
