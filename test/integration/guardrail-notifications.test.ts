import { readFileSync } from 'node:fs'
import { afterEach, describe, expect, it } from 'vitest'
import { parse } from 'yaml'
import { startServer, type TestServer } from '../support/http-server.js'
import { at } from '../support/policies.js'
import { cli, tempRepo, writeMetrics } from '../support/repo.js'

// Guardrail verdicts reach notification targets from the CLI: the documented guardrail rollout
// (docs/guardrails.md) with a webhook target listening for guardrail_verdict, a receiver on
// 127.0.0.1.

const DOC = readFileSync(new URL('../../docs/guardrails.md', import.meta.url), 'utf8')
const [POLICY, SNAPSHOT] = [...DOC.matchAll(/^```yaml\n([\s\S]*?)^```/gm)].map(m => m[1]!)
const SECRET = 'PHASEGATE_TEST_GUARDRAIL_HOOK'

const servers: TestServer[] = []
afterEach(async () => {
  delete process.env[SECRET]
  await Promise.all(servers.splice(0).map(s => s.close()))
})

describe('guardrail_verdict notifications', () => {
  it('a regression is told as a "worse" verdict with the rollback', async () => {
    const policy = `${POLICY!}
notifications:
  targets:
    - name: experiments
      type: webhook
      url_secret: ${SECRET}
      events: [guardrail_verdict]
`
    const dir = tempRepo({ 'policies/checkout.yaml': policy })
    writeMetrics(dir, {}, 'checkout')
    await cli(dir, 'init', '--now', at(0).toISOString())
    expect(
      (await cli(dir, 'tick', '--approved-by', 'alice', '--now', at(1).toISOString())).out
    ).toContain('ADVANCE staging -> canary')
    const server = await startServer((_request, response) => void response.end('ok'))
    servers.push(server)
    process.env[SECRET] = server.url
    writeMetrics(dir, parse(SNAPSHOT!), 'checkout')
    const run = await cli(dir, 'tick', '--now', at(3).toISOString())
    expect(run.code, run.err).toBe(0)
    expect(run.out).toContain('ROLL BACK canary -> staging')
    expect(run.out).toContain('notified experiments: checkout guardrail_verdict (high)')
    expect(server.received).toHaveLength(1)
    expect(JSON.parse(server.received[0]!.body)).toMatchObject({
      version: 1,
      event: 'guardrail_verdict',
      severity: 'high',
      feature: 'checkout'
    })
  })
})
