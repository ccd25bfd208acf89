import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { initialState, renderState } from '../../src/state/file.js'
import { at, HEALTHY, seedPolicy } from '../support/policies.js'
import { cli, tempRepo, writeMetrics, transitionsIn } from '../support/repo.js'
import { policy as parsePolicy, SEED_POLICY_TEXT } from '../support/policies.js'
import { sendJson, startServer, type TestServer } from '../support/http-server.js'

// After a transition, a metric trigger fires again only on evidence whose window starts after
// it: one bad reading costs one phase, not one phase per tick.

const STATE = '.phasegate/state/production_deployment.yaml'
const minutes = (base: Date, n: number) => new Date(base.getTime() + n * 60_000)

/** The seed rollout at its final phase since T0. */
function atFullProduction(): string {
  const policy = seedPolicy()
  return tempRepo({
    'policies/production_deployment.yaml': SEED_POLICY_TEXT,
    [STATE]: renderState({ ...initialState(policy, at(0)), phase: 'full_production' })
  })
}

async function rollbacks(dir: string): Promise<string[]> {
  return (await transitionsIn(dir, 'production_deployment'))
    .filter(h => h.kind === 'rollback')
    .map(h => `${h.from} -> ${h.to}`)
}

describe('one reading, one rollback', () => {
  it('two ticks a minute apart on the same bad snapshot roll back once', async () => {
    const dir = atFullProduction()
    writeMetrics(dir, { ...HEALTHY, error_rate: 0.05 })
    const first = await cli(dir, 'tick', '--now', at(10).toISOString())
    expect(first.code, first.err).toBe(0)
    expect(first.out).toContain('ROLL BACK full_production -> limited_production')
    const second = await cli(dir, 'tick', '--now', minutes(at(10), 1).toISOString())
    expect(second.code, second.err).toBe(0)
    expect(second.out).not.toContain('ROLL BACK')
    expect(second.out).toMatch(/before limited_production was entered/)
    expect(await rollbacks(dir)).toEqual(['full_production -> limited_production'])
    expect(readFileSync(join(dir, STATE), 'utf8')).toContain('phase: limited_production')
  })

  it('a snapshot stamped before the transition never fires again; one stamped after it does', async () => {
    const dir = atFullProduction()
    const takenAt = minutes(at(10), -1)
    writeMetrics(dir, { ...HEALTHY, error_rate: 0.05, as_of: takenAt.toISOString() })
    await cli(dir, 'tick', '--now', at(10).toISOString())
    const stale = await cli(dir, 'tick', '--now', minutes(at(10), 30).toISOString())
    expect(stale.out).not.toContain('ROLL BACK')
    expect(await rollbacks(dir)).toHaveLength(1)
    writeMetrics(dir, {
      ...HEALTHY,
      error_rate: 0.05,
      as_of: minutes(at(10), 31).toISOString()
    })
    const fresh = await cli(dir, 'tick', '--now', minutes(at(10), 31).toISOString())
    expect(fresh.out).toContain('ROLL BACK limited_production -> canary')
  })
})

let server: TestServer | undefined
afterEach(async () => {
  await server?.close()
  server = undefined
})

describe('an instant PromQL query right after a transition', () => {
  it('rate(x[5m]) one minute after the rollback is not read as news', async () => {
    // The scripted Prometheus answers every instant query with a bad error rate: the same
    // 5-minute window, most of it from before the rollback, seen again a minute later.
    server = await startServer(({ url }, response) => {
      const time = Number(url.searchParams.get('time'))
      sendJson(response, 200, {
        status: 'success',
        data: { resultType: 'vector', result: [{ metric: {}, value: [time, '0.2'] }] }
      })
    })
    const policyText = `feature: search
deployment:
  order: [canary, full]
  phases:
    canary: { user_percentage: 5 }
    full: { user_percentage: 100 }
metrics:
  provider: prometheus
  url: ${server.url}
  window: 5m
  queries:
    error_rate: sum(rate(errors[{{window}}])) / sum(rate(requests[{{window}}]))
rollback:
  automatic_triggers:
    - error_rate > 0.05
`
    const policy = parsePolicy(policyText, 'search.yaml')
    const dir = tempRepo({
      'policies/search.yaml': policyText,
      [policy.statePath]: renderState({ ...initialState(policy, at(0)), phase: 'full' })
    })
    const first = await cli(dir, 'tick', '--now', at(10).toISOString())
    expect(first.out, first.err).toContain('ROLL BACK full -> canary')
    const inCanary = await cli(dir, 'tick', '--now', minutes(at(10), 1).toISOString())
    expect(inCanary.out, inCanary.err).toContain('hold at canary')
    expect(inCanary.out).toContain('waiting for a reading taken after it')
    // Once the window lies wholly after the rollback, a still-bad rate is news: canary is the
    // first phase, so the decision says there is nothing left to roll back to.
    const later = await cli(dir, 'tick', '--now', minutes(at(10), 6).toISOString())
    expect(later.out).toContain('rollback triggered')
  })
})
