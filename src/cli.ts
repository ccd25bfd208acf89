import { existsSync } from 'node:fs'
import { resolve } from 'node:path'
import { Writable } from 'node:stream'
import { parseArgs, type ParseArgsConfig } from 'node:util'
import type { CheckObservation } from './engine/types.js'
import { PhasegateError } from './errors.js'
import { repoRoot } from './git/git.js'
import { readHistory } from './git/transitions.js'
import { analyze } from './commands/analyze.js'
import { assign } from './commands/assign.js'
import { exportRollouts } from './commands/export.js'
import { runDemo } from './commands/demo.js'
import { init } from './commands/init.js'
import { list } from './commands/list.js'
import { resume } from './commands/resume.js'
import { rollback } from './commands/rollback.js'
import { status } from './commands/status.js'
import { PartialTickError, tick } from './commands/tick.js'
import { loadRollouts, relativeTo } from './rollout/load.js'
import { renderAnalysis } from './experiments/render.js'
import { renderDecision, renderHistory } from './report/text.js'

const USAGE = `phasegate: phased rollouts and A/B experiments as GitOps

usage: phasegate <command> [options]

commands:
  validate                 check policy and state files
  status                   phase, gates, alerts and what tick would do now
  tick                     observe, decide, and commit an advance or a rollback
  rollback --reason TEXT   step back one phase now (--emergency also turns the kill switch off)
  resume --reason TEXT     turn the kill switch back on after an emergency
  init                     write the state file: the rollout starts at its first phase
  history                  the audit trail, read from git commit trailers
  demo                     a complete rollout in a scratch repository, narrated
  assign --experiment NAME [USER_ID ...] [--users FILE]
                           each user's experiment group, as user_id,group lines
  analyze --experiment NAME [--results FILE]
                           estimates, intervals, p-values, sample ratio check and verdict
  list [--shards N]         every feature and where it stands; --json prints a job matrix
  export [--format datafile|flagd] [--out FILE]
                           every feature's datafile as one document, or flagd flag definitions

options:
  --policy FILE            a policy file (repeatable; default: every policies/*.yaml)
  --json                   machine-readable output (status, tick, history, validate, assign, analyze)
  --dry-run                decide and report, but commit nothing (tick)
  --approved-by U1,U2      manual approvals in local mode (tick, status)
  --check NAME=RESULT      an automated test's conclusion, e.g. smoke=success (repeatable)
  --metrics FILE           read metrics from this snapshot file (file provider)
  --now TIME               evaluate at this ISO-8601 time instead of the clock
  --operator NAME          who is rolling back (default: git user.name)
  --experiment NAME        the experiment (assign, analyze)
  --users FILE             user ids, one per line (assign)
  --results FILE           per-user or aggregate results, CSV or NDJSON (analyze; default:
                           the policy's metrics provider)
  --fixed-horizon          analyze without sequential testing (only for a single look)
  --format FORMAT          export format: datafile (default) or flagd
  --out FILE               write the export to FILE instead of standard output
  --shards N               list --json: deal the features into N matrix jobs (max 256)
  -C DIR                   run as if started in DIR
`

const OPTIONS = {
  policy: { type: 'string', multiple: true },
  json: { type: 'boolean' },
  'dry-run': { type: 'boolean' },
  'approved-by': { type: 'string', multiple: true },
  check: { type: 'string', multiple: true },
  metrics: { type: 'string' },
  now: { type: 'string' },
  reason: { type: 'string' },
  emergency: { type: 'boolean' },
  operator: { type: 'string' },
  dir: { type: 'string', short: 'C' },
  help: { type: 'boolean', short: 'h' },
  keep: { type: 'string' },
  experiment: { type: 'string' },
  users: { type: 'string' },
  results: { type: 'string' },
  'fixed-horizon': { type: 'boolean' },
  format: { type: 'string' },
  out: { type: 'string' },
  shards: { type: 'string' }
} satisfies ParseArgsConfig['options']

export interface Io {
  out: (text: string) => void
  err: (text: string) => void
  /** Where long streamed output (assign) goes, with backpressure; defaults to `out`. */
  stream?: Writable
}

const processIo: Io = {
  stream: process.stdout,
  out: text => process.stdout.write(text.endsWith('\n') ? text : text + '\n'),
  err: text => process.stderr.write(text.endsWith('\n') ? text : text + '\n')
}

