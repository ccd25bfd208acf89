import { execFile } from 'node:child_process'
import { existsSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { test } from 'vitest'
import {
  BOT,
  checkout,
  DIST,
  HEALTHY,
  hoursAfter,
  runPhasegate,
  seedFiles,
  startRepo,
  writeMetrics as writeActionMetrics
} from '../test/support/action-harness.js'
import { runAction } from '../test/support/github-emulator/run-action.js'
import { tempRepo, writeMetrics } from '../test/support/repo.js'

// Start-up: what a command that changes nothing costs against a bare `node -e 0`, measured side
// by side (rounds interleaved, medians), on the Node that runs the bench. Run it on both:
//   npm run bench:startup
//   PATH="$(dirname "$(npx -y node@24 -p process.execPath)"):$PATH" npm run bench:startup
// Goals (issue 17): CLI ≤ 1.5× on Node 24 (where the compile cache exists), action ≤ 2×.
// Then where the time goes: importing each dependency by itself, the CLI's front door, parsing
// the seed policy, and the git processes each command starts (counted with GIT_TRACE).

const execFileAsync = promisify(execFile)
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!
const ROOT = new URL('../', import.meta.url).pathname
const BIN = join(ROOT, 'bin/phasegate.js')
// BENCH_ROUNDS=N for more rounds on a quiet machine, fewer on a busy one.
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 9)

/**
 * CPU time (user + sys, ms) of this process's finished children and their finished children
 * (the CLI's or the action's git processes), from /proc/self/stat on Linux (in 10 ms ticks);
 * undefined elsewhere. On a loaded machine wall time mostly measures the other processes; CPU
 * time is what the command itself costs.
 */
function childrenCpuMs(): number | undefined {
  if (process.platform !== 'linux') return undefined
  const stat = readFileSync('/proc/self/stat', 'utf8')
  // Fields after the command name (which may hold spaces): cutime and cstime are the 14th and
  // 15th, in USER_HZ (100 per second).
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
  return (Number(fields[13]) + Number(fields[14])) * 10
}

interface Timing {
  wall: number
  cpu?: number
}

/** Wall and CPU time of `run` (a child process, waited for). */
async function measured(run: () => Promise<unknown>): Promise<Timing> {
  const cpuBefore = childrenCpuMs()
  const start = performance.now()
  await run()
  const wall = performance.now() - start
  const cpuAfter = childrenCpuMs()
  return cpuBefore === undefined ? { wall } : { wall, cpu: cpuAfter! - cpuBefore }
}

function timed(args: string[], options: { cwd?: string; env?: NodeJS.ProcessEnv } = {}) {
  return measured(() =>
    execFileAsync(process.execPath, args, { cwd: options.cwd ?? ROOT, env: options.env })
  )
}

/** Each entry's command, timed in interleaved rounds after one warm-up round; medians in ms. */
async function sideBySide(entries: Array<[string, () => Promise<Timing>]>) {
  const times = entries.map(() => [] as Timing[])
  for (let round = -1; round < ROUNDS; round++)
    for (const [index, [, run]] of entries.entries()) {
      const timing = await run()
      if (round >= 0) times[index]!.push(timing)
    }
  return entries.map(([label], index) => {
    const cpus = times[index]!.map(t => t.cpu)
    return {
      label,
      ms: median(times[index]!.map(t => t.wall)),
      cpu: cpus.every(c => c !== undefined) ? median(cpus as number[]) : undefined
    }
  })
}

/** How many git processes a command started, from GIT_TRACE's "built-in: git ..." lines. */
function gitCalls(traceFile: string): number {
  // git writes the file; no git process, no file.
  const lines = existsSync(traceFile) ? readFileSync(traceFile, 'utf8').split('\n') : []
  rmSync(traceFile, { force: true })
  return lines.filter(line => /trace: (built-in|exec): git /.test(line)).length
}

