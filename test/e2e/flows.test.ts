import { afterEach, describe, expect, test } from 'vitest'
import { sendJson, startCutoffProxy, startServer } from '../support/http-server.js'
import { startPrometheus } from '../support/prometheus.js'
import { openMetrics } from '../support/scenario.js'
import { parsePolicyText } from '../../src/policy/load.js'
import { initialState, renderState } from '../../src/state/file.js'
import {
  BOT,
  api,
  approve,
  checkout,
  CHECKOUT_POLICY,
  HEALTHY,
  hoursAfter,
  openPulls,
  runPhasegate,
  searchFiles,
  seedFiles,
  startRepo,
  stateOnMain,
  writeMetrics,
  type Repo
} from '../support/action-harness.js'

const STATE = '.phasegate/state/search.yaml'
let repo: Repo | undefined
afterEach(async () => {
  await repo?.cleanup()
  repo = undefined
})

async function searchRepo(options: { protectDefaultBranch?: boolean } = {}) {
  repo = await startRepo({ files: searchFiles(), ...options })
  const { gh } = repo
  const workspace = await checkout(gh)
  writeMetrics(workspace, { error_rate: 0.001 }, 'search')
  const opened = await runPhasegate(gh, workspace, { now: hoursAfter(1) })
  expect(opened.exitCode, opened.stdout).toBe(0)
  expect(openPulls(gh)).toHaveLength(1)
  return { gh, workspace, advance: openPulls(gh)[0]!.number }
}

