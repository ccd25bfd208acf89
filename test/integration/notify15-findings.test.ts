import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { main } from '../../src/cli.js'
import { at, HEALTHY, SEED_POLICY_TEXT } from '../support/policies.js'
import { startServer, type TestServer } from '../support/http-server.js'
import { cli, tempRepo, writeMetrics } from '../support/repo.js'
import { rolloutAtCanary, tick } from '../support/rollouts.js'

// What a person (or a retry wrapper) reads from the CLI's exit status when only a notification
// failed, and what a fired observe-only trigger tells people. Real repositories, a receiver on
// 127.0.0.1.

/** The exit status of a run whose transitions (if any) landed and whose only failure was a notification. */
const LANDED_NOTIFICATION_FAILED = 3

/** The seed policy with one operator and a webhook target whose secret is never set. */
const UNSET_HOOK = SEED_POLICY_TEXT.replace(
  'manual_approval_required: false',
  'manual_approval_required: false\n  operators: [olga]'
).concat(
  '\nnotifications:\n  targets:\n    - { name: on-call, type: webhook, url_secret: NOTIFY15_UNSET_HOOK }\n'
)

const asOlga = (dir: string, hours: number, ...args: string[]) =>
  cli(dir, ...args, '--reason', 'incident', '--operator', 'olga', '--now', at(hours).toISOString())

/** A repository whose rollout stands at canary, its notification target's secret unset. */
async function atCanary(): Promise<string> {
  delete process.env.NOTIFY15_UNSET_HOOK
  return rolloutAtCanary(UNSET_HOOK)
}

describe('a landed transition whose only failure is a notification exits 3, never 1', () => {
  it('rollback exits 3 (landed; a notification failed), not 1 (refused): a re-run would step back again', async () => {
    const dir = await atCanary()
    const run = await asOlga(dir, 3, 'rollback')
    expect(run.out).toContain('rollback production_deployment: canary -> staging; committed')
    expect(run.out).toContain('NOTIFICATION FAILED on-call')
    expect(run.code, run.out + run.err).toBe(LANDED_NOTIFICATION_FAILED)
    expect(run.err).toMatch(/landed; .*do not run it again/)
  })

  it('rollback --emergency exits 3 when only its notification failed', async () => {
    const dir = await atCanary()
    const run = await asOlga(dir, 3, 'rollback', '--emergency')
    expect(run.out).toContain('kill switch OFF; committed')
    expect(run.code, run.out + run.err).toBe(LANDED_NOTIFICATION_FAILED)
  })

  it('pause and resume exit 3 when only their notification failed', async () => {
    const dir = await atCanary()
    const paused = await asOlga(dir, 3, 'pause')
    expect(paused.out).toContain('committed')
    expect(paused.code, paused.out + paused.err).toBe(LANDED_NOTIFICATION_FAILED)
    const resumed = await asOlga(dir, 4, 'resume')
    expect(resumed.out).toContain('committed')
    expect(resumed.code, resumed.out + resumed.err).toBe(LANDED_NOTIFICATION_FAILED)
  })

  it('a tick that committed its transition exits 3 when only a notification failed', async () => {
    delete process.env.NOTIFY15_UNSET_HOOK
    const dir = tempRepo({ 'policies/production_deployment.yaml': UNSET_HOOK })
    writeMetrics(dir, HEALTHY)
    await cli(dir, 'init', '--now', at(0).toISOString())
    const run = await tick(dir, 1)
    expect(run.out).toMatch(/committed [0-9a-f]{10}/)
    expect(run.code, run.out + run.err).toBe(LANDED_NOTIFICATION_FAILED)
  })

  it('a tick with a policy that does not load still exits 1, whatever the notifications did', async () => {
    delete process.env.NOTIFY15_UNSET_HOOK
    const dir = tempRepo({
      'policies/production_deployment.yaml': UNSET_HOOK,
      'policies/broken.yaml': 'feature: broken\ndeployment: [\n'
    })
    writeMetrics(dir, HEALTHY)
    await cli(
      dir,
      'init',
      '--policy',
      'policies/production_deployment.yaml',
      '--now',
      at(0).toISOString()
    )
    const run = await tick(dir, 1)
    expect(run.code, run.out + run.err).toBe(1)
  })

  it('docs/operate.md and docs/notifications.md read exit 1 and 3 the same way', () => {
    const doc = (name: string) =>
      readFileSync(join(import.meta.dirname, '../../docs', name), 'utf8')
    const operate = doc('operate.md')
    const notifications = doc('notifications.md')
    expect(operate).toMatch(/\| 3 +\| done, every transition landed; a notification failed/)
    expect(notifications).toContain('the CLI exits 3')
    expect(notifications).not.toMatch(/exit status 1/)
  })

  it('--help documents exit 3 beside 1 (bad input or a refused transition)', async () => {
    let out = ''
    expect(await main(['--help'], { out: t => (out += t), err: () => undefined })).toBe(0)
    expect(out).toMatch(/3 .*landed.*notification failed/)
  })
})

