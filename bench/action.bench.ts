import { execFile } from 'node:child_process'
import { promisify } from 'node:util'
import { test } from 'vitest'
import {
  approve,
  checkout,
  HEALTHY,
  hoursAfter,
  openPulls,
  runPhasegate,
  searchFiles,
  seedFiles,
  startRepo,
  writeMetrics
} from '../test/support/action-harness.js'

// API requests per kind of tick (the goal for a tick that changes nothing: at most 3), and the
// wall time of a no-op `node dist/index.js` tick against `node -e 0` measured side by side.

const execFileAsync = promisify(execFile)
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!

test('phasegate action: API requests per tick and no-op wall time', async () => {
  const rows: Array<[string, number]> = []

  const seed = await startRepo({ files: seedFiles() })
  const seedWorkspace = await checkout(seed.gh)
  writeMetrics(seedWorkspace, HEALTHY)
  await runPhasegate(seed.gh, seedWorkspace, { now: hoursAfter(1) })
  const pull = openPulls(seed.gh)[0]!.number
  await approve(seed.gh, pull, 'alice')
  const advancing = await runPhasegate(seed.gh, seedWorkspace, { now: hoursAfter(2) })
  rows.push(['advancing tick (merges the approved PR)', advancing.requests])

  const quiet = await startRepo({ files: seedFiles(undefined, 'canary') })
  const quietWorkspace = await checkout(quiet.gh)
  writeMetrics(quietWorkspace, HEALTHY)
  const noop = await runPhasegate(quiet.gh, quietWorkspace, { now: hoursAfter(3) })
  rows.push(['no-op tick (seed policy in canary, waiting on its 24h)', noop.requests])

  const search = await startRepo({ files: searchFiles() })
  const searchWorkspace = await checkout(search.gh)
  writeMetrics(searchWorkspace, { error_rate: 0.001 }, 'search')
  const opening = await runPhasegate(search.gh, searchWorkspace, { now: hoursAfter(1) })
  rows.push(['opening tick (creates the advance PR)', opening.requests])
  const waiting = await runPhasegate(search.gh, searchWorkspace, { now: hoursAfter(2) })
  rows.push(['no-op tick with the advance PR open, unapproved', waiting.requests])
  writeMetrics(searchWorkspace, { error_rate: 0.2 }, 'search')
  const rollback = await runPhasegate(search.gh, searchWorkspace, { now: hoursAfter(3) })
  rows.push(['rollback tick (revert pushed, advance PR closed)', rollback.requests])

  const rounds = 7
  const action: number[] = []
  const baseline: number[] = []
  for (let i = 0; i < rounds; i++) {
    let start = performance.now()
    await execFileAsync(process.execPath, ['-e', '0'])
    baseline.push(performance.now() - start)
    start = performance.now()
    await runPhasegate(quiet.gh, quietWorkspace, { now: hoursAfter(4 + i) })
    action.push(performance.now() - start)
  }
  await seed.cleanup()
  await search.cleanup()
  await quiet.cleanup()

  const width = Math.max(...rows.map(([label]) => label.length))
  console.log('\nAPI requests per tick')
  for (const [label, count] of rows) console.log(`  ${label.padEnd(width)}  ${count}`)
  console.log(`  goal for a no-op tick: at most 3 -> ${noop.requests <= 3 ? 'met' : 'NOT met'}`)
  const a = median(action)
  const b = median(baseline)
  console.log(`\nwall time, median of ${rounds} side-by-side rounds`)
  console.log(`  node dist/index.js no-op tick  ${a.toFixed(0)} ms`)
  console.log(`  node -e 0                      ${b.toFixed(0)} ms`)
  console.log(`  ratio                          ${(a / b).toFixed(1)}x`)
})