/** Runs one CLI invocation and returns the exit code: 0 done, 1 refused or bad input, 2 bad usage. */
export async function main(argv: string[], io: Io = processIo): Promise<number> {
  let parsed
  try {
    parsed = parseArgs({ args: argv, options: OPTIONS, allowPositionals: true, strict: true })
  } catch (error) {
    io.err(`phasegate: ${(error as Error).message}\n\n${USAGE}`)
    return 2
  }
  const { values, positionals } = parsed
  const command = positionals[0]
  if (values.help || !command) {
    io.out(USAGE)
    return command || values.help ? 0 : 2
  }
  try {
    const cwd = values.dir ?? process.cwd()
    const now = parseNow(values.now)
    const policies = values.policy ?? []
    const metricsFile =
      values.metrics === undefined ? undefined : existingFile(cwd, values.metrics, '--metrics')
    const common = {
      cwd,
      policies,
      now,
      approvedBy: (values['approved-by'] ?? [])
        .flatMap(v => v.split(','))
        .map(s => s.trim())
        .filter(Boolean),
      checks: (values.check ?? []).map(parseCheck),
      ...(metricsFile ? { metricsFile } : {})
    }
    switch (command) {
      case 'validate': {
        const rollouts = await loadRollouts(cwd, policies)
        if (values.json)
          io.out(
            JSON.stringify(
              rollouts.map(r => ({
                policy: relativeTo(cwd, r.policyFile),
                feature: r.policy.feature,
                phases: r.policy.phases.map(p => p.name),
                phase: r.state?.phase ?? null,
                notices: r.policy.notices ?? []
              })),
              null,
              2
            )
          )
        else
          for (const r of rollouts) {
            io.out(
              `ok  ${relativeTo(cwd, r.policyFile)}: feature ${r.policy.feature}, ${r.policy.phases.length} phases, ${r.state ? `at ${r.state.phase}` : 'not started'}`
            )
            for (const notice of r.policy.notices ?? []) io.out(`    notice: ${notice}`)
          }
        return 0
      }
      case 'status': {
        const results = await status(common)
        if (values.json)
          io.out(
            JSON.stringify(
              results.map(r => r.report),
              null,
              2
            )
          )
        else
          io.out(
            results
              .map(r =>
                [
                  renderDecision(r.policy, r.state, r.report.decision, now),
                  // The headline and reasons; `phasegate analyze` prints the whole analysis.
                  ...r.report.experiments.map(a =>
                    renderAnalysis(a)
                      .split('\n')
                      .slice(0, 1 + a.reasons.length)
                      .join('\n')
                  )
                ].join('\n')
              )
              .join('\n\n')
          )
        return 0
      }
      case 'tick': {
        const outcomes = await tick({ ...common, dryRun: values['dry-run'] ?? false })
        if (values.json) {
          io.out(
            JSON.stringify(
              outcomes.map(o => ({
                feature: o.rollout.policy.feature,
                decision: o.decision,
                commit: o.sha ?? null
              })),
              null,
              2
            )
          )
        } else {
          for (const o of outcomes) {
            io.out(renderDecision(o.rollout.policy, o.state, o.decision, now))
            if (o.sha) io.out(`  committed ${o.sha.slice(0, 10)}`)
            else if (o.decision.transition) io.out('  (dry run: nothing committed)')
          }
        }
        return 0
      }
      case 'rollback': {
        const result = await rollback({
          cwd,
          policies,
          reason: values.reason ?? '',
          emergency: values.emergency ?? false,
          operator: values.operator,
          now
        })
        io.out(
          `${result.transition.kind} ${result.rollout.policy.feature}: ${result.transition.from} -> ${result.transition.to}${result.transition.kind === 'emergency' ? ', kill switch OFF' : ''}; committed ${result.sha.slice(0, 10)}`
        )
        return 0
      }
      case 'resume': {
        const result = await resume({
          cwd,
          policies,
          reason: values.reason ?? '',
          operator: values.operator,
          now
        })
        io.out(
          `resumed ${result.rollout.policy.feature} at ${result.transition.to}, kill switch on; committed ${result.sha.slice(0, 10)}`
        )
        return 0
      }
      case 'init': {
        for (const s of await init({ cwd, policies, now }))
          io.out(
            `started ${s.rollout.policy.feature} at ${s.rollout.policy.phases[0]!.name}; committed ${s.sha.slice(0, 10)}`
          )
        return 0
      }
      case 'history': {
        const root = await repoRoot(cwd)
        const sources = (await loadRollouts(cwd, policies)).map(r => r.policy)
        const all = await readHistory(root, sources)
        // Asked for some policies, show theirs; otherwise every commit with trailers, so that
        // one naming a feature no policy rolls out shows as skipped too.
        const entries = policies.length
          ? all.filter(e => sources.some(s => s.feature === e.feature))
          : all
        io.out(values.json ? JSON.stringify(entries, null, 2) : renderHistory(entries))
        return 0
      }
      case 'demo':
        return await runDemo({ io, keep: values.keep })
      case 'assign': {
        await assign(
          {
            cwd,
            policies,
            experiment: values.experiment,
            userIds: positionals.slice(1),
            usersFile: values.users,
            json: values.json ?? false
          },
          io.stream ?? writableFrom(io.out)
        )
        return 0
      }
      case 'analyze': {
        const result = await analyze({
          cwd,
          policies,
          experiment: values.experiment,
          results: values.results,
          metricsFile,
          json: values.json ?? false,
          fixedHorizon: values['fixed-horizon'] ?? false,
          now
        })
        io.out(result.output)
        return result.exitCode
      }
      case 'list': {
        const shards = values.shards === undefined ? undefined : Number(values.shards)
        if (shards !== undefined && !(Number.isInteger(shards) && shards >= 1)) {
          io.err(`phasegate: --shards ${values.shards}: a whole number from 1 to 256`)
          return 2
        }
        const listed = await list({ cwd, policies, ...(shards ? { shards } : {}) })
        io.out(
          values.json
            ? JSON.stringify(listed.matrix)
            : listed.features
                .map(
                  f =>
                    `${f.feature}  ${f.phase ?? 'not started'}  ${f.enabled ? `${f.user_percentage}%` : 'off'}  ${f.policy}`
                )
                .join('\n')
        )
        return 0
      }
      case 'export': {
        const text = await exportRollouts({ cwd, policies, format: values.format, out: values.out })
        if (text !== null) io.out(text)
        return 0
      }
      default:
        io.err(`phasegate: unknown command "${command}"\n\n${USAGE}`)
        return 2
    }
  } catch (error) {
    if (error instanceof PartialTickError) {
      // The rollbacks that went ahead beside the broken policies, then every broken policy.
      for (const o of error.outcomes)
        io.out(
          `${o.rollout.policy.feature}: ${o.decision.action} ${o.decision.phase} -> ${o.decision.target}; committed ${o.sha!.slice(0, 10)}`
        )
      for (const failure of error.failures) io.err(`phasegate: ${failure.error.format()}`)
      return 1
    }
    if (error instanceof PhasegateError) {
      io.err(`phasegate: ${error.format()}`)
      return 1
    }
    throw error
  }
}

function writableFrom(out: (text: string) => void): Writable {
  return new Writable({
    write(chunk: Buffer, _encoding, done) {
      out(chunk.toString())
      done()
    }
  })
}

/** A file named on the command line, relative to -C; missing is an error, not "no data". */
function existingFile(cwd: string, file: string, option: string): string {
  const path = resolve(cwd, file)
  if (!existsSync(path)) {
    throw new PhasegateError(`${option} ${file}: no such file`, {
      hint: `paths are relative to ${cwd}`
    })
  }
  return path
}

function parseNow(text: string | undefined): Date {
  if (text === undefined) return new Date()
  const date = new Date(text)
  if (Number.isNaN(date.getTime()))
    throw new PhasegateError(`--now "${text}" is not a time`, {
      hint: 'use ISO-8601, e.g. 2026-11-27T09:00:00Z'
    })
  return date
}

function parseCheck(text: string): CheckObservation {
  const match = /^([^=]+)=(.*)$/.exec(text)
  if (!match)
    throw new PhasegateError(`--check "${text}" is not NAME=RESULT`, {
      hint: 'e.g. --check smoke-tests=success'
    })
  return { name: match[1]!.trim(), conclusion: match[2]!.trim() || null }
}
