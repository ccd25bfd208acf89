import { createHmac } from 'node:crypto'
import { afterEach, describe, expect, it } from 'vitest'
import { runPhasegateFromSource } from '../../support/action-from-source.js'
import { startServer, type TestServer } from '../../support/http-server.js'
import {
  api,
  hoursAfter,
  SEARCH_POLICY,
  startSearchRepo,
  stateOnMain,
  writeMetrics,
  type Repo
} from '../../support/action-harness.js'

// Notification faults (issue 15) in the action,
// against the GitHub emulator. Each test here failed on the code before its fix.

const repos: Repo[] = []
const servers: TestServer[] = []
afterEach(async () => {
  for (const repo of repos.splice(0)) await repo.cleanup()
  await Promise.all(servers.splice(0).map(s => s.close()))
})

/** The log without its ::add-mask:: commands (the runner hides those and masks what they name). */
const shown = (log: string) => log.replace(/^::add-mask::.*$/gm, '')

/** The search policy's repository (or `policyText`'s) with the rollout at limited. */
const searchAtLimited = (policyText = SEARCH_POLICY) =>
  startSearchRepo(repos, policyText, { phase: 'limited' })

describe('a notification setting never stops an emergency (action)', () => {
  it('a multi-line signing key in notification-secrets does not stop the dispatched emergency', async () => {
    // `openssl rand -base64 64` wraps at 64 characters: the secret is two lines, and
    // `AUDIT_HOOK_KEY=${{ secrets.AUDIT_HOOK_KEY }}` expands to NAME=line1 + a bare line2.
    const policyText = `${SEARCH_POLICY}notifications:\n  targets:\n    - { name: audit, type: webhook, url_secret: AUDIT_HOOK_URL, signing_secret: AUDIT_HOOK_KEY }\n`
    const { gh, workspace, statePath } = await searchAtLimited(policyText)
    writeMetrics(workspace, { error_rate: 0.001 }, 'search')
    const key =
      'q0X8Wm2m1b6bJ3cYvN8Zk1q8m2Yt0V7nXxg4Q9b2e3r4t5y6u7i8o9p0a1s2d3f4\ng5h6j7k8l9z0x1c2v3b4n5m6+/Q=='
    const run = await runPhasegateFromSource(gh, workspace, {
      event: 'workflow_dispatch',
      actor: 'alice',
      payload: {
        inputs: { reason: 'pager went off', mode: 'emergency' },
        sender: { login: 'alice' }
      },
      inputs: {
        command: 'rollback',
        'notification-secrets': `AUDIT_HOOK_URL=http://127.0.0.1:9/hook\nAUDIT_HOOK_KEY=${key}`
      },
      now: hoursAfter(1)
    })
    // The rollback lands; at worst the notification fails, after it, and says why.
    expect(stateOnMain(gh, statePath), run.stdout + run.summary).toMatch(/^phase: canary$/m)
    expect(stateOnMain(gh, statePath)).toMatch(/^enabled: false$/m)
    expect(run.stdout + run.summary).toMatch(/AUDIT_HOOK_KEY.*multi-line value/)
    expect(shown(run.stdout) + run.summary).not.toContain('g5h6j7k8')
    expect(run.exitCode).not.toBe(0)
  }, 60_000)

  it('nor the scheduled tick whose error_rate trigger fired', async () => {
    const policyText = `${SEARCH_POLICY}notifications:\n  targets:\n    - { name: audit, type: webhook, url_secret: AUDIT_HOOK_URL, signing_secret: AUDIT_HOOK_KEY }\n`
    const { gh, workspace, statePath } = await searchAtLimited(policyText)
    writeMetrics(workspace, { error_rate: 0.9 }, 'search')
    const run = await runPhasegateFromSource(gh, workspace, {
      inputs: {
        'notification-secrets':
          'AUDIT_HOOK_URL=http://127.0.0.1:9/hook\nAUDIT_HOOK_KEY=line-one\nline-two'
      },
      now: hoursAfter(2)
    })
    expect(stateOnMain(gh, statePath), run.stdout + run.summary).toMatch(/^phase: canary$/m)
    expect(run.stdout + run.summary).toMatch(/audit.*AUDIT_HOOK_KEY/)
    expect(shown(run.stdout) + run.summary).not.toContain('line-two')
  }, 60_000)

  it('a multi-line signing key written NAME<<EOF … EOF signs with the whole key', async () => {
    const server = await startServer((_request, response) => void response.end('ok'))
    servers.push(server)
    const policyText = `${SEARCH_POLICY}notifications:\n  targets:\n    - { name: audit, type: webhook, url_secret: AUDIT_HOOK_URL, signing_secret: AUDIT_HOOK_KEY }\n`
    const { gh, workspace, statePath } = await searchAtLimited(policyText)
    writeMetrics(workspace, { error_rate: 0.9 }, 'search')
    const key = 'line-one\nline-two=='
    const run = await runPhasegateFromSource(gh, workspace, {
      inputs: {
        'notification-secrets': `AUDIT_HOOK_URL=${server.url}\nAUDIT_HOOK_KEY<<EOF\n${key}\nEOF\nOTHER=x`
      },
      now: hoursAfter(2)
    })
    expect(stateOnMain(gh, statePath), run.stdout + run.summary).toMatch(/^phase: canary$/m)
    expect(run.exitCode, run.stdout + run.summary).toBe(0)
    expect(server.received.length).toBeGreaterThan(0)
    for (const { body, headers } of server.received)
      expect(headers['x-phasegate-signature-256']).toBe(
        `sha256=${createHmac('sha256', key).update(body).digest('hex')}`
      )
  }, 60_000)
})

