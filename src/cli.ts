import { existsSync, statSync } from 'node:fs'
import { resolve } from 'node:path'
import { Writable } from 'node:stream'
import type { CheckObservation } from './engine/types.js'
import { helpText, parseCommandLine, version } from './cli/usage.js'
import { INSTANT_FORM, parseInstant } from './engine/time.js'
import { PhasegateError, UsageError } from './errors.js'
import { GITHUB_BOT_LOGIN, GITHUB_LOGIN } from './policy/login.js'
import { terminalText } from './report/escape/terminal.js'

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

/**
 * Runs one CLI invocation and returns the exit code: 0 done, 1 refused or bad input, 2 bad usage,
 * 3 done with every transition landed but a notification failed (EXIT_NOTIFICATION_FAILED).
 * What it prints passes terminalText (phasegate writes no escape sequence of its own), so a
 * reason, trailer, metric label or file name cannot act on the terminal; `assign`'s stream is
 * data and stays exact.
 */
export async function main(argv: string[], raw: Io = processIo): Promise<number> {
  const io: Io = {
    stream: raw.stream ?? writableFrom(raw.out),
    out: text => raw.out(terminalText(text)),
    err: text => raw.err(terminalText(text))
  }
  try {
    return await run(argv, io)
  } catch (error) {
    if (error instanceof UsageError) {
      io.err(`phasegate: ${error.format()}`)
      return 2
    }
    // Only a tick throws this; its module is loaded already when it does.
    const { PartialTickError } =
      error instanceof PhasegateError
        ? await import('./commands/tick.js')
        : { PartialTickError: undefined }
    if (PartialTickError && error instanceof PartialTickError) {
      // The rollbacks that went ahead beside the broken policies, then every broken policy.
      for (const o of error.outcomes)
        io.out(
          `${o.rollout.policy.feature}: ${o.decision.action} ${o.decision.phase} -> ${o.decision.target}; committed ${o.sha!.slice(0, 10)}`
        )
      for (const failure of error.failures) io.err(`phasegate: ${failure.error.format()}`)
      if (error.notifications) {
        const { renderNotifications } = await import('./notify/render.js')
        renderNotifications(error.notifications).lines.forEach(io.err)
      }
      return 1
    }
    if (error instanceof PhasegateError) {
      io.err(`phasegate: ${error.format()}`)
      return 1
    }
    throw error
  }
}

