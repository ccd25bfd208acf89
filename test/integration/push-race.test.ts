import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterEach, describe, expect, test } from 'vitest'
import { tickOnGitHub } from '../../src/action/tick-on-github.js'
import type { ActionContext } from '../../src/action/context.js'
import { readHistory, transitionsOf } from '../../src/git/transitions.js'
import { createGitHubClient } from '../../src/github/client.js'
import { initialState, renderState } from '../../src/state/file.js'
import { parsePolicyText } from '../../src/policy/load.js'
import { cloneEmulated, runGit } from '../support/github-emulator/git-client.js'
import {
  BOT,
  checkout,
  hoursAfter,
  startRepo,
  writeMetrics,
  type Repo
} from '../support/action-harness.js'

// Two scheduled runs and a person's push race for the default branch. Whatever the interleaving,
// the breach is rolled back exactly once and nobody's commit is lost.

const RACE_POLICY = `feature: search
deployment:
  order: [canary, full]
  phases:
    canary: { user_percentage: 5 }
    full: { user_percentage: 100 }
rollback:
  automatic_triggers:
    - error_rate > 0.05
`
const policy = parsePolicyText(RACE_POLICY, 'search.yaml')

/** A small deterministic generator, so a failing interleaving can be replayed from its seed. */
function random(seed: number): () => number {
  let s = seed >>> 0
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0
    return s / 2 ** 32
  }
}
const sleep = (ms: number) => new Promise(resolve => setTimeout(resolve, ms))

let repo: Repo | undefined
afterEach(async () => {
  await repo?.cleanup()
  repo = undefined
})

describe('concurrent runs and a human push', () => {
  test('20 randomized races: the rollback lands exactly once and no push is lost', async () => {
    const seen = { stale: 0, retried: 0 }
    for (let race = 1; race <= 20; race++) {
      const next = random(race)
      const full = { ...initialState(policy, hoursAfter(0)), phase: 'full' }
      repo = await startRepo({
        files: {
          '.gitignore': '.phasegate/metrics/\n',
          'policies/search.yaml': RACE_POLICY,
          [policy.statePath]: renderState(full)
        }
      })
      const { gh } = repo
      const client = createGitHubClient({
        token: gh.tokenFor(BOT),
        baseUrl: gh.apiUrl,
        writeIntervalMs: 0
      })
      const run = async (delay: number) => {
        const workspace = await checkout(gh)
        writeMetrics(workspace, { error_rate: 0.2 }, 'search')
        await sleep(delay)
        const ctx: ActionContext = {
          workspace,
          repo: { owner: gh.owner, repo: gh.repo },
          eventName: 'schedule',
          payload: {},
          actor: 'alice',
          apiUrl: gh.apiUrl,
          token: gh.tokenFor(BOT),
          now: hoursAfter(race),
          dryRun: false,
          policies: [],
          reason: '',
          mode: 'emergency',
          metricsEnv: {}
        }
        return tickOnGitHub(ctx, { client, repo: ctx.repo })
      }
      // A person pushing a change of their own: rejected when a run pushed first, they rebase and
      // push again, as anyone would.
      const human = async (delay: number) => {
        const dir = await cloneEmulated(gh, 'alice')
        const auth = gh.gitAuthHeader('alice')
        writeFileSync(join(dir, `notes-${race}.md`), `race ${race}\n`)
        await runGit(dir, ['add', '-A'])
        await runGit(dir, ['commit', '-q', '-m', `Human change ${race}`])
        await sleep(delay)
        for (let attempt = 1; ; attempt++) {
          try {
            await runGit(dir, ['push', '-q', 'origin', 'HEAD:main'], auth)
            return
          } catch (error) {
            if (attempt >= 5) throw error
            await runGit(dir, ['pull', '-q', '--rebase', 'origin', 'main'], auth)
          }
        }
      }
      const [a, b] = await Promise.all([
        run(Math.floor(next() * 150)),
        run(Math.floor(next() * 150)),
        human(Math.floor(next() * 400))
      ])
      const actions = [...a!.outcomes[0]!.actions, ...b!.outcomes[0]!.actions].join('\n')
      if (actions.includes('another run moved')) seen.stale++
      if (actions.includes('on attempt')) seen.retried++
      const inspect = await checkout(gh)
      const history = transitionsOf(await readHistory(inspect, [policy]))
      const rollbacks = history.filter(h => h.kind === 'rollback')
      expect(rollbacks, `race ${race}:\n${actions}`).toHaveLength(1)
      expect(rollbacks[0]).toMatchObject({ from: 'full', to: 'canary' })
      expect(gh.readFile('main', policy.statePath)).toMatch(/^phase: canary$/m)
      expect(
        gh.readFile('main', `notes-${race}.md`),
        `race ${race}: the human's push was lost`
      ).toBe(`race ${race}\n`)
      expect(
        (await runGit(inspect, ['log', '--format=%s', 'origin/main'])).stdout.split('\n')
      ).toContain(`Human change ${race}`)
      await repo.cleanup()
      repo = undefined
    }
    // The interleavings must actually collide: some runs lost to another run, some to the human.
    expect(seen.stale).toBeGreaterThan(0)
    expect(seen.retried).toBeGreaterThan(0)
  }, 300_000)
})
