import { readFileSync } from 'node:fs'
import { afterEach, describe, expect, test } from 'vitest'
import { parse } from 'yaml'
import { runPhasegateFromSource } from '../../support/action-from-source.js'
import {
  hoursAfter,
  seedFiles,
  startCheckedOut,
  stateOnMain,
  writeMetrics,
  type Repo
} from '../../support/action-harness.js'
import { startServer, type TestServer } from '../../support/http-server.js'

// Guardrail verdicts from the action: told with the effect they led to (here the rollback
// commit), so a re-run that finds the rollback done tells nothing again.

const DOC = readFileSync(new URL('../../../docs/guardrails.md', import.meta.url), 'utf8')
const [POLICY, SNAPSHOT] = [...DOC.matchAll(/^```yaml\n([\s\S]*?)^```/gm)].map(m => m[1]!)

const repos: Repo[] = []
const servers: TestServer[] = []
afterEach(async () => {
  for (const repo of repos.splice(0)) await repo.cleanup()
  await Promise.all(servers.splice(0).map(s => s.close()))
})

describe('guardrail verdicts from the action', () => {
  test('a guardrail regression rolls back and its "worse" verdict reaches the webhook, keyed by the rollback commit', async () => {
    const policy = `${POLICY!}
notifications:
  targets:
    - name: experiments
      type: webhook
      url_secret: HOOK_URL
      events: [guardrail_verdict, rollback]
`
    const { gh, workspace } = await startCheckedOut(repos, seedFiles(policy, 'canary'))
    const hook = await startServer((_request, response) => void response.end('ok'))
    servers.push(hook)
    writeMetrics(workspace, parse(SNAPSHOT!), 'checkout')
    const run = await runPhasegateFromSource(gh, workspace, {
      now: hoursAfter(3),
      inputs: { 'notification-secrets': `HOOK_URL=${hook.url}` }
    })
    expect(run.exitCode, run.summary + run.stdout).toBe(0)
    expect(stateOnMain(gh, '.phasegate/state/checkout.yaml')).toMatch(/^phase: staging$/m)
    const bodies = hook.received.map(r => JSON.parse(r.body))
    expect(bodies.map(b => b.event).sort()).toEqual(['guardrail_verdict', 'rollback'])
    const verdict = bodies.find(b => b.event === 'guardrail_verdict')
    expect(verdict).toMatchObject({ severity: 'high', feature: 'checkout' })
    expect(JSON.stringify(verdict)).toContain(run.outputs['rollback-sha']!)
  })
})
