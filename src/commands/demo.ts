import { copyFileSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { stringify } from 'yaml'
import { git } from '../git/git.js'
import { readHistory } from '../git/transitions.js'
import { renderDecision, renderHistory } from '../report/text.js'
import { dashboard } from './dashboard.js'
import { init } from './init.js'
import { status } from './status.js'
import { tick } from './tick.js'
import { loadRollouts } from '../rollout/load.js'

interface DemoOptions {
  io: { out: (text: string) => void }
  /** Keep the scratch repository here instead of a temporary directory. */
  keep?: string
}

const POLICY = new URL('../../policies/production_deployment.yaml', import.meta.url)
const START = Date.parse('2026-03-02T09:00:00Z')
const hours = (h: number) => new Date(START + h * 3_600_000)

const HEALTHY = {
  error_rate: 0.004,
  performance_degradation: 0.03,
  user_satisfaction: 0.97,
  response_time: 850,
  system_failure: 0
}
const SPIKE = {
  error_rate: 0.05,
  performance_degradation: 0.04,
  user_satisfaction: 0.96,
  response_time: 900,
  system_failure: 0
}

/** The demo's metrics with their history (healthy, then the spike at hour 10) and experiment data. */
function demoSnapshot(): Record<string, unknown> {
  const times = Array.from({ length: 43 }, (_, i) => i * 0.25)
  const series = (metric: keyof typeof HEALTHY) =>
    times.map(h => [hours(h).toISOString(), (h >= 10 ? SPIKE : HEALTHY)[metric]])
  const group = (responseTime: number, accuracy: number, satisfaction: number) => ({
    accuracy: { value: accuracy, samples: 2400 },
    response_time: { value: responseTime, samples: 2400 },
    response_time_stddev: 310,
    cost_per_request: { value: 0.0021, samples: 2400 },
    cost_per_request_stddev: 0.0009,
    user_satisfaction: { value: satisfaction, samples: 2400 }
  })
  return {
    ...Object.fromEntries(
      (Object.keys(SPIKE) as Array<keyof typeof SPIKE>).map(m => [
        m,
        { value: SPIKE[m], series: series(m) }
      ])
    ),
    groups: { control: group(910, 0.88, 0.95), treatment: group(850, 0.91, 0.97) }
  }
}

/**
 * The quick start: a whole rollout of the seed's policy in a scratch git repository, driven by a
 * scripted timeline of metric snapshots, narrated for someone who has never seen phasegate.
 */
export async function runDemo(options: DemoOptions): Promise<number> {
  const { io } = options
  const dir = options.keep ? resolve(options.keep) : mkdtempSync(join(tmpdir(), 'phasegate-demo-'))
  mkdirSync(join(dir, 'policies'), { recursive: true })
  copyFileSync(POLICY, join(dir, 'policies', 'production_deployment.yaml'))
  writeFileSync(join(dir, '.gitignore'), '.phasegate/metrics/\n.phasegate/dashboard/\n')
  await git(dir, 'init', '-q', '-b', 'main')
  await git(dir, 'config', 'user.name', 'Demo User')
  await git(dir, 'config', 'user.email', 'demo@example.com')
  await git(dir, 'add', '-A')
  await git(dir, 'commit', '-q', '-m', 'Add the rollout policy for production_deployment')

  const metrics = (values: Record<string, number>) => {
    mkdirSync(join(dir, '.phasegate', 'metrics'), { recursive: true })
    writeFileSync(
      join(dir, '.phasegate', 'metrics', 'production_deployment.yaml'),
      stringify(values)
    )
    return Object.entries(values)
      .map(([k, v]) => `${k}=${v}`)
      .join(', ')
  }
  const step = (n: number, title: string, ...explanation: string[]) => {
    io.out(`\n=== ${n}. ${title} ===`)
    for (const line of explanation) io.out(line)
  }
  const runTick = async (at: Date, approvedBy: string[] = []) => {
    const by = approvedBy.length ? ` --approved-by ${approvedBy.join(',')}` : ''
    io.out(`\n$ phasegate tick --now ${at.toISOString()}${by}`)
    for (const o of await tick({
      cwd: dir,
      policies: [],
      now: at,
      dryRun: false,
      approvedBy,
      checks: []
    })) {
      io.out(renderDecision(o.rollout.policy, o.state, o.decision, at))
      if (o.sha) io.out(`  committed ${o.sha.slice(0, 10)}`)
    }
  }

  io.out('phasegate demo: a phased rollout run as GitOps, in a scratch git repository')
  io.out(`repository: ${dir}`)
  io.out("policy:     policies/production_deployment.yaml (the seed plan's file, unchanged)")
  io.out('ladder:     development -> staging -> canary -> limited_production -> full_production')
  io.out('Times are simulated with --now so the whole story runs in a few seconds.')

  step(
    1,
    'Start the rollout',
    'The state file records the current phase; phasegate alone writes it, one commit per transition.'
  )
  for (const s of await init({ cwd: dir, policies: [], now: hours(0) })) {
    io.out(
      `$ phasegate init\nstarted ${s.rollout.policy.feature} at development; committed ${s.sha.slice(0, 10)}`
    )
  }

  step(
    2,
    'A scheduled tick with no approval yet',
    "Every phase needs a person's approval to advance; on GitHub that is approving the advance pull request."
  )
  io.out(`metrics: ${metrics(HEALTHY)}`)
  await runTick(hours(0.25))

  step(3, 'Approved: development -> staging')
  await runTick(hours(0.5), ['alice'])

  step(4, 'Approved: staging -> canary (1% of users)')
  await runTick(hours(2), ['bob'])

  step(
    5,
    'In canary, healthy, approved, but too early',
    "Canary must run 24h (the policy's duration) with error_rate < 0.01, performance_degradation < 0.1 and user_satisfaction > 0.95."
  )
  io.out(`metrics: ${metrics(HEALTHY)}`)
  io.out(`\n$ phasegate status --now ${hours(8).toISOString()} --approved-by carol`)
  for (const r of await status({
    cwd: dir,
    policies: [],
    now: hours(8),
    approvedBy: ['carol'],
    checks: []
  })) {
    io.out(renderDecision(r.policy, r.state, r.report.decision!, hours(8)))
  }

  step(
    6,
    'An error spike in canary',
    'error_rate jumps to 0.05: past the critical alert threshold (0.02) and the rollback trigger "error_rate > 0.02".',
    'phasegate reverts the commit that advanced to canary: the rollout is back in staging.'
  )
  io.out(`metrics: ${metrics(SPIKE)}`)
  await runTick(hours(10))

  step(
    7,
    'The audit trail',
    'Every transition is a commit with trailers; `phasegate history` reads them back from git log.'
  )
  io.out('\n$ phasegate history')
  io.out(
    renderHistory(
      await readHistory(
        dir,
        (await loadRollouts(dir, [])).map(r => r.policy)
      )
    )
  )
  io.out(`\n$ git log --oneline\n${await git(dir, 'log', '--oneline')}`)

  step(
    8,
    'The dashboard',
    'A static site from the policy, the state, the audit trail, the metrics and the experiment:',
    'publish it to GitHub Pages (examples/workflows/phasegate-dashboard.yml) or open it from disk.'
  )
  // A metrics source with range data gives the dashboard series to draw; the snapshot carries
  // the story's readings every 15 minutes and the experiment's per-group statistics.
  writeFileSync(
    join(dir, '.phasegate', 'metrics', 'production_deployment.yaml'),
    stringify(demoSnapshot())
  )
  const out = join(dir, '.phasegate', 'dashboard')
  io.out(`\n$ phasegate dashboard --out .phasegate/dashboard --now ${hours(10.5).toISOString()}`)
  const built = await dashboard({ cwd: dir, policies: [], out, now: hours(10.5) })
  io.out(`dashboard: open ${built.files.index}`)
  io.out(
    `\nDone. Explore the scratch repository at ${dir} (try: git log, phasegate status -C ${dir}).`
  )
  return 0
}
