import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { Ajv2020 } from 'ajv/dist/2020.js'
import { afterEach, describe, expect, it } from 'vitest'
import { parse } from 'yaml'
import { parsePolicyText } from '../../src/policy/load.js'
import { startServer, type TestServer } from '../support/http-server.js'
import { at, HEALTHY, SEED_POLICY_TEXT } from '../support/policies.js'
import { cli, tempRepo, writeMetrics } from '../support/repo.js'
import { rolloutAtCanary, tick } from '../support/rollouts.js'

// Notification, pause, observe-only and JSON Schema faults (issue 15) from the CLI on
// real git repositories. Each test here failed on the code before its fix.

describe("the JSON Schema refuses the notifications the CLI refuses (README's example)", () => {
  // README's "complete policy with notifications", which both accept; an editor using
  // schema/policy.schema.json shows each variant below as valid, and validate refuses it.
  const readme = readFileSync(join(import.meta.dirname, '../../README.md'), 'utf8')
  const example = /A complete policy\nwith notifications[^\n]*\n\n```yaml\n([\s\S]*?)```/.exec(
    readme
  )![1]!
  const schema = JSON.parse(
    readFileSync(join(import.meta.dirname, '../../schema/policy.schema.json'), 'utf8')
  ) as object
  const validate = new Ajv2020({ strict: false, allErrors: true }).compile(schema)
  it('the example is valid for both', () => {
    expect(() => parsePolicyText(example, 'policies/checkout.yaml')).not.toThrow()
    expect(validate(parse(example)), JSON.stringify(validate.errors)).toBe(true)
  })
  const variants: Array<[string, string, string]> = [
    ['a bare-number timeout', 'notifications:\n', 'notifications:\n  timeout: 5\n'],
    ['a timeout that is not a duration', 'notifications:\n', 'notifications:\n  timeout: soon\n'],
    ['min_severity: low', 'min_severity: high', 'min_severity: low'],
    [
      'a url_secret not named like a variable',
      'url_secret: AUDIT_HOOK_URL',
      'url_secret: audit-hook-url'
    ],
    [
      'signing_secret on a slack target',
      'url_secret: SLACK_RELEASES_URL }',
      'url_secret: SLACK_RELEASES_URL, signing_secret: SLACK_KEY }'
    ]
  ]
  it('a timeout is valid for the JSON Schema exactly when validate takes it (ms and s forms)', () => {
    const timeouts = ['5s', '30s', '0.5s', '29.99s', '500ms', '30000ms', '1.5ms', ' 10 s ']
    const refused = ['0s', '0ms', '30.5s', '31s', '30001ms', '60s', '1m', '5', 'soon', '0.0s']
    for (const [timeout, valid] of [
      ...timeouts.map(t => [t, true] as const),
      ...refused.map(t => [t, false] as const)
    ]) {
      const text = example.replace('notifications:\n', `notifications:\n  timeout: '${timeout}'\n`)
      let cli = true
      try {
        parsePolicyText(text, 'policies/checkout.yaml')
      } catch {
        cli = false
      }
      expect([timeout, cli]).toEqual([timeout, valid])
      expect([timeout, validate(parse(text))]).toEqual([timeout, valid])
    }
  })
  for (const [what, from, to] of variants)
    it(`${what}: refused by the CLI and by the JSON Schema`, () => {
      const text = example.replace(from, to)
      expect(text).not.toBe(example)
      expect(() => parsePolicyText(text, 'policies/checkout.yaml')).toThrow()
      expect(validate(parse(text)), 'the JSON Schema accepts it').toBe(false)
    })
})

describe("on-call hears a pausing trigger as it hears the trial beside it (docs/operate.md's example)", () => {
  const servers: TestServer[] = []
  afterEach(async () => {
    delete process.env.NOTIFY_FAULTS_ONCALL_URL
    await Promise.all(servers.splice(0).map(s => s.close()))
  })
  // docs/operate.md's triggers (a pausing latency trigger and an observe-only trial, neither with
  // an alert rule) and docs/notifications.md's on-call target (min_severity high, its events).
  const policy = (trigger: string) =>
    SEED_POLICY_TEXT.replace(
      '    - performance_degradation > 0.3\n',
      `    - performance_degradation > 0.3\n    - ${trigger}\n`
    ).concat(
      '\nnotifications:\n  targets:\n    - name: on-call\n      type: webhook\n      url_secret: NOTIFY_FAULTS_ONCALL_URL\n      events: [emergency_rollback, kill_switch, rollback, alert_opened, alert_escalated]\n      min_severity: high\n'
    )
  async function firedAtCanary(trigger: string, metrics: Record<string, number>) {
    const server = await startServer((_request, response) => void response.end('ok'))
    servers.push(server)
    process.env.NOTIFY_FAULTS_ONCALL_URL = server.url
    const dir = await rolloutAtCanary(policy(trigger))
    writeMetrics(dir, { ...HEALTHY, ...metrics })
    const run = await tick(dir, 5)
    return { run, received: server.received.length }
  }

  it('the observe-only trial firing reaches on-call (alert_opened, high)', async () => {
    const { run, received } = await firedAtCanary(
      '{ when: checkout_errors > 0.01, on_fire: observe }',
      { checkout_errors: 0.5 }
    )
    expect(run.out).toMatch(/\[FIRED\] checkout_errors/)
    expect(received, run.out + run.err).toBeGreaterThan(0)
  })

  it('the pausing trigger firing 5x past its threshold reaches on-call too', async () => {
    const { run, received } = await firedAtCanary(
      '{ when: latency_p99_ms > 900, on_fire: pause }',
      { latency_p99_ms: 5000 }
    )
    expect(run.out).toContain('PAUSE at canary')
    // Today: "pause" is told at medium and no alert is raised, so a high target hears nothing,
    // while the weaker observe-only trial above does reach it.
    expect(received, run.out + run.err).toBeGreaterThan(0)
  })
})