test('start-up of a no-op CLI command and action tick against node -e 0', async () => {
  const repo = tempRepo(seedFiles())
  writeMetrics(repo, HEALTHY)
  const quiet = await startRepo({ files: seedFiles(undefined, 'canary') })
  const workspace = await checkout(quiet.gh)
  writeActionMetrics(workspace, HEALTHY)
  let hour = 4
  const cliEnv = { ...process.env }
  const actionTick = () =>
    measured(() => runPhasegate(quiet.gh, workspace, { now: hoursAfter(hour++) }))

  const rows = await sideBySide([
    ['node -e 0', () => timed(['-e', '0'])],
    ['phasegate status', () => timed([BIN, 'status'], { cwd: repo, env: cliEnv })],
    ['phasegate tick --dry-run', () => timed([BIN, 'tick', '--dry-run'], { cwd: repo })],
    [
      'phasegate status, without the compile cache',
      () =>
        timed([BIN, 'status'], { cwd: repo, env: { ...cliEnv, NODE_DISABLE_COMPILE_CACHE: '1' } })
    ],
    [
      // Young-generation GC is a sizeable share of a no-op command on Node 24 (five scavenges of a
      // heap that mostly survives); a larger semi-space avoids them. Node takes the flag only on
      // its command line, which a portable bin cannot set: this row shows what it would save.
      'phasegate status, node --min-semi-space-size=16',
      () => timed(['--min-semi-space-size=16', BIN, 'status'], { cwd: repo, env: cliEnv })
    ],
    [
      'phasegate status, unbundled (lib/cli.js)',
      () =>
        timed(
          [
            '--input-type=module',
            '-e',
            `const { main } = await import(${JSON.stringify(join(ROOT, 'lib/cli.js'))}); process.exitCode = await main(['status'])`
          ],
          { cwd: repo }
        )
    ],
    ['action: no-op tick (node dist/index.js)', actionTick]
  ])
  const baseline = rows[0]!.ms

  // Where the time goes. Each import runs in a fresh process; its cost is the difference to node -e 0.
  const importCost = (specifier: string) =>
    timed(['--input-type=module', '-e', `await import(${JSON.stringify(specifier)})`])
  const dependencies = [
    ['zod', 'CLI + action'],
    ['yaml', 'CLI + action'],
    ['@actions/core', 'action'],
    ['@actions/github', 'action'],
    ['@octokit/plugin-retry', 'action'],
    ['@octokit/plugin-throttling', 'action'],
    ['bottleneck', 'action']
  ] as const
  const imports = await sideBySide([
    ['node -e 0', () => timed(['-e', '0'])],
    ...dependencies.map(
      ([name, usedBy]) =>
        [`import ${name} (${usedBy})`, () => importCost(name)] as [string, () => Promise<Timing>]
    ),
    ['phasegate --help (the front door, no command loaded)', () => timed([BIN, '--help'])],
    [
      'import lib/lib.js (policy loading: zod, yaml, schemas)',
      () => importCost(join(ROOT, 'lib/lib.js'))
    ]
  ])
  const importBaseline = imports[0]!.ms

  // Policy parsing, in this process: the first parse (schemas warm up) and the median after it.
  const { loadPolicy } = (await import(join(ROOT, 'lib/lib.js'))) as typeof import('../src/lib.js')
  const policyFile = join(ROOT, 'policies/production_deployment.yaml')
  let start = performance.now()
  loadPolicy(policyFile)
  const firstParse = performance.now() - start
  const parses: number[] = []
  for (let i = 0; i < 20; i++) {
    start = performance.now()
    loadPolicy(policyFile)
    parses.push(performance.now() - start)
  }

  // git: processes per command, and what one costs here.
  const trace = join(tmpdir(), `phasegate-git-trace-${process.pid}`)
  const traced = { ...process.env, GIT_TRACE: trace }
  await timed([BIN, 'status'], { cwd: repo, env: traced })
  const statusGit = gitCalls(trace)
  await timed([BIN, 'tick', '--dry-run'], { cwd: repo, env: traced })
  const tickGit = gitCalls(trace)
  await runAction({
    entry: DIST,
    gh: quiet.gh,
    workspace,
    event: { name: 'schedule' },
    actor: 'alice',
    env: { GIT_TRACE: trace },
    inputs: {
      command: 'tick',
      'github-token': quiet.gh.tokenFor(BOT),
      'dry-run': 'false',
      mode: 'emergency',
      now: hoursAfter(hour++).toISOString()
    }
  })
  const actionGit = gitCalls(trace)
  const gitOne: number[] = []
  for (let i = 0; i < ROUNDS; i++) {
    const started = performance.now()
    await execFileAsync('git', ['rev-parse', 'HEAD'], { cwd: repo })
    gitOne.push(performance.now() - started)
  }
  const perGit = median(gitOne)
  await quiet.cleanup()

  const width = 56
  const ms = (value: number) => `${value.toFixed(0).padStart(5)} ms`
  const baselineCpu = rows[0]!.cpu
  // CPU: user + sys of the command and its git processes (Linux), besides wall time.
  const cpuColumn = (row: { cpu?: number }) =>
    row.cpu === undefined || !baselineCpu
      ? ''
      : `   cpu ${ms(row.cpu)}  ${(row.cpu / baselineCpu).toFixed(2)}x`
  console.log(`\nstart-up on Node ${process.version}, median of ${ROUNDS} interleaved rounds`)
  for (const row of rows)
    console.log(
      `  ${row.label.padEnd(width)} ${ms(row.ms)}  ${(row.ms / baseline).toFixed(2)}x${cpuColumn(row)}`
    )
  const cli = rows[1]!.ms / baseline
  const action = rows[6]!.ms / baseline
  const cache = process.version >= 'v22' ? 'Node 24 goal 1.5x' : 'goal 1.5x is for Node 24'
  console.log(`  CLI status ${cli.toFixed(2)}x (${cache}); action ${action.toFixed(2)}x (goal 2x)`)
  if (baselineCpu)
    console.log(
      `  by CPU time: CLI status ${(rows[1]!.cpu! / baselineCpu).toFixed(2)}x, tick --dry-run ${(rows[2]!.cpu! / baselineCpu).toFixed(2)}x, action ${(rows[6]!.cpu! / baselineCpu).toFixed(2)}x`
    )

  console.log('\nmodule loading: each import in a fresh process, minus node -e 0 (wall, cpu)')
  const importBaselineCpu = imports[0]!.cpu
  for (const row of imports.slice(1))
    console.log(
      `  ${row.label.padEnd(width)} ${ms(row.ms - importBaseline)}${row.cpu !== undefined && importBaselineCpu !== undefined ? `   cpu ${ms(row.cpu - importBaselineCpu)}` : ''}`
    )
  console.log('\npolicy parsing (seed policy, loadPolicy in one process)')
  console.log(`  ${'first parse'.padEnd(width)} ${ms(firstParse)}`)
  console.log(`  ${'each parse after it'.padEnd(width)} ${ms(median(parses))}`)
  console.log(`\ngit: processes started, at ${perGit.toFixed(0)} ms for one git rev-parse here`)
  for (const [label, calls] of [
    ['phasegate status', statusGit],
    ['phasegate tick --dry-run', tickGit],
    ['action: no-op tick', actionGit]
  ] as const)
    console.log(`  ${label.padEnd(width)} ${String(calls).padStart(5)}    ≈${ms(calls * perGit)}`)
}, 3_600_000)