describe('a fired observe-only trigger is reported and alerted', () => {
  const servers: TestServer[] = []
  afterEach(async () => {
    delete process.env.NOTIFY15_HOOK_URL
    await Promise.all(servers.splice(0).map(s => s.close()))
  })

  /** The seed policy with docs/operate.md's trial trigger (no alert rule) and an alert_opened target. */
  const TRIAL = SEED_POLICY_TEXT.replace(
    '    - performance_degradation > 0.3\n',
    '    - performance_degradation > 0.3\n    - { when: checkout_errors > 0.01, on_fire: observe }\n'
  ).concat(
    '\nnotifications:\n  targets:\n    - { name: on-call, type: webhook, url_secret: NOTIFY15_HOOK_URL, events: [alert_opened] }\n'
  )

  it('on a metric without an alert rule, it raises an alert and reaches the alert_opened target once', async () => {
    const server = await startServer((_request, response) => void response.end('ok'))
    servers.push(server)
    process.env.NOTIFY15_HOOK_URL = server.url
    const dir = tempRepo({ 'policies/production_deployment.yaml': TRIAL })
    writeMetrics(dir, HEALTHY)
    await cli(dir, 'init', '--now', at(0).toISOString())
    writeMetrics(dir, { ...HEALTHY, checkout_errors: 0.5 })
    // No approval: the rollout stays in development, so both ticks see the same phase entry.
    const hold = (hours: number) => cli(dir, 'tick', '--now', at(hours).toISOString())
    const run = await hold(1)
    expect(run.out).not.toContain('committed')
    expect(run.out).toMatch(/\[FIRED\] checkout_errors > 0\.01/)
    expect(run.out).toContain('observe-only: reported and alerted')
    expect(run.out, run.out).not.toContain('alerts: none')
    expect(run.out).toMatch(
      /alerts:\n\s+\[high\] observe-only trigger checkout_errors > 0.01 fired/
    )
    expect(run.code, run.out + run.err).toBe(0)
    expect(server.received, run.out + run.err).toHaveLength(1)
    expect(JSON.parse(server.received[0]!.body)).toMatchObject({
      event: 'alert_opened',
      facts: expect.objectContaining({ Metric: 'checkout_errors' })
    })
    // The same firing on the next tick is not told again.
    const again = await hold(1.5)
    expect(again.code, again.out + again.err).toBe(0)
    expect(server.received).toHaveLength(1)
  })

  it('--json tells a fired observe-only trigger from one that rolled back: onFire beside fired, and its alert', async () => {
    const dir = tempRepo({ 'policies/production_deployment.yaml': TRIAL })
    writeMetrics(dir, HEALTHY)
    await cli(dir, 'init', '--now', at(0).toISOString())
    writeMetrics(dir, { ...HEALTHY, checkout_errors: 0.5 })
    const run = await cli(dir, 'status', '--json', '--now', at(1).toISOString())
    const [report] = JSON.parse(run.out) as Array<{
      decision: {
        action: string
        triggers: Array<{ trigger: string; fired: boolean; onFire?: string }>
        alerts: Array<{ metric: string; severity: string; trigger?: string }>
      }
    }>
    const { decision } = report!
    expect(decision.action).not.toBe('rollback')
    // docs/operate.md: `fired` says the trigger's condition held; `onFire` what that did.
    const trial = decision.triggers.find(t => t.trigger.startsWith('checkout_errors'))
    expect(trial).toMatchObject({ fired: true, onFire: 'observe' })
    expect(decision.triggers.filter(t => !t.onFire)).toEqual([])
    expect(decision.alerts).toContainEqual(
      expect.objectContaining({
        metric: 'checkout_errors',
        severity: 'high',
        trigger: trial!.trigger
      })
    )
  })
})
