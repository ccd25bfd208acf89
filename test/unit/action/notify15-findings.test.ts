import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { landedByThisRun } from '../../../src/action/rerun.js'
import type { Rollout } from '../../../src/rollout/load.js'
import type { NotificationsConfig } from '../../../src/engine/types.js'
import { deliverNotifications } from '../../../src/notify/deliver.js'
import { alertEvent } from '../../../src/notify/events.js'
import { memoryLedger } from '../../../src/notify/ledger.js'
import { runPhasegateFromSource } from '../../support/action-from-source.js'
import {
  HEALTHY,
  hoursAfter,
  seedFiles,
  startCheckedOut,
  stateOnMain,
  writeMetrics,
  type Repo
} from '../../support/action-harness.js'
import { startServer, type TestServer } from '../../support/http-server.js'
import { SEED_POLICY_TEXT, seedPolicy } from '../../support/policies.js'

// Notification delivery from the action: what a dead receiver costs a run, what a re-run of a
// dispatched rollback does when only its notification failed, and what a fired observe-only
// trigger tells people. The GitHub emulator and receivers on 127.0.0.1.

const servers: TestServer[] = []
const repos: Repo[] = []
afterEach(async () => {
  await Promise.all(servers.splice(0).map(s => s.close()))
  for (const repo of repos.splice(0)) await repo.cleanup()
})

/** The seed rollout's repository at canary with `policyText`, checked out, its metrics `metrics`. */
async function seedAtCanary(
  policyText = `feature: production_deployment\n${SEED_POLICY_TEXT}`,
  metrics: Record<string, unknown> = HEALTHY
) {
  const started = await startCheckedOut(repos, seedFiles(policyText, 'canary'))
  writeMetrics(started.workspace, metrics)
  return started
}

/** One webhook target listening for `events`, its URL in the secret HOOK_URL. */
function webhookConfig(events: NotificationsConfig['targets'][number]['events']) {
  return {
    targets: [
      {
        name: 'on-call',
        type: 'webhook' as const,
        urlSecret: 'HOOK_URL',
        events,
        minSeverity: 'medium' as const
      }
    ],
    timeoutMs: 200,
    retries: 2
  }
}

/** Critical alert_opened events, one per metric, as ten features' alerts in one tick. */
function tenAlerts() {
  const policy = seedPolicy()
  return Array.from({ length: 10 }, (_, i) =>
    alertEvent(
      policy,
      'opened',
      { metric: `metric_${i}`, message: `metric_${i} is critical`, severity: 'critical' },
      { record: `canary@2026-03-02T09:00:00Z`, phase: 'canary', at: '2026-03-02T10:00:00Z' }
    )
  )
}

