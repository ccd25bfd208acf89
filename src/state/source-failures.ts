import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import * as z from 'zod'
import { replaceFile } from './replace-file.js'

// source_failure_limit counts consecutive RUNS that could not read the metrics source, not HTTP
// attempts (a run's retries are one run). The count must survive from one run to the next without
// a commit: a count in the state file would churn commits and make approvals stale. The CLI keeps
// it in git's own directory; the action keeps it in the feature's metrics-source alert issue.

/** The runs, in a row, that could not read a feature's metrics source. */
export interface FailedRuns {
  /** When each run happened (ISO-8601), oldest first; a run that read the source clears them. */
  runs: string[]
  /** What the last of them saw. */
  reason: string
}

/** Where failed runs are kept between runs, per feature. */
export interface FailedRunsLedger {
  read(feature: string): Promise<FailedRuns | undefined>
  /** `undefined` clears the feature's record (its source was read). */
  write(feature: string, runs: FailedRuns | undefined): Promise<void>
}

/** More than any sensible source_failure_limit: older runs are dropped, not counted forever. */
const KEPT_RUNS = 100

/**
 * The ledger after this run: this run appended when it could not read the source (`failure` is
 * what it saw), cleared when it could.
 */
export function nextFailedRuns(
  previous: FailedRuns | undefined,
  failure: { reason: string } | undefined,
  now: Date
): FailedRuns | undefined {
  if (!failure) return undefined
  const runs = [...(previous?.runs ?? []).filter(t => t < now.toISOString()), now.toISOString()]
  return { runs: runs.slice(-KEPT_RUNS), reason: failure.reason }
}

/**
 * What the system_failure trigger counts: the failed runs at or after `since` (when the phase
 * was entered: failures before a transition are not evidence about the phase it entered).
 */
export function countFailedRuns(
  failed: FailedRuns | undefined,
  since: Date
): { consecutive: number; since: string; reason: string } | undefined {
  const runs = (failed?.runs ?? []).filter(t => Date.parse(t) >= since.getTime())
  if (!failed || runs.length === 0) return undefined
  return { consecutive: runs.length, since: runs[0]!, reason: failed.reason }
}

/** Where the CLI keeps its count of failed runs: inside git's own directory, never committed. */
export function sourceFailuresPath(gitDir: string): string {
  return join(gitDir, 'phasegate', 'source-failures.json')
}

const fileSchema = z.record(z.string(), z.object({ runs: z.array(z.string()), reason: z.string() }))

/** The CLI's ledger: one JSON file under `gitDir` (see sourceFailuresPath). */
export function gitDirLedger(gitDir: string): FailedRunsLedger {
  const path = sourceFailuresPath(gitDir)
  const load = (): Record<string, FailedRuns> => {
    try {
      const parsed = fileSchema.safeParse(JSON.parse(readFileSync(path, 'utf8')))
      // An unreadable ledger starts the count over: it can only delay a system_failure rollback
      // by the limit's number of runs, never cause one.
      return parsed.success ? parsed.data : {}
    } catch {
      return {}
    }
  }
  return {
    read: async feature => load()[feature],
    write: async (feature, runs) => {
      const all = load()
      if (runs) all[feature] = runs
      else if (all[feature]) delete all[feature]
      else return
      replaceFile(path, JSON.stringify(all, null, 2) + '\n')
    }
  }
}