describe('the CLI tells an alert that comes back (docs: once per event, not once per phase)', () => {
  const servers: TestServer[] = []
  afterEach(async () => {
    delete process.env.NOTIFY_FAULTS_ALERTS_URL
    await Promise.all(servers.splice(0).map(s => s.close()))
  })
  /**
   * A rollout at canary whose on-call webhook, a receiver on 127.0.0.1, hears alert_opened and
   * alert_resolved from `minSeverity` up.
   */
  async function alertedAtCanary(minSeverity: 'medium' | 'high') {
    const server = await startServer((_request, response) => void response.end('ok'))
    servers.push(server)
    process.env.NOTIFY_FAULTS_ALERTS_URL = server.url
    const dir = await rolloutAtCanary(
      SEED_POLICY_TEXT.concat(
        `\nnotifications:\n  targets:\n    - { name: on-call, type: webhook, url_secret: NOTIFY_FAULTS_ALERTS_URL, events: [alert_opened, alert_resolved], min_severity: ${minSeverity} }\n`
      )
    )
    return { dir, server }
  }
  /** The healthy snapshot with response_time dropped, as an exporter may for a tick. */
  const WITHOUT_RESPONSE_TIME = Object.fromEntries(
    Object.entries(HEALTHY).filter(([metric]) => metric !== 'response_time')
  )

  it('response_time critical, recovered, then critical again an hour later in the same phase is told twice', async () => {
    const { dir, server } = await alertedAtCanary('high')
    // response_time has alerts (warning 5000ms, critical 10000ms) and no rollback trigger.
    writeMetrics(dir, { ...HEALTHY, response_time: 25000 })
    expect((await tick(dir, 3)).code).toBe(0)
    expect(server.received).toHaveLength(1)
    writeMetrics(dir, HEALTHY)
    expect((await tick(dir, 4)).code).toBe(0)
    writeMetrics(dir, { ...HEALTHY, response_time: 25000 })
    const again = await tick(dir, 5)
    expect(again.out).toMatch(/\[critical\] response_time/)
    // A new incident, not a re-run of the first: on-call must hear it.
    expect(server.received.length, again.out).toBe(2)
    // A re-run of that tick, and a later tick that still sees it, are the same incident.
    await tick(dir, 5)
    await tick(dir, 6)
    expect(server.received.length).toBe(2)
  })

  it('the CLI tells alert_resolved once when the metric reads back under warning, never on no data', async () => {
    const { dir, server } = await alertedAtCanary('medium')
    const kinds = () => server.received.map(r => (JSON.parse(r.body) as { event: string }).event)
    writeMetrics(dir, { ...HEALTHY, response_time: 25000 })
    await tick(dir, 3)
    expect(kinds()).toEqual(['alert_opened'])
    writeMetrics(dir, WITHOUT_RESPONSE_TIME)
    await tick(dir, 4)
    expect(kinds()).toEqual(['alert_opened'])
    writeMetrics(dir, HEALTHY)
    const resolved = await tick(dir, 5)
    expect(kinds(), resolved.out).toEqual(['alert_opened', 'alert_resolved'])
    await tick(dir, 5)
    await tick(dir, 6)
    expect(kinds()).toEqual(['alert_opened', 'alert_resolved'])
  })

  it('an alert whose metric reads no data for a tick is the same incident when it reads critical again', async () => {
    const { dir, server } = await alertedAtCanary('high')
    writeMetrics(dir, { ...HEALTHY, response_time: 25000 })
    expect((await tick(dir, 3)).code).toBe(0)
    expect(server.received).toHaveLength(1)
    // The exporter drops response_time for a tick: no data is no recovery.
    writeMetrics(dir, WITHOUT_RESPONSE_TIME)
    await tick(dir, 4)
    writeMetrics(dir, { ...HEALTHY, response_time: 25000 })
    const again = await tick(dir, 5)
    expect(again.out).toMatch(/\[critical\] response_time/)
    expect(server.received.length, again.out).toBe(1)
  })
})

describe('an observe-only guardrail is "reported and alerted", as its on fire line says', () => {
  it("docs/guardrails.md's policy with on_fire: observe and the docs' regressed snapshot raises an alert", async () => {
    const doc = readFileSync(join(import.meta.dirname, '../../docs/guardrails.md'), 'utf8')
    const [policy, snapshot] = [...doc.matchAll(/^```yaml\n([\s\S]*?)^```/gm)].map(m => m[1]!)
    const observed = policy!.replace(
      '# on_fire: rollback # rollback (default) | pause | observe',
      'on_fire: observe'
    )
    expect(observed).not.toBe(policy)
    const dir = tempRepo({ 'policies/checkout.yaml': observed })
    writeMetrics(dir, {}, 'checkout')
    await cli(dir, 'init', '--now', at(0).toISOString())
    await cli(dir, 'tick', '--approved-by', 'alice', '--now', at(1).toISOString()) // -> canary
    writeMetrics(dir, parse(snapshot!) as Record<string, unknown>, 'checkout')
    const run = await cli(dir, 'status', '--now', at(3).toISOString())
    expect(run.out).toContain('observe-only: reported and alerted')
    // docs/operate.md: on_fire values "mean the same in both places"; observe: "alerts are raised".
    expect(run.out, run.out).not.toContain('alerts: none')
    expect(run.out).toMatch(/\[high\] observe-only guardrail: error_rate/)
    // The same alert in --json, with the guardrail that raised it.
    const json = await cli(dir, 'status', '--json', '--now', at(3).toISOString())
    expect(json.out).toContain('"metric": "guardrail_error_rate"')
  })
})