describe('advance PR and rollback flows', () => {
  test('when the gates fail again the open advance PR says so and is not merged, even approved', async () => {
    const { gh, workspace, advance } = await searchRepo()
    await approve(gh, advance, 'alice')
    writeMetrics(workspace, { error_rate: 0.02 }, 'search')
    const run = await runPhasegate(gh, workspace, { now: hoursAfter(2) })
    expect(run.outputs.decision).toBe('hold')
    expect(gh.state.issues.get(advance)!.body).toContain('The gates no longer pass')
    expect(gh.state.issues.get(advance)!.state).toBe('open')
    expect(stateOnMain(gh, STATE)).toMatch(/^phase: limited$/m)
    const quiet = await runPhasegate(gh, workspace, { now: hoursAfter(3) })
    expect(quiet.requests).toBeLessThanOrEqual(3)
  })

  test('on a protected default branch a rollback opens a rollback PR, and the advance PR is closed', async () => {
    const { gh, workspace, advance } = await searchRepo({ protectDefaultBranch: true })
    const before = stateOnMain(gh, STATE)
    writeMetrics(workspace, { error_rate: 0.2 }, 'search')
    const run = await runPhasegate(gh, workspace, { now: hoursAfter(2) })
    expect(run.exitCode, run.stdout).toBe(0)
    expect(run.outputs.decision).toBe('rollback')
    expect(run.summary).toMatch(/main is protected: opened rollback PR #\d+/)
    expect(stateOnMain(gh, STATE)).toBe(before)
    const rollbackPull = openPulls(gh).find(p => p.pull!.head === 'phasegate/search/rollback')!
    expect(run.outputs['pr-number']).toBe(String(rollbackPull.number))
    expect(gh.readFile('phasegate/search/rollback', STATE)).toMatch(/^phase: canary$/m)
    expect(gh.state.issues.get(advance)!.state).toBe('closed')
    expect(gh.state.comments.find(c => c.issue === advance)?.body).toContain(
      'rolling back limited -> canary'
    )
  })

  test('a phasegate-alert repository_dispatch ticks the named feature at once', async () => {
    const { gh, workspace } = await searchRepo()
    writeMetrics(workspace, { error_rate: 0.2 }, 'search')
    const ignored = await runPhasegate(gh, workspace, {
      event: 'repository_dispatch',
      payload: { action: 'deploy', client_payload: {} }
    })
    expect(ignored.exitCode).toBe(0)
    expect(ignored.summary).toContain('repository_dispatch of type "deploy" is not phasegate-alert')
    expect(stateOnMain(gh, STATE)).toMatch(/^phase: limited$/m)
    const run = await runPhasegate(gh, workspace, {
      now: hoursAfter(2),
      event: 'repository_dispatch',
      payload: {
        action: 'phasegate-alert',
        client_payload: {
          status: 'firing',
          commonLabels: { alertname: 'HighErrorRate', feature: 'search' },
          alerts: [{ status: 'firing', labels: { alertname: 'HighErrorRate', feature: 'search' } }]
        }
      }
    })
    expect(run.exitCode, run.stdout).toBe(0)
    expect(run.outputs.decision).toBe('rollback')
    expect(stateOnMain(gh, STATE)).toMatch(/^phase: canary$/m)
  })

  test('a graceful dispatch rollback opens a PR for review and leaves the default branch alone', async () => {
    const { gh, workspace } = await searchRepo()
    const before = stateOnMain(gh, STATE)
    const run = await runPhasegate(gh, workspace, {
      event: 'workflow_dispatch',
      inputs: { command: 'rollback' },
      payload: {
        inputs: { reason: 'latency creeping up', mode: 'graceful' },
        sender: { login: 'bob' }
      }
    })
    expect(run.exitCode, run.stdout).toBe(0)
    expect(stateOnMain(gh, STATE)).toBe(before)
    const pull = openPulls(gh).find(p => p.pull!.head === 'phasegate/search/rollback')!
    expect(pull.body).toContain('latency creeping up')
    expect(gh.readFile('phasegate/search/rollback', STATE)).toMatch(/enabled: true/)
    const checked = await runPhasegate(gh, workspace, {
      event: 'pull_request',
      inputs: { command: 'check' },
      payload: {
        pull_request: {
          number: pull.number,
          user: { login: pull.user },
          head: { sha: gh.git.branchSha(pull.pull!.head), ref: pull.pull!.head },
          base: { ref: 'main' }
        }
      }
    })
    expect(checked.outputs.decision, checked.stdout).toBe('success')
    const status = await api(gh, 'GET', `/commits/${gh.git.branchSha(pull.pull!.head)}/status`)
    expect(status.state).toBe('success')
  })

  test('an automated_test gate waits for the named runs to succeed on the commit that deployed the phase', async () => {
    const text = `feature: search
deployment:
  order: [canary, full]
  phases:
    canary:
      user_percentage: 5
      gates:
        - type: automated_test
          name: smoke
          checks: [smoke-tests, e2e]
    full: { user_percentage: 100 }
`
    const policy = parsePolicyText(text, 'search.yaml')
    repo = await startRepo({
      files: {
        'policies/search.yaml': text,
        [policy.statePath]: renderState(initialState(policy, hoursAfter(0)))
      }
    })
    const { gh } = repo
    const workspace = await checkout(gh)
    const deployed = gh.git.branchSha('main')!
    const unrelated = gh.commitFiles(
      'main',
      { 'app.txt': 'v2\n' },
      'Unrelated change after the deploy'
    )
    gh.addWorkflowRun({ name: 'smoke-tests', headSha: unrelated, conclusion: 'success' })
    const waiting = await runPhasegate(gh, workspace, { now: hoursAfter(1) })
    expect(waiting.outputs.decision).toBe('hold')
    expect(waiting.summary).toContain('smoke-tests has not run; e2e has not run')

    gh.addWorkflowRun({ name: 'smoke-tests', headSha: deployed, conclusion: 'success' })
    // Check runs come from GitHub Actions (the bot's token), the producer the gate trusts.
    await api(
      gh,
      'POST',
      '/check-runs',
      { name: 'e2e', head_sha: deployed, status: 'in_progress' },
      BOT
    )
    const running = await runPhasegate(gh, workspace, { now: hoursAfter(2) })
    expect(running.summary).toContain('e2e: in progress')

    await api(
      gh,
      'POST',
      '/check-runs',
      { name: 'e2e', head_sha: deployed, conclusion: 'success' },
      BOT
    )
    const passed = await runPhasegate(gh, workspace, { now: hoursAfter(3) })
    expect(passed.outputs.decision).toBe('advance')
    expect(passed.outputs.phase).toBe('full')
  })

  test('a person merging the advance PR by hand is an advance in history, and a breach reverts it', async () => {
    const { gh, workspace, advance } = await searchRepo()
    await approve(gh, advance, 'alice')
    await api(gh, 'PUT', `/pulls/${advance}/merge`, { merge_method: 'merge' }, 'alice')
    const after = await runPhasegate(gh, workspace, { now: hoursAfter(2) })
    expect(after.outputs.phase).toBe('full')
    writeMetrics(workspace, { error_rate: 0.2 }, 'search')
    const breach = await runPhasegate(gh, workspace, { now: hoursAfter(3) })
    expect(breach.exitCode, breach.stdout).toBe(0)
    expect(breach.outputs.phase).toBe('limited')
    const body = gh.git.git(['log', '-1', '--format=%B', 'main'])
    const branchCommit = gh.git.git([
      'log',
      '-1',
      '--format=%H',
      '--grep=^Phasegate-Kind: advance',
      'main'
    ])
    expect(body).toContain(`Phasegate-Reverts: ${branchCommit}`)
  })

  test('status decides without acting and validate lists the policies', async () => {
    repo = await startRepo({ files: searchFiles() })
    const { gh } = repo
    const workspace = await checkout(gh)
    writeMetrics(workspace, { error_rate: 0.001 }, 'search')
    const status = await runPhasegate(gh, workspace, { inputs: { command: 'status' } })
    expect(status.exitCode, status.stdout).toBe(0)
    expect(status.summary).toContain('Waiting for approval')
    expect(openPulls(gh)).toHaveLength(0)
    const validate = await runPhasegate(gh, workspace, { inputs: { command: 'validate' } })
    expect(validate.summary).toContain(
      '- ok `policies/search.yaml`: feature search, 3 phases, at limited'
    )
    const wrong = await runPhasegate(gh, workspace, { inputs: { command: 'deploy' } })
    expect(wrong.exitCode).toBe(1)
    expect(wrong.stdout).toContain('unknown command "deploy"')
  })

  test('an alert opens one issue, comments only when its severity changes, and closes on recovery', async () => {
    repo = await startRepo()
    const { gh } = repo
    const workspace = await checkout(gh)
    const issue = () => [...gh.state.issues.values()].filter(i => !i.pull)
    const comments = () => gh.state.comments.filter(c => c.issue === issue()[0]!.number)
    writeMetrics(workspace, { ...HEALTHY, error_rate: 0.012 })
    await runPhasegate(gh, workspace, { now: hoursAfter(1) })
    expect(issue()).toHaveLength(1)
    expect(issue()[0]!.labels).toEqual(expect.arrayContaining(['alert:error_rate', 'severity:low']))
    await runPhasegate(gh, workspace, { now: hoursAfter(2) })
    expect(comments()).toHaveLength(0)
    writeMetrics(workspace, { ...HEALTHY, error_rate: 0.016 })
    await runPhasegate(gh, workspace, { now: hoursAfter(3) })
    expect(comments()).toHaveLength(1)
    expect(comments()[0]!.body).toContain('**medium**')
    writeMetrics(workspace, HEALTHY)
    const recovered = await runPhasegate(gh, workspace, { now: hoursAfter(4) })
    expect(issue()).toHaveLength(1)
    expect(issue()[0]!.state).toBe('closed')
    expect(recovered.summary).toContain('closed: error_rate recovered')
  })
})

describe('metrics credentials', () => {
  test('the metrics-secrets input gives the policy its bearer token, masked in the log', async () => {
    const token = 's3cret-prom-token'
    const prometheus = await startServer(({ headers }, response) =>
      headers.authorization === `Bearer ${token}`
        ? sendJson(response, 200, {
            status: 'success',
            data: { resultType: 'vector', result: [{ metric: {}, value: [0, '0.001'] }] }
          })
        : sendJson(response, 401, { status: 'error', error: 'unauthorized' })
    )
    try {
      const policy = CHECKOUT_POLICY.replace(
        'rollback:',
        `metrics:\n  provider: prometheus\n  url: ${prometheus.url}\n  bearer_token_env: PROM_TOKEN\n  queries:\n    error_rate: sum(rate(errors_total[{{window}}]))\nrollback:`
      )
      repo = await startRepo({ files: seedFiles(policy) })
      const { gh } = repo
      const workspace = await checkout(gh)
      const missing = await runPhasegate(gh, workspace, { now: hoursAfter(1) })
      expect(missing.exitCode).toBe(1)
      expect(missing.stdout).toContain('environment variable PROM_TOKEN is not set')
      expect(openPulls(gh)).toHaveLength(0)
      const run = await runPhasegate(gh, workspace, {
        now: hoursAfter(1),
        inputs: { 'metrics-secrets': `# the Prometheus token\nPROM_TOKEN=${token}\n` }
      })
      expect(run.exitCode, run.stdout).toBe(0)
      expect(run.stdout).toContain(`::add-mask::${token}`)
      expect(run.outputs.decision).toBe('hold')
      expect(openPulls(gh)).toHaveLength(1)
      expect(run.summary).toContain('error_rate')
      expect(run.summary).not.toContain(token)
      expect(prometheus.received.every(r => r.headers.authorization === `Bearer ${token}`)).toBe(
        true
      )
    } finally {
      await prometheus.close()
    }
  })
})

describe('one tick, many policies', () => {
  test("reads every policy's metrics together: one combined request to Prometheus", async () => {
    const prometheus = await startPrometheus(openMetrics())
    // A transparent proxy, to count what reaches Prometheus.
    const proxy = await startCutoffProxy(prometheus.url, Infinity, async () => {})
    try {
      const files: Record<string, string> = {}
      for (const [i, feature] of ['alpha', 'beta', 'gamma'].entries()) {
        const policy = CHECKOUT_POLICY.replace('feature: checkout', `feature: ${feature}`).replace(
          'rollback:',
          `metrics:\n  provider: prometheus\n  url: ${proxy.url}\n  queries:\n    error_rate: vector(0.00${i + 1})\nrollback:`
        )
        Object.assign(files, seedFiles(policy))
      }
      repo = await startRepo({ files })
      const { gh } = repo
      const workspace = await checkout(gh)
      const run = await runPhasegate(gh, workspace, { now: hoursAfter(1) })
      expect(run.exitCode, run.stdout).toBe(0)
      // Each feature is held for approval with its own advance PR, its error rate read...
      expect(openPulls(gh)).toHaveLength(3)
      for (const value of ['0.001', '0.002', '0.003']) expect(run.summary).toContain(value)
      // ... and the three queries went to Prometheus as one request.
      const queries = proxy.received.filter(r => r.url.startsWith('/api/v1/query'))
      expect(queries).toHaveLength(1)
      expect(new URLSearchParams(queries[0]!.body).get('query')).toContain('phasegate_query')
    } finally {
      await proxy.close()
      await prometheus.remove()
    }
  })
})