describe('a metrics-secrets mistake never stops a rollback (action)', () => {
  it('a bad metrics-secrets line does not stop the dispatched emergency (it reads no metrics)', async () => {
    const { gh, workspace, statePath } = await searchAtLimited()
    writeMetrics(workspace, { error_rate: 0.001 }, 'search')
    const run = await runPhasegateFromSource(gh, workspace, {
      event: 'workflow_dispatch',
      actor: 'alice',
      payload: {
        inputs: { reason: 'pager went off', mode: 'emergency' },
        sender: { login: 'alice' }
      },
      inputs: { command: 'rollback', 'metrics-secrets': 'PROM_TOKEN=abc\nwrapped-rest' },
      now: hoursAfter(1)
    })
    expect(stateOnMain(gh, statePath), run.stdout + run.summary).toMatch(/^phase: canary$/m)
    expect(stateOnMain(gh, statePath)).toMatch(/^enabled: false$/m)
    expect(run.stdout).toMatch(/PROM_TOKEN \(line 1\) seems to hold a multi-line value/)
    expect(shown(run.stdout)).not.toContain('wrapped-rest')
  }, 60_000)

  it('nor the scheduled tick whose error_rate trigger fired', async () => {
    const { gh, workspace, statePath } = await searchAtLimited()
    writeMetrics(workspace, { error_rate: 0.9 }, 'search')
    const run = await runPhasegateFromSource(gh, workspace, {
      inputs: { 'metrics-secrets': 'not a line\nPROM_TOKEN=abc' },
      now: hoursAfter(2)
    })
    expect(stateOnMain(gh, statePath), run.stdout + run.summary).toMatch(/^phase: canary$/m)
  }, 60_000)
})

describe("the re-run record of told targets is the action's own (action)", () => {
  it('a phasegate/notified status a person set on the transition commit does not make a re-run skip on-call', async () => {
    const policyText = `${SEARCH_POLICY}notifications:\n  targets:\n    - { name: on-call, type: webhook, url_secret: ONCALL_URL }\n`
    const { gh, workspace, statePath } = await searchAtLimited(policyText)
    writeMetrics(workspace, { error_rate: 0.001 }, 'search')
    const dispatch = {
      event: 'workflow_dispatch' as const,
      actor: 'alice',
      payload: {
        inputs: { reason: 'pager went off', mode: 'emergency' },
        sender: { login: 'alice' }
      }
    }
    // The first attempt lands the emergency; on-call's secret is missing, so it is not told.
    const first = await runPhasegateFromSource(gh, workspace, {
      ...dispatch,
      inputs: { command: 'rollback' },
      env: { GITHUB_RUN_ID: '888001', GITHUB_RUN_ATTEMPT: '1' },
      now: hoursAfter(1)
    })
    expect(stateOnMain(gh, statePath), first.summary).toMatch(/^phase: canary$/m)
    const sha = gh.git.branchSha('main')
    // bob (write access, a person) marks on-call as told before the re-run.
    await api(
      gh,
      'POST',
      `/statuses/${sha}`,
      { state: 'success', context: 'phasegate/notified: on-call', description: 'told' },
      'bob'
    )
    const oncall = await startServer((_request, response) => void response.end('ok'))
    servers.push(oncall)
    const rerun = await runPhasegateFromSource(gh, workspace, {
      ...dispatch,
      inputs: { command: 'rollback', 'notification-secrets': `ONCALL_URL=${oncall.url}` },
      env: { GITHUB_RUN_ID: '888001', GITHUB_RUN_ATTEMPT: '2' },
      now: hoursAfter(1.02)
    })
    expect(oncall.received, rerun.stdout + rerun.summary).toHaveLength(1)
    // The action's own record (a bot's status) does make a further re-run skip it.
    const again = await runPhasegateFromSource(gh, workspace, {
      ...dispatch,
      inputs: { command: 'rollback', 'notification-secrets': `ONCALL_URL=${oncall.url}` },
      env: { GITHUB_RUN_ID: '888001', GITHUB_RUN_ATTEMPT: '3' },
      now: hoursAfter(1.04)
    })
    expect(oncall.received, again.stdout + again.summary).toHaveLength(1)
  }, 90_000)
})

describe('on-call hears an automatic pause in the action too', () => {
  it('a pausing trigger opens a high alert issue, and alert_opened reaches a min_severity high target', async () => {
    const server = await startServer((_request, response) => void response.end('ok'))
    servers.push(server)
    const policyText = `${SEARCH_POLICY.replace(
      '    - error_rate > 0.05\n',
      '    - error_rate > 0.05\n    - { when: latency_p99_ms > 900, on_fire: pause }\n'
    )}notifications:\n  targets:\n    - { name: on-call, type: webhook, url_secret: ONCALL_URL, events: [rollback, alert_opened], min_severity: high }\n`
    const { gh, workspace, statePath } = await searchAtLimited(policyText)
    writeMetrics(workspace, { error_rate: 0.001, latency_p99_ms: 5000 }, 'search')
    const run = await runPhasegateFromSource(gh, workspace, {
      inputs: { 'notification-secrets': `ONCALL_URL=${server.url}` },
      now: hoursAfter(2)
    })
    expect(stateOnMain(gh, statePath), run.summary).toMatch(/^paused:/m)
    const issues = [...gh.state.issues.values()].filter(i => !i.pull)
    expect(issues.map(i => i.title).join('; '), run.summary).toMatch(/latency_p99_ms/)
    expect(server.received.length, run.stdout + run.summary).toBeGreaterThan(0)
    expect(server.received.map(r => r.headers['x-phasegate-event'])).toContain('alert_opened')
  }, 60_000)
})