describe('a dead receiver costs a run a bounded time, whatever the number of events', () => {
  it("ten events to one receiver that never answers take about one event's retries, not ten", async () => {
    // Accepts the connection and never answers (a hung proxy).
    const server = await startServer(() => {})
    servers.push(server)
    const config: NotificationsConfig = webhookConfig(['alert_opened'])
    const started = Date.now()
    const report = await deliverNotifications([{ config, events: tenAlerts() }], {
      secrets: { HOOK_URL: server.url },
      ledger: memoryLedger(),
      now: () => new Date('2026-03-02T10:00:01Z'),
      backoffMs: 10
    })
    const elapsed = Date.now() - started
    expect(report.deliveries).toHaveLength(10)
    expect(report.deliveries.every(d => d.status === 'failed')).toBe(true)
    // The first event is retried in full; the other nine are not attempted, and say why.
    expect(report.deliveries[0]).toMatchObject({ attempts: 3, reason: 'no answer within 200 ms' })
    for (const d of report.deliveries.slice(1))
      expect(d).toMatchObject({
        attempts: 0,
        reason: expect.stringMatching(/^not attempted: on-call failed earlier in this run/)
      })
    expect(server.received).toHaveLength(3)
    expect(elapsed).toBeLessThan(2 * (config.retries + 1) * config.timeoutMs)
  }, 30_000)

  it('a refused connection marks the receiver dead too; another receiver in the same run is not affected', async () => {
    const gone = await startServer(() => {})
    const deadUrl = gone.url
    await gone.close()
    const alive = await startServer((_request, response) => void response.end('ok'))
    servers.push(alive)
    const config: NotificationsConfig = {
      ...webhookConfig(['alert_opened']),
      targets: [
        ...webhookConfig(['alert_opened']).targets,
        { ...webhookConfig(['alert_opened']).targets[0]!, name: 'chat', urlSecret: 'ALIVE_URL' }
      ]
    }
    const report = await deliverNotifications([{ config, events: tenAlerts().slice(0, 3) }], {
      secrets: { HOOK_URL: deadUrl, ALIVE_URL: alive.url },
      ledger: memoryLedger(),
      now: () => new Date('2026-03-02T10:00:01Z'),
      backoffMs: 10
    })
    const of = (target: string) => report.deliveries.filter(d => d.target === target)
    expect(of('on-call').map(d => d.attempts)).toEqual([3, 0, 0])
    expect(of('chat').map(d => d.status)).toEqual(['sent', 'sent', 'sent'])
    expect(alive.received).toHaveLength(3)
  })

  it('all delivery of a run ends by one deadline, however slow each answer is', async () => {
    // Answers every request, each just inside the timeout: alive, but slow.
    const server = await startServer((_request, response) => {
      setTimeout(() => response.end('ok'), 150)
    })
    servers.push(server)
    const started = Date.now()
    const report = await deliverNotifications(
      [{ config: webhookConfig(['alert_opened']), events: tenAlerts() }],
      {
        secrets: { HOOK_URL: server.url },
        ledger: memoryLedger(),
        now: () => new Date('2026-03-02T10:00:01Z'),
        backoffMs: 10,
        deadlineMs: 500
      }
    )
    const elapsed = Date.now() - started
    expect(elapsed).toBeLessThan(500 + 300)
    const sent = report.deliveries.filter(d => d.status === 'sent')
    const late = report.deliveries.filter(d => d.status === 'failed')
    expect(sent.length).toBeGreaterThan(0)
    expect(late.length).toBeGreaterThan(0)
    expect(sent.length + late.length).toBe(10)
    expect(late.at(-1)!.reason).toMatch(/^not attempted: the run's delivery deadline \(500 ms\)/)
  })
})

const DISPATCHED_EMERGENCY = {
  event: 'workflow_dispatch' as const,
  actor: 'alice',
  payload: { inputs: { reason: 'pager went off', mode: 'emergency' } },
  inputs: { command: 'rollback' }
}

describe('re-running a dispatched rollback never steps back twice', () => {
  it('"Re-run failed jobs" of an emergency whose only failure was its webhook reports it landed and tells only the target not yet told', async () => {
    // Two targets: chat works; on-call's secret was never added to notification-secrets.
    const chat = await startServer((_request, response) => void response.end('ok'))
    servers.push(chat)
    const policyText = `feature: production_deployment\n${SEED_POLICY_TEXT}\nnotifications:\n  targets:\n    - { name: chat, type: webhook, url_secret: CHAT_URL }\n    - { name: on-call, type: webhook, url_secret: ONCALL_URL }\n`
    const { gh, workspace } = await seedAtCanary(policyText)
    // GitHub's "Re-run failed jobs" keeps GITHUB_RUN_ID and bumps GITHUB_RUN_ATTEMPT.
    const first = await runPhasegateFromSource(gh, workspace, {
      ...DISPATCHED_EMERGENCY,
      now: hoursAfter(1),
      env: { GITHUB_RUN_ID: '777001', GITHUB_RUN_ATTEMPT: '1' },
      inputs: { ...DISPATCHED_EMERGENCY.inputs, 'notification-secrets': `CHAT_URL=${chat.url}` }
    })
    expect(stateOnMain(gh)).toMatch(/^phase: staging$/m)
    expect(first.exitCode).toBe(1)
    expect(chat.received).toHaveLength(1)
    // The failure's reason is told once in the summary and once in the log, not again in the
    // step's failure annotation (shown on the run's summary page beside the job summary).
    const reason = 'secret ONCALL_URL (url_secret) is not set'
    expect(first.summary.split(reason), first.summary).toHaveLength(2)
    expect(first.stdout.split(reason), first.stdout).toHaveLength(2)
    expect(first.stdout).toMatch(
      /::error::1 notification failed.*on-call \(production_deployment emergency_rollback\)/
    )
    // The on-call add the secret and re-run the failed job.
    const oncall = await startServer((_request, response) => void response.end('ok'))
    servers.push(oncall)
    const rerun = await runPhasegateFromSource(gh, workspace, {
      ...DISPATCHED_EMERGENCY,
      now: hoursAfter(1.02),
      env: { GITHUB_RUN_ID: '777001', GITHUB_RUN_ATTEMPT: '2' },
      inputs: {
        ...DISPATCHED_EMERGENCY.inputs,
        'notification-secrets': `CHAT_URL=${chat.url}\nONCALL_URL=${oncall.url}`
      }
    })
    expect(stateOnMain(gh), rerun.summary).toMatch(/^phase: staging$/m)
    expect(rerun.exitCode, rerun.summary).toBe(0)
    expect(rerun.stdout).toMatch(
      /already landed in [0-9a-f]{10} by an earlier attempt of this workflow run \(777001\)/
    )
    expect(rerun.summary).toContain(
      'already notified chat: production_deployment emergency_rollback'
    )
    expect(chat.received).toHaveLength(1)
    expect(oncall.received).toHaveLength(1)
    const told = JSON.parse(oncall.received[0]!.body) as { event: string; id: string }
    expect(told).toMatchObject({ event: 'emergency_rollback' })
    expect(JSON.parse(chat.received[0]!.body)).toMatchObject({ id: told.id })
    expect(rerun.outputs['rollback-sha']).toMatch(/^[0-9a-f]{40}$/)
  }, 60_000)

  it('a new dispatch (another run id) of an emergency still steps back, as a person asked', async () => {
    const { gh, workspace } = await seedAtCanary()
    for (const [i, runId] of ['777101', '777102'].entries()) {
      const run = await runPhasegateFromSource(gh, workspace, {
        ...DISPATCHED_EMERGENCY,
        now: hoursAfter(1 + i),
        env: { GITHUB_RUN_ID: runId, GITHUB_RUN_ATTEMPT: '1' }
      })
      expect(run.exitCode, run.summary).toBe(0)
    }
    expect(stateOnMain(gh)).toMatch(/^phase: development$/m)
  }, 60_000)
})

describe('the re-run check never holds a rollback back', () => {
  it('a re-run whose first attempt landed nothing (it failed before the push) rolls back', async () => {
    const { gh, workspace } = await seedAtCanary()
    const run = await runPhasegateFromSource(gh, workspace, {
      ...DISPATCHED_EMERGENCY,
      now: hoursAfter(1),
      env: { GITHUB_RUN_ID: '777301', GITHUB_RUN_ATTEMPT: '3' }
    })
    expect(run.exitCode, run.summary).toBe(0)
    expect(stateOnMain(gh)).toMatch(/^phase: staging$/m)
    expect(run.stdout).not.toContain('already landed')
  }, 60_000)

  it('a first attempt does not look; a history that cannot be read counts as not landed', async () => {
    const notARepo = mkdtempSync(join(tmpdir(), 'phasegate-no-history-'))
    const rollout = {
      root: notARepo,
      policy: { feature: 'production_deployment', statePath: 'state.yaml' }
    } as unknown as Rollout
    expect(await landedByThisRun(rollout, { id: '1', attempt: 1 }, 'emergency')).toBeUndefined()
    expect(await landedByThisRun(rollout, { id: '1', attempt: 2 }, 'emergency')).toBeUndefined()
    expect(await landedByThisRun(rollout, undefined, 'emergency')).toBeUndefined()
  })
})

describe('a dispatched pause is told like the rollback, once per run', () => {
  it('tells the pause target; a re-run of the same run says it landed and tells no one twice', async () => {
    const receiver = await startServer((_request, response) => void response.end('ok'))
    servers.push(receiver)
    const policyText = `feature: production_deployment\n${SEED_POLICY_TEXT}\nnotifications:\n  targets:\n    - { name: releases, type: webhook, url_secret: HOOK_URL, events: [pause] }\n`
    const { gh, workspace } = await seedAtCanary(policyText)
    const dispatch = (attempt: string, hours: number) =>
      runPhasegateFromSource(gh, workspace, {
        event: 'workflow_dispatch',
        actor: 'alice',
        payload: { inputs: { reason: 'payments incident' } },
        inputs: { command: 'pause', 'notification-secrets': `HOOK_URL=${receiver.url}` },
        now: hoursAfter(hours),
        env: { GITHUB_RUN_ID: '777201', GITHUB_RUN_ATTEMPT: attempt }
      })
    const first = await dispatch('1', 1)
    expect(first.exitCode, first.summary).toBe(0)
    expect(stateOnMain(gh)).toMatch(/^paused:/m)
    expect(receiver.received).toHaveLength(1)
    expect(JSON.parse(receiver.received[0]!.body)).toMatchObject({ event: 'pause' })
    // "Re-run all jobs": not refused as "already paused", and nobody is told twice.
    const rerun = await dispatch('2', 1.02)
    expect(rerun.exitCode, rerun.summary).toBe(0)
    expect(rerun.stdout).toContain('already landed in')
    expect(rerun.summary).toContain('already notified releases')
    expect(receiver.received).toHaveLength(1)
  }, 60_000)
})

describe('a dispatched graceful rollback is told as what it is', () => {
  it('waiting for review in its pull request, not as rolled back', async () => {
    const receiver = await startServer((_request, response) => void response.end('ok'))
    servers.push(receiver)
    const policyText = `feature: production_deployment\n${SEED_POLICY_TEXT}\nnotifications:\n  targets:\n    - { name: releases, type: webhook, url_secret: HOOK_URL }\n`
    const { gh, workspace } = await seedAtCanary(policyText)
    const run = await runPhasegateFromSource(gh, workspace, {
      event: 'workflow_dispatch',
      actor: 'alice',
      payload: { inputs: { reason: 'latency creeping up', mode: 'graceful' } },
      inputs: { command: 'rollback', 'notification-secrets': `HOOK_URL=${receiver.url}` },
      now: hoursAfter(1)
    })
    expect(run.exitCode, run.summary).toBe(0)
    expect(stateOnMain(gh)).toMatch(/^phase: canary$/m)
    expect(receiver.received).toHaveLength(1)
    const { title } = JSON.parse(receiver.received[0]!.body) as { title: string }
    expect(title).toMatch(/rollback canary → staging NEEDS APPROVAL in #\d+/)
  }, 60_000)
})

describe('a fired observe-only trigger raises an alert in the action', () => {
  it('opens its alert issue and tells the alert_opened target, once', async () => {
    const receiver = await startServer((_request, response) => void response.end('ok'))
    servers.push(receiver)
    const policyText = `feature: production_deployment\n${SEED_POLICY_TEXT.replace(
      '    - performance_degradation > 0.3\n',
      '    - performance_degradation > 0.3\n    - { when: checkout_errors > 0.01, on_fire: observe }\n'
    )}\nnotifications:\n  targets:\n    - { name: on-call, type: webhook, url_secret: HOOK_URL, events: [alert_opened] }\n`
    const { gh, workspace } = await seedAtCanary(policyText, { ...HEALTHY, checkout_errors: 0.5 })
    const inputs = { 'notification-secrets': `HOOK_URL=${receiver.url}` }
    const run = await runPhasegateFromSource(gh, workspace, { now: hoursAfter(1), inputs })
    expect(run.exitCode, run.summary).toBe(0)
    expect(run.summary).toMatch(/alert issue #\d+ opened for observe-only trigger/)
    expect(receiver.received, run.summary).toHaveLength(1)
    expect(JSON.parse(receiver.received[0]!.body)).toMatchObject({
      event: 'alert_opened',
      facts: expect.objectContaining({ Metric: 'checkout_errors' })
    })
    const again = await runPhasegateFromSource(gh, workspace, { now: hoursAfter(1.5), inputs })
    expect(again.exitCode, again.summary).toBe(0)
    expect(receiver.received).toHaveLength(1)
  }, 60_000)
})
