import { execFileSync } from 'node:child_process'
import { afterEach, describe, expect, it } from 'vitest'
import { at, HEALTHY, SEED_POLICY_TEXT } from '../support/policies.js'
import { startServer, type TestServer } from '../support/http-server.js'
import { cli, tempRepo, writeMetrics } from '../support/repo.js'

// The CLI's notifications end to end: a real repository, a real tick and rollback, a webhook
// receiver on 127.0.0.1. Its URL reaches phasegate as the policy's url_secret NAME, set in the
// environment.

const SECRET = 'PHASEGATE_TEST_HOOK_URL'

function policyWith(timeout = '300ms', retries = 1): string {
  return `${SEED_POLICY_TEXT}
notifications:
  timeout: ${timeout}
  retries: ${retries}
  targets:
    - name: sre
      type: webhook
      url_secret: ${SECRET}
      events: [rollback, emergency_rollback, alert_opened, advanced, resume]
      min_severity: medium
`
}

const servers: TestServer[] = []
afterEach(async () => {
  delete process.env[SECRET]
  await Promise.all(servers.splice(0).map(s => s.close()))
})

function headKind(dir: string): string {
  return execFileSync('git', ['log', '-1', '--format=%(trailers:key=Phasegate-Kind,valueonly)'], {
    cwd: dir,
    encoding: 'utf8'
  }).trim()
}

/** A repository whose rollout stands at staging, its metrics healthy. */
async function atStaging(timeout?: string, retries?: number): Promise<string> {
  const dir = tempRepo({ 'policies/production_deployment.yaml': policyWith(timeout, retries) })
  writeMetrics(dir, HEALTHY)
  expect((await cli(dir, 'init', '--now', at(0).toISOString())).code).toBe(0)
  const advanced = await cli(dir, 'tick', '--approved-by', 'alice', '--now', at(1).toISOString())
  expect(advanced.out).toContain('staging')
  return dir
}

describe('CLI notifications', () => {
  it('a dead webhook neither delays nor blocks the rollback commit; the run exits 3 (landed, a notification failed) at the end and says so', async () => {
    const dir = await atStaging('400ms', 1)
    // The receiver never answers; at each request it notes what HEAD already is.
    const headAtRequest: string[] = []
    const server = await startServer(() => {
      headAtRequest.push(headKind(dir))
    })
    servers.push(server)
    process.env[SECRET] = `${server.url}/hook/secret-token`
    writeMetrics(dir, { ...HEALTHY, error_rate: 0.05 })
    const run = await cli(dir, 'tick', '--now', at(2).toISOString())
    expect(headKind(dir)).toBe('rollback')
    // Every request came after the rollback commit was made.
    expect(headAtRequest.length).toBeGreaterThan(0)
    expect(headAtRequest.every(kind => kind === 'rollback')).toBe(true)
    expect(run.out).toMatch(/committed [0-9a-f]{10}/)
    expect(run.out).toContain(
      'NOTIFICATION FAILED sre: production_deployment rollback after 2 attempts: no answer within 400 ms'
    )
    expect(run.out + run.err).not.toContain('secret-token')
    // Not 1: a person or a retry wrapper must not read the landed rollback as refused.
    expect(run.code).toBe(3)
  })

  it('a rollback and its alert are each told once; a second tick on the same evidence tells nothing again', async () => {
    const dir = await atStaging()
    const server = await startServer((_request, response) => void response.end('ok'))
    servers.push(server)
    process.env[SECRET] = server.url
    writeMetrics(dir, { ...HEALTHY, error_rate: 0.016 })
    const first = await cli(dir, 'tick', '--now', at(2).toISOString())
    expect(first.code, first.err).toBe(0)
    expect(first.out).toContain('notified sre: production_deployment alert_opened (medium)')
    const again = await cli(dir, 'tick', '--now', at(2.5).toISOString())
    expect(again.code, again.err).toBe(0)
    expect(again.out).toContain('already notified sre: production_deployment alert_opened')
    expect(server.received).toHaveLength(1)
    expect(JSON.parse(server.received[0]!.body)).toMatchObject({
      version: 1,
      event: 'alert_opened',
      severity: 'medium'
    })
  })

  it('an emergency rollback from the CLI is told as critical with the on-call team named', async () => {
    const dir = await atStaging()
    const server = await startServer((_request, response) => void response.end('ok'))
    servers.push(server)
    process.env[SECRET] = server.url
    const run = await cli(
      dir,
      'rollback',
      '--emergency',
      '--reason',
      'pager went off',
      '--operator',
      'olga',
      '--now',
      at(2).toISOString()
    )
    expect(run.code, run.err).toBe(0)
    expect(run.out).toContain('notified sre: production_deployment emergency_rollback (critical)')
    expect(JSON.parse(server.received[0]!.body)).toMatchObject({
      event: 'emergency_rollback',
      also: ['kill_switch'],
      oncall: ['engineering'],
      text: expect.stringContaining('pager went off')
    })
    const resumed = await cli(
      dir,
      'resume',
      '--reason',
      'fixed',
      '--operator',
      'olga',
      '--now',
      at(3).toISOString()
    )
    expect(resumed.code, resumed.err).toBe(0)
    expect(resumed.out).toContain('notified sre: production_deployment resume (medium)')
    expect(JSON.parse(server.received[1]!.body)).toMatchObject({ event: 'resume', oncall: [] })
  })
})
