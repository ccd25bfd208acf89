import { afterEach, describe, expect, test } from 'vitest'
import { runPhasegateFromSource } from '../../support/action-from-source.js'
import {
  hoursAfter,
  HEALTHY,
  seedFiles,
  SPIKE,
  startCheckedOut,
  stateOnMain,
  writeMetrics,
  type Repo
} from '../../support/action-harness.js'
import { startServer, type TestServer } from '../../support/http-server.js'
import { SEED_POLICY_TEXT } from '../../support/policies.js'

// The action's notifications (src/main.ts from source, the GitHub emulator, receivers on
// 127.0.0.1): sent after every feature has acted, from the notification-secrets input, failing
// the step only at the end.

const repos: Repo[] = []
const servers: TestServer[] = []
afterEach(async () => {
  for (const repo of repos.splice(0)) await repo.cleanup()
  await Promise.all(servers.splice(0).map(s => s.close()))
})

const POLICY = `feature: production_deployment\n${SEED_POLICY_TEXT}
notifications:
  timeout: 500ms
  retries: 1
  targets:
    - name: chat
      type: slack
      url_secret: SLACK_URL
    - name: teams
      type: teams
      url_secret: TEAMS_URL
      min_severity: critical
`

const canaryRepo = () => startCheckedOut(repos, seedFiles(POLICY, 'canary'))

function secrets(slack: string, teams: string): Record<string, string> {
  return { 'notification-secrets': `SLACK_URL=${slack}\nTEAMS_URL=${teams}` }
}

describe('notifications from the action', () => {
  test('a dead Slack webhook does not delay the rollback: it is on main before the first request, and the step fails at the end', async () => {
    const { gh, workspace } = await canaryRepo()
    const mainAtRequest: string[] = []
    const dead = await startServer(() => {
      mainAtRequest.push(stateOnMain(gh))
    })
    const teams = await startServer((_request, response) => void response.end('1'))
    servers.push(dead, teams)
    writeMetrics(workspace, SPIKE)
    const run = await runPhasegateFromSource(gh, workspace, {
      now: hoursAfter(1),
      inputs: secrets(`${dead.url}/services/T0/B0/hush`, teams.url)
    })
    expect(stateOnMain(gh)).toContain('phase: staging')
    expect(run.outputs['rollback-sha']).toMatch(/^[0-9a-f]{40}$/)
    // Every request the dead receiver got came after the rollback was on main.
    // Two attempts per event (retries: 1): the rollback and the alert issues it opened.
    expect(mainAtRequest.length).toBeGreaterThanOrEqual(2)
    expect(mainAtRequest.length % 2).toBe(0)
    expect(mainAtRequest.every(state => state.includes('phase: staging'))).toBe(true)
    expect(run.exitCode).toBe(1)
    expect(run.summary).toContain('### Notifications')
    expect(run.summary).toMatch(
      /NOTIFICATION FAILED chat: production_deployment rollback after 2 attempts: no answer within 500 ms/
    )
    // Teams (critical only) hears the critical error_rate alert, and not the (high) rollback.
    expect(run.summary).toContain('notified teams: production_deployment alert_opened (critical)')
    const cards = teams.received.map(r => JSON.parse(r.body).attachments[0].content.body[0].text)
    expect(cards).toEqual(['production_deployment: error_rate alert opened (critical)'])
    // The webhook URL is a secret: masked, and in no message of phasegate's own.
    const log = run.stdout
      .split('\n')
      .filter(line => !line.startsWith('::add-mask::'))
      .join('\n')
    expect(log + run.summary).not.toContain('hush')
    expect(run.stdout).toContain(`::add-mask::${dead.url}/services/T0/B0/hush`)
  })

  test('a run that finds the effects done tells nothing again; only new effects are told', async () => {
    const { gh, workspace } = await canaryRepo()
    const slack = await startServer((_request, response) => void response.end('ok'))
    servers.push(slack)
    writeMetrics(workspace, SPIKE)
    const inputs = secrets(slack.url, slack.url)
    const texts = () => slack.received.map(r => (JSON.parse(r.body) as { text?: string }).text)
    const runs: Array<Array<string | undefined>> = []
    for (let i = 0; i < 3; i++) {
      const before = slack.received.length
      const run = await runPhasegateFromSource(gh, workspace, { now: hoursAfter(1), inputs })
      expect(run.exitCode, run.summary).toBe(0)
      runs.push(texts().slice(before))
    }
    // Run 1 rolls back and opens the alert issues; Slack (medium and up) hears the rollback.
    expect(runs[0]).toContain('HIGH: production_deployment: rolled back canary → staging')
    // Run 2 sees the spike as older than the rollback and proposes the advance again: new news.
    expect(runs[1]).toEqual([
      'MEDIUM: production_deployment: advance staging → canary proposed in #2'
    ])
    // Run 3 finds the rollback made, the alert issues as they are and the PR standing.
    expect(runs[2]).toEqual([])
  })

  test('a dispatched emergency rollback names the on-call team in Slack and Teams', async () => {
    const { gh, workspace } = await canaryRepo()
    const slack = await startServer((_request, response) => void response.end('ok'))
    servers.push(slack)
    writeMetrics(workspace, HEALTHY)
    const run = await runPhasegateFromSource(gh, workspace, {
      now: hoursAfter(1),
      event: 'workflow_dispatch',
      actor: 'alice',
      payload: { inputs: { reason: 'pager went off', mode: 'emergency' } },
      inputs: { command: 'rollback', ...secrets(`${slack.url}/slack`, `${slack.url}/teams`) }
    })
    expect(run.exitCode, run.summary).toBe(0)
    expect(stateOnMain(gh)).toContain('enabled: false')
    const byPath = Object.fromEntries(slack.received.map(r => [r.url, r.body]))
    expect(byPath['/slack']).toContain('On call: engineering')
    expect(byPath['/teams']).toContain('On call: engineering')
    expect(run.summary).toContain(
      'notified chat: production_deployment emergency_rollback (critical)'
    )
  })
})
