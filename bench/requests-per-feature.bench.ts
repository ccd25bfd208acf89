import { test } from 'vitest'
import { runPhasegateFromSource } from '../test/support/action-from-source.js'
import { checkout, hoursAfter, startRepo, T0 } from '../test/support/action-harness.js'
import { parsePolicyText } from '../src/policy/load.js'
import { initialState, renderState } from '../src/state/file.js'

// GitHub API requests of a no-op tick (every feature waiting for approval, its advance PR open)
// over 1, 10 and 100 features, side by side. The goal: a fixed number per run plus at most one
// per open advance PR (its reviews: REST has no bulk review listing). Run from the TypeScript
// sources: `npx vitest run --config bench/vitest.config.ts bench/requests-per-feature.bench.ts`.

const SIZES = (process.env.PHASEGATE_BENCH_SIZES ?? '1,10,100').split(',').map(Number)

function files(count: number): Record<string, string> {
  const out: Record<string, string> = { '.gitignore': '.phasegate/metrics/\n' }
  for (let i = 0; i < count; i++) {
    const feature = `f${String(i).padStart(3, '0')}`
    const text = `feature: ${feature}
deployment:
  order: [one, two]
  phases:
    one:
      user_percentage: 5
      gates:
        - type: manual_approval
    two: { user_percentage: 100 }
`
    const policy = parsePolicyText(text, `${feature}.yaml`)
    out[`policies/${feature}.yaml`] = text
    out[policy.statePath] = renderState(initialState(policy, T0))
  }
  return out
}

test('GitHub API requests of a no-op tick, by number of features', async () => {
  const rows: Array<[number, number, number]> = []
  for (const count of SIZES) {
    const repo = await startRepo({ files: files(count) })
    const workspace = await checkout(repo.gh)
    const opening = await runPhasegateFromSource(repo.gh, workspace, { now: hoursAfter(1) })
    const noop = await runPhasegateFromSource(repo.gh, workspace, { now: hoursAfter(2) })
    rows.push([count, opening.requests, noop.requests])
    await repo.cleanup()
  }
  console.log('\nGitHub API requests per tick (features waiting for approval, advance PRs open)')
  console.log('  features  opening tick  no-op tick  no-op per feature  no-op beyond 1/feature')
  for (const [count, opening, noop] of rows)
    console.log(
      `  ${String(count).padStart(8)}  ${String(opening).padStart(12)}  ${String(noop).padStart(10)}  ${(noop / count).toFixed(2).padStart(17)}  ${String(noop - count).padStart(22)}`
    )
})