async function run(argv: string[], io: Io): Promise<number> {
  const line = parseCommandLine(argv)
  if (line.kind === 'version') {
    io.out(`phasegate ${version()}`)
    return 0
  }
  if (line.kind === 'help') {
    io.out(helpText(line.command))
    return 0
  }
  const { command, values, args } = line
  {
    const cwd = values.dir === undefined ? process.cwd() : existingDirectory(values.dir)
    const now = parseNow(values.now)
    const policies = values.policy ?? []
    const metricsFile =
      values.metrics === undefined ? undefined : existingFile(cwd, values.metrics, '--metrics')
    // A rollback may not wait on a mistyped name: it acts as the git user, and says why.
    // Every other command refuses, as nothing is lost by fixing the flag first.
    let operator = values.operator
    if (operator !== undefined && command === 'rollback' && !isGithubLogin(operator)) {
      io.err(
        `phasegate: warning: --operator ${JSON.stringify(operator)} is not a GitHub login: ignored, the rollback goes ahead as the git user (user.name)`
      )
      operator = undefined
    } else if (operator !== undefined) githubLogin(operator, '--operator')
    const common = {
      cwd,
      policies,
      now,
      approvedBy: (values['approved-by'] ?? [])
        .flatMap(v => v.split(','))
        .map(s => s.trim())
        .filter(Boolean)
        .map(login => githubLogin(login, '--approved-by')),
      checks: (values.check ?? []).map(parseCheck),
      ...(metricsFile ? { metricsFile } : {})
    }
    if (command === 'status' || command === 'tick' || command === 'validate') {
      // Their first step is the repository's root: read from the file system where git's
      // answer cannot differ (git/discover.ts), else git's process runs while modules load.
      const { primeRepoRoot } = await import('./git/git.js')
      primeRepoRoot(cwd)
    }
    switch (command) {
      case 'validate': {
        const { loadRolloutsSettled, relativeTo } = await import('./rollout/load.js')
        // Every policy is checked: one broken file hides no other's result.
        const { rollouts, failures } = await loadRolloutsSettled(cwd, policies)
        const { deliveryProblems } = await import('./rollout/datafile.js')
        const delivery = new Map(rollouts.map(r => [r, deliveryProblems(r, now)]))
        const problems = new Map(rollouts.map(r => [r, delivery.get(r)!.problems]))
        const rows = [
          ...rollouts.map(r => ({ policyFile: r.policyFile, rollout: r })),
          ...failures.map(f => ({ policyFile: f.policyFile, failure: f }))
        ].sort((a, b) => a.policyFile.localeCompare(b.policyFile))
        if (values.json)
          io.out(
            JSON.stringify(
              rows.map(row =>
                'rollout' in row
                  ? {
                      policy: relativeTo(cwd, row.policyFile),
                      feature: row.rollout.policy.feature,
                      phases: row.rollout.policy.phases.map(p => p.name),
                      phase: row.rollout.state?.phase ?? null,
                      notices: [
                        ...(row.rollout.policy.notices ?? []),
                        ...delivery.get(row.rollout)!.notices
                      ],
                      problems: problems.get(row.rollout)!.map(p => p.format())
                    }
                  : {
                      policy: relativeTo(cwd, row.policyFile),
                      error: {
                        message: row.failure.error.message,
                        ...(row.failure.error.location
                          ? { location: row.failure.error.location }
                          : {}),
                        ...(row.failure.error.hint ? { hint: row.failure.error.hint } : {})
                      }
                    }
              ),
              null,
              2
            )
          )
        else
          for (const row of rows) {
            if ('failure' in row) {
              io.out(`ERROR  ${relativeTo(cwd, row.policyFile)}: see below`)
              continue
            }
            const r = row.rollout
            const where = r.state ? `at ${r.state.phase}` : r.lost ? 'LOST' : 'not started'
            if (problems.get(r)!.length === 0)
              io.out(
                `ok  ${relativeTo(cwd, r.policyFile)}: feature ${r.policy.feature}, ${r.policy.phases.length} phases, ${where}`
              )
            for (const notice of [...(r.policy.notices ?? []), ...delivery.get(r)!.notices])
              io.out(`    notice: ${notice}`)
            for (const problem of problems.get(r)!) io.err(`phasegate: ${problem.format()}`)
          }
        for (const f of failures) io.err(`phasegate: ${f.error.format()}`)
        return failures.length || [...problems.values()].some(p => p.length > 0) ? 1 : 0
      }
      case 'status': {
        const { statusSettled } = await import('./commands/status.js')
        const { relativeTo } = await import('./rollout/load.js')
        const { renderDecision, renderFailure, renderNotStarted } = await import('./report/text.js')
        const { renderAnalysis } = await import('./experiments/render.js')
        const { driftError } = await import('./rollout/datafile.js')
        const { describeHeartbeat } = await import('./report/heartbeat.js')
        const { results, failures } = await statusSettled(common)
        // Every feature in policy file order: a broken one is an error row of its own.
        const rows = [
          ...results.map(r => ({ policyFile: r.report.policyFile, result: r })),
          ...failures.map(f => ({ policyFile: f.policyFile, failure: f }))
        ].sort((a, b) => a.policyFile.localeCompare(b.policyFile))
        if (values.json)
          io.out(
            JSON.stringify(
              rows.map(row =>
                'result' in row
                  ? row.result.report
                  : {
                      feature: row.failure.feature ?? null,
                      policyFile: row.failure.policyFile,
                      error: {
                        message: row.failure.error.message,
                        ...(row.failure.error.location
                          ? { location: row.failure.error.location }
                          : {}),
                        ...(row.failure.error.hint ? { hint: row.failure.error.hint } : {})
                      }
                    }
              ),
              null,
              2
            )
          )
        else
          io.out(
            rows
              .map(row => {
                if ('failure' in row)
                  return renderFailure(
                    row.failure.feature,
                    relativeTo(cwd, row.failure.policyFile),
                    row.failure.error
                  )
                const r = row.result
                return [
                  r.report.decision
                    ? renderDecision(r.policy, r.state, r.report.decision, now, r.report.exposure)
                    : renderNotStarted(r.policy, relativeTo(cwd, r.report.policyFile)),
                  ...(r.report.raiseWaits
                    ? [`  exposure raise held: ${r.report.raiseWaits.text}`]
                    : []),
                  describeHeartbeat(r.report.heartbeat),
                  ...(r.report.lost ? [`  LOST: ${r.report.lost.error}`] : []),
                  ...(r.report.datafile
                    ? [`  DATAFILE STALE: ${driftError(r.report.datafile).format()}`]
                    : []),
                  // The headline and reasons; `phasegate analyze` prints the whole analysis.
                  ...r.report.experiments.map(a =>
                    renderAnalysis(a)
                      .split('\n')
                      .slice(0, 1 + a.reasons.length)
                      .join('\n')
                  )
                ].join('\n')
              })
              .join('\n\n')
          )
        for (const f of failures) io.err(`phasegate: ${f.error.format()}`)
        return failures.length ? 1 : 0
      }
      case 'tick': {
        const { exitAfterNotifications, renderNotifications, tickAndNotify } =
          await import('./commands/notify.js')
        const { relativeTo } = await import('./rollout/load.js')
        const { renderDecision, renderNotStarted } = await import('./report/text.js')
        const { PartialTickError } = await import('./commands/tick.js')
        const { inForce } = await import('./rollout/datafile.js')
        let ticked: Awaited<ReturnType<typeof tickAndNotify>> & {
          failures?: InstanceType<typeof PartialTickError>['failures']
        }
        try {
          ticked = await tickAndNotify({
            ...common,
            dryRun: values['dry-run'] ?? false,
            nowGiven: values.now !== undefined
          })
        } catch (error) {
          // A dry run shows every decision it could make beside the policies it could not.
          if (!(error instanceof PartialTickError) || error.outcomes.length || !values['dry-run'])
            throw error
          ticked = {
            outcomes: error.evaluated,
            notifications: { deliveries: [], logged: [] },
            failures: error.failures
          }
        }
        const { outcomes, notifications } = ticked
        const notified = renderNotifications(notifications)
        if (values.json) {
          io.out(
            JSON.stringify(
              outcomes.map(o => ({
                feature: o.rollout.policy.feature,
                started: o.started,
                decision: o.started ? o.decision : null,
                commit: o.sha ?? null,
                // Only when a refresh was due (commit null: all of it waits): most ticks make none.
                ...(o.refreshed
                  ? {
                      datafileRefresh: {
                        commit: o.refreshed.sha,
                        path: o.refreshed.drift.path,
                        reason: o.refreshed.drift.reason,
                        ...(o.refreshed.waits ? { waits: o.refreshed.waits } : {})
                      }
                    }
                  : {})
              })),
              null,
              2
            )
          )
        } else {
          for (const o of outcomes) {
            if (!o.started) {
              io.out(renderNotStarted(o.rollout.policy, relativeTo(cwd, o.rollout.policyFile)))
              continue
            }
            // Without a transition, the header says what the datafile serves (a raise may wait).
            io.out(
              o.sha
                ? renderDecision(o.rollout.policy, o.state, o.decision, now)
                : renderDecision(
                    o.rollout.policy,
                    o.state,
                    o.decision,
                    now,
                    inForce(o.rollout, now).exposure
                  )
            )
            if (o.decision.rollbackNeedsApproval)
              io.out(
                `  ROLLBACK NEEDS APPROVAL (rollback.manual_approval_required): nothing committed; to roll back, run \`phasegate rollback --policy ${relativeTo(cwd, o.rollout.policyFile)} --reason "..."\``
              )
            else if (o.sha) io.out(`  committed ${o.sha.slice(0, 10)}`)
            else if (o.decision.transition) io.out('  (dry run: nothing committed)')
            if (o.refreshed?.sha)
              io.out(
                `  refreshed ${o.refreshed.drift.path} in ${o.refreshed.sha.slice(0, 10)} (not a transition): it ${o.refreshed.drift.reason}`
              )
            if (o.refreshed?.waits) io.out(`  ${o.refreshed.drift.path}: ${o.refreshed.waits}`)
          }
        }
        // Notifications went out after every commit; a failed one fails the run now.
        notified.lines.forEach(values.json ? io.err : io.out)
        for (const f of ticked.failures ?? []) io.err(`phasegate: ${f.error.format()}`)
        if (ticked.failures?.length) return 1
        return exitAfterNotifications(notified, 'every commit of this tick', io.err)
      }
      case 'rollback': {
        const { rollback } = await import('./commands/rollback.js')
        const result = await rollback({
          cwd,
          policies,
          reason: values.reason ?? '',
          emergency: values.emergency ?? false,
          operator,
          now,
          nowGiven: values.now !== undefined
        })
        // The lever acted: policy files that did not load beside it are reported, and do not
        // fail the run (a retry would step back again); the exit says whether the rollback landed.
        if ('error' in result) {
          const { feature } = result.rollout.policy
          const cause = result.cause === 'lost' ? 'state file lost' : 'state file unreadable'
          io.out(
            result.refreshed
              ? `emergency ${feature}: ${cause}; datafile ${result.refreshed.drift.path} rewritten OFF; committed ${result.refreshed.sha.slice(0, 10)}`
              : `emergency ${feature}: ${cause}; its datafile already says off (or is absent): nothing to commit`
          )
          io.err(`phasegate: ${result.error.format()}`)
          reportSkipped(io, result.skipped)
          return 0
        }
        io.out(
          `${result.transition.kind} ${result.rollout.policy.feature}: ${result.transition.from} -> ${result.transition.to}${result.transition.kind === 'emergency' ? ', kill switch OFF' : ''}; committed ${result.sha.slice(0, 10)}`
        )
        reportSkipped(io, result.skipped)
        return notifyLanded(io, cwd, result, `the ${result.transition.kind}`)
      }
      case 'resume': {
        const { resume } = await import('./commands/resume.js')
        const lift =
          values.pause && values['kill-switch']
            ? 'both'
            : values.pause
              ? 'pause'
              : values['kill-switch']
                ? 'kill-switch'
                : undefined
        const result = await resume({
          cwd,
          policies,
          reason: values.reason ?? '',
          operator: values.operator,
          ...(lift ? { lift } : {}),
          now,
          nowGiven: values.now !== undefined
        })
        io.out(
          `resumed ${result.rollout.policy.feature} at ${result.transition.to} (${[result.rollout.state?.paused ? 'pause lifted' : '', result.rollout.state?.enabled === false ? 'kill switch on' : ''].filter(Boolean).join(', ')}); committed ${result.sha.slice(0, 10)}`
        )
        return notifyLanded(io, cwd, result, 'the resume')
      }
      case 'pause': {
        const { pause } = await import('./commands/pause.js')
        const result = await pause({
          cwd,
          policies,
          reason: values.reason ?? '',
          operator: values.operator,
          now,
          nowGiven: values.now !== undefined
        })
        io.out(
          `paused ${result.rollout.policy.feature} at ${result.transition.to}: it does not advance until \`phasegate resume\`, rollback triggers still act; committed ${result.sha.slice(0, 10)}`
        )
        reportSkipped(io, result.skipped)
        return notifyLanded(io, cwd, result, 'the pause')
      }
      case 'init': {
        const { init } = await import('./commands/init.js')
        for (const s of await init({ cwd, policies, now }))
          io.out(
            `started ${s.rollout.policy.feature} at ${s.rollout.policy.phases[0]!.name}; committed ${s.sha.slice(0, 10)}`
          )
        return 0
      }
      case 'history': {
        const { repoRoot } = await import('./git/git.js')
        const { readHistory } = await import('./git/transitions.js')
        const { loadRollouts } = await import('./rollout/load.js')
        const { renderHistory } = await import('./report/text.js')
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
      case 'dashboard': {
        const { dashboard } = await import('./commands/dashboard.js')
        const { historyCachePath } = await import('./git/history-cache.js')
        const { git } = await import('./git/git.js')
        // The history read is kept in the git directory (never committed) so that the next build
        // reads only newer commits; see git/history-cache.ts.
        const historyCache = values['no-history-cache']
          ? undefined
          : {
              file: historyCachePath(await git(cwd, 'rev-parse', '--absolute-git-dir')),
              version: version()
            }
        const built = await dashboard({
          cwd,
          policies,
          out: resolve(cwd, values.out!),
          now,
          ...(metricsFile ? { metricsFile } : {}),
          ...(historyCache ? { historyCache } : {})
        })
        const cacheNote = built.model.historyRead?.cacheNote
        if (cacheNote) io.err(`phasegate: notice: ${cacheNote}`)
        for (const f of built.model.failures)
          io.err(`phasegate: ${f.policyFile}: could not be evaluated: ${f.message}`)
        io.out(
          `dashboard: ${built.model.features.length} feature${built.model.features.length === 1 ? '' : 's'}${built.model.failures.length ? `, ${built.model.failures.length} with errors` : ''}; open ${built.files.index}`
        )
        // The site is written either way (error cards show what failed); the exit code tells CI.
        return built.model.failures.length ? 1 : 0
      }
      case 'demo': {
        const { runDemo } = await import('./commands/demo.js')
        return await runDemo({ io, keep: values.keep })
      }
      case 'assign': {
        const { assign } = await import('./commands/assign.js')
        await assign(
          {
            cwd,
            policies,
            experiment: values.experiment,
            userIds: args,
            usersFile: values.users,
            json: values.json ?? false,
            csvFor: values.spreadsheet ? 'spreadsheet' : 'data'
          },
          io.stream ?? writableFrom(io.out)
        )
        return 0
      }
      case 'analyze': {
        const { analyze } = await import('./commands/analyze.js')
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
        const { list } = await import('./commands/list.js')
        const shards = values.shards === undefined ? undefined : Number(values.shards)
        if (shards !== undefined && !(Number.isInteger(shards) && shards >= 1 && shards <= 256))
          throw new UsageError(`--shards ${values.shards}: a whole number from 1 to 256`)
        const { relativeTo } = await import('./rollout/load.js')
        const listed = await list({ cwd, policies, now, ...(shards ? { shards } : {}) })
        io.out(
          values.json
            ? JSON.stringify(listed.matrix)
            : [
                ...listed.features.map(
                  f =>
                    `${f.feature}  ${f.phase ?? 'not started'}  ${f.enabled ? `${f.user_percentage}%` : 'off'}  ${f.policy}`
                ),
                ...listed.failures.map(
                  f => `ERROR  ${relativeTo(cwd, f.policyFile)}: does not load (see below)`
                )
              ].join('\n')
        )
        for (const f of listed.failures) io.err(`phasegate: ${f.error.format()}`)
        // The matrix names a broken policy too: its own job fails with the error, the others run.
        return listed.failures.length && !values.json ? 1 : 0
      }
      case 'export': {
        const { exportRollouts } = await import('./commands/export.js')
        const { text, warnings } = await exportRollouts({
          cwd,
          policies,
          format: values.format,
          out: values.out
        })
        if (text !== null) io.out(text)
        // Exported off (fail safe), and loud: a lost rollout needs a person.
        for (const w of warnings) io.err(`phasegate: warning: ${w.format()}`)
        return 0
      }
    }
  }
  throw new UsageError(`unknown command "${command}"`)
}

/**
 * Policy files that did not load beside a lever that acted: reported on stderr, never failing
 * the run (a retry would act again); the exit says whether the transition landed.
 */
function reportSkipped(io: Io, skipped: { error: { format(): string } }[] | undefined): void {
  skipped?.forEach(f => io.err(`phasegate: not loaded: ${f.error.format()}`))
}

/**
 * Tells the policy's notification targets of a transition that landed (`what`, e.g. "the
 * pause", named with its commit) and returns the exit status: 0, or 3 when only a notification
 * failed (see exitAfterNotifications).
 */
async function notifyLanded(
  io: Io,
  cwd: string,
  landed: Parameters<typeof import('./commands/notify.js').notifyTransition>[0],
  what: string
): Promise<number> {
  const { exitAfterNotifications, notifyTransition, renderNotifications } =
    await import('./commands/notify.js')
  const notified = renderNotifications(await notifyTransition(landed, cwd))
  notified.lines.forEach(io.out)
  return exitAfterNotifications(notified, `${what} ${landed.sha.slice(0, 10)}`, io.err)
}

function writableFrom(out: (text: string) => void): Writable {
  return new Writable({
    write(chunk: Buffer, _encoding, done) {
      out(chunk.toString())
      done()
    }
  })
}

/**
 * `login` when it is a GitHub login, the form the policy's approvers and operators take; anything
 * else (an e-mail, a display name, a control character) would be counted and recorded as if
 * someone had approved, so it is a usage error naming `option`.
 */
function githubLogin(login: string, option: string): string {
  if (isGithubLogin(login)) return login
  throw new UsageError(`${option} ${JSON.stringify(login)} is not a GitHub login`, {
    hint: "write the GitHub login (letters, digits and single dashes, e.g. alice, or an app's name[bot]), not an e-mail or a name"
  })
}

/** A person's or an app's bot login ("alice", "dependabot[bot]"); bots are named, never counted. */
function isGithubLogin(login: string): boolean {
  return GITHUB_LOGIN.test(login) || GITHUB_BOT_LOGIN.test(login)
}

/** -C's directory, which must exist: "not inside a git repository" would send a person astray. */
function existingDirectory(dir: string): string {
  if (!existsSync(dir) || !statSync(dir).isDirectory())
    throw new UsageError(`-C ${dir}: no such directory`, {
      hint: `paths are relative to ${process.cwd()}`
    })
  return dir
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
  const parsed = parseInstant(text)
  if ('reason' in parsed)
    throw new UsageError(`--now "${text}" is not a time: ${parsed.reason}`, {
      hint: `use ${INSTANT_FORM}`
    })
  return parsed.date
}

function parseCheck(text: string): CheckObservation {
  const match = /^([^=]+)=(.*)$/.exec(text)
  if (!match)
    throw new UsageError(`--check "${text}" is not NAME=RESULT`, {
      hint: 'e.g. --check smoke-tests=success'
    })
  return { name: match[1]!.trim(), conclusion: match[2]!.trim() || null }
}
