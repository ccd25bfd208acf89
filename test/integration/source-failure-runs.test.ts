import { existsSync, readFileSync } from 'node:fs'
import { createServer } from 'node:net'
import { afterEach, describe, expect, it } from 'vitest'
import { tickOnGitHub } from '../../src/action/tick-on-github.js'
import type { ActionContext } from '../../src/action/context.js'
import { createGitHubClient } from '../../src/github/client.js'
import { initialState, renderState } from '../../src/state/file.js'
import { sourceFailuresPath } from '../../src/state/source-failures.js'
import { BOT, checkout, hoursAfter, startRepo, type Repo } from '../support/action-harness.js'
import { sendJson, startServer, type TestServer } from '../support/http-server.js'
import { at, policy as parsePolicy } from '../support/policies.js'
import { cli, sh, tempRepo, transitionsIn } from '../support/repo.js'

// source_failure_limit counts consecutive RUNS that could not read the metrics source, not HTTP
// attempts: one tick during an outage of under a second never rolls back. The count lives
// outside the state file (a file in .git for the CLI, the alert issue for the action).

/** A port on 127.0.0.1 with nothing listening: every connection is refused at once. */
async function deadPort(): Promise<string> {
  const server = createServer()
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as { port: number }
  await new Promise<void>(resolve => server.close(() => resolve()))
  return `http://127.0.0.1:${port}`
}

const policyText = (url: string) => `feature: search
deployment:
  order: [canary, full]
  phases:
    canary: { user_percentage: 5 }
    full: { user_percentage: 100 }
metrics:
  provider: prometheus
  url: ${url}
  timeout_ms: 300
  queries:
    error_rate: sum(rate(errors[{{window}}]))
rollback:
  automatic_triggers:
    - error_rate > 0.05
    - system_failure
`

function repoAtFull(url: string): string {
  const text = policyText(url)
  const policy = parsePolicy(text, 'search.yaml')
  return tempRepo({
    'policies/search.yaml': text,
    [policy.statePath]: renderState({ ...initialState(policy, at(0)), phase: 'full' })
  })
}

const minutes = (n: number) => new Date(at(10).getTime() + n * 60_000).toISOString()

let server: TestServer | undefined
afterEach(async () => {
  await server?.close()
  server = undefined
})

describe('the CLI', () => {
  it('one tick with the metrics server down (3 HTTP attempts) does not roll back', async () => {
    const dir = repoAtFull(await deadPort())
    const head = sh(dir, 'git', 'rev-parse', 'HEAD')
    const run = await cli(dir, 'tick', '--now', minutes(0))
    expect(run.code, run.err).toBe(0)
    expect(run.out).not.toContain('ROLL BACK')
    expect(run.out).toMatch(/could not be read on 1 consecutive run .*limit 3/)
    expect(sh(dir, 'git', 'rev-parse', 'HEAD')).toBe(head)
    // The count is kept in git's own directory, never in the (committed) state file.
    expect(existsSync(sourceFailuresPath(sh(dir, 'git', 'rev-parse', '--absolute-git-dir')))).toBe(
      true
    )
    expect(sh(dir, 'git', 'status', '--porcelain')).toBe('')
  })

  it('rolls back on the third consecutive run that could not read the source', async () => {
    const dir = repoAtFull(await deadPort())
    await cli(dir, 'tick', '--now', minutes(0))
    const second = await cli(dir, 'tick', '--now', minutes(5))
    expect(second.out).toMatch(/2 consecutive runs/)
    expect(second.out).not.toContain('ROLL BACK')
    const third = await cli(dir, 'tick', '--now', minutes(10))
    expect(third.out).toContain('ROLL BACK full -> canary')
    expect(third.out).toMatch(/3 consecutive runs since 2026-03-02T19:00:00/)
  })

  it('a run that reads the source resets the count; --dry-run and status do not count', async () => {
    const dead = await deadPort()
    const dir = repoAtFull(dead)
    await cli(dir, 'tick', '--now', minutes(0))
    await cli(dir, 'tick', '--dry-run', '--now', minutes(1))
    await cli(dir, 'status', '--now', minutes(2))
    const second = await cli(dir, 'tick', '--now', minutes(5))
    expect(second.out).toMatch(/2 consecutive runs/)
    // The server is back for one run: the count starts over.
    server = await startServer(({ url }, response) =>
      sendJson(response, 200, {
        status: 'success',
        data: {
          resultType: 'vector',
          result: [{ metric: {}, value: [Number(url.searchParams.get('time')), '0.001'] }]
        }
      })
    )
    const policyFile = `${dir}/policies/search.yaml`
    const original = readFileSync(policyFile, 'utf8')
    const { writeFileSync } = await import('node:fs')
    writeFileSync(policyFile, original.replace(dead, server.url))
    sh(dir, 'git', 'commit', '-qam', 'point at the live server')
    await cli(dir, 'tick', '--now', minutes(10))
    writeFileSync(policyFile, original)
    sh(dir, 'git', 'commit', '-qam', 'back to the dead one')
    const after = await cli(dir, 'tick', '--now', minutes(15))
    expect(after.out).toMatch(/1 consecutive run\b/)
    expect(after.out).not.toContain('ROLL BACK')
  })
})

let repo: Repo | undefined
afterEach(async () => {
  await repo?.cleanup()
  repo = undefined
})

describe('the action', () => {
  it('counts runs in the metrics-source issue and rolls back on the third, committing nothing before', async () => {
    const url = await deadPort()
    const text = policyText(url)
    const policy = parsePolicy(text, 'search.yaml')
    repo = await startRepo({
      files: {
        '.gitignore': '.phasegate/metrics/\n',
        'policies/search.yaml': text,
        [policy.statePath]: renderState({ ...initialState(policy, hoursAfter(0)), phase: 'full' })
      }
    })
    const { gh } = repo
    const client = createGitHubClient({
      token: gh.tokenFor(BOT),
      baseUrl: gh.apiUrl,
      writeIntervalMs: 0
    })
    const tick = async (now: Date) => {
      const workspace = await checkout(gh)
      const ctx: ActionContext = {
        workspace,
        repo: { owner: gh.owner, repo: gh.repo },
        eventName: 'schedule',
        payload: {},
        actor: 'alice',
        apiUrl: gh.apiUrl,
        token: gh.tokenFor(BOT),
        now,
        dryRun: false,
        policies: [],
        reason: '',
        mode: 'emergency',
        metricsEnv: {}
      }
      const {
        outcomes: [outcome]
      } = await tickOnGitHub(ctx, { client, repo: ctx.repo })
      return outcome!
    }
    const first = await tick(hoursAfter(1))
    expect(first.decision.action).toBe('hold')
    const second = await tick(new Date(hoursAfter(1).getTime() + 300_000))
    expect(second.decision.action).toBe('hold')
    expect(second.decision.reason).not.toMatch(/rollback/)
    const inspect = await checkout(gh)
    expect(await transitionsIn(inspect, 'search')).toEqual([])
    const issues = [...gh.state.issues.values()].filter(
      i => !i.pull && i.labels.includes('alert:metrics_source')
    )
    expect(issues).toHaveLength(1)
    expect(issues[0]!.body).toMatch(/could not be read on 2 consecutive runs/)
    const third = await tick(new Date(hoursAfter(1).getTime() + 600_000))
    expect(third.decision.action).toBe('rollback')
    expect(third.decision.reason).toMatch(/3 consecutive runs/)
  })
})
