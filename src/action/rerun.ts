import * as core from '@actions/core'
import type { Transition } from '../engine/types.js'
import { readHistory, transitionsOf, type HistoryEntry } from '../git/transitions.js'
import type { Rollout } from '../rollout/load.js'
import { terminalText } from '../report/escape/terminal.js'

// A dispatched transition is done once per workflow run. GitHub's "Re-run failed jobs" (or "Re-run
// all jobs") runs the same dispatch again with the same GITHUB_RUN_ID and the next
// GITHUB_RUN_ATTEMPT; when the first attempt landed its rollback and failed only afterwards (a
// notification), acting again would step back a second phase. So each dispatched transition
// carries its run id as a trailer (Phasegate-Dispatch-Run), and a re-run first looks for it.
// The look never stops a rollback it should not: a first attempt does not look (nothing can have
// landed before it, and no commit naming a future run id can hold it back), only a transition of
// the same kind counts, and a history that cannot be read counts as "not landed".

/** The workflow run of this dispatch: its id (the same on every attempt) and the attempt. */
export interface DispatchRun {
  id: string
  attempt: number
}

/** The workflow run this step belongs to; undefined outside GitHub Actions. */
export function dispatchRun(): DispatchRun | undefined {
  const id = process.env.GITHUB_RUN_ID?.trim()
  if (!id) return undefined
  const attempt = Number(process.env.GITHUB_RUN_ATTEMPT ?? '1')
  return { id, attempt: Number.isInteger(attempt) && attempt >= 1 ? attempt : 1 }
}

/**
 * The transition of `kind` that an earlier attempt of this workflow run (`run`) landed on the
 * checked-out branch for `rollout`, with its commit; undefined on a first attempt, when there is
 * none, or when the history cannot be read (then a warning says so, and the dispatch acts).
 */
export async function landedByThisRun(
  rollout: Rollout,
  run: DispatchRun | undefined,
  kind: Transition['kind']
): Promise<{ sha: string; transition: Transition } | undefined> {
  if (!run || run.attempt < 2) return undefined
  const runId = run.id
  let entries: HistoryEntry[]
  try {
    entries = transitionsOf(await readHistory(rollout.root, [rollout.policy]))
  } catch (error) {
    core.warning(
      terminalText(
        `could not read the history of ${rollout.policy.feature} to tell whether this run already landed its transition (${(error as Error).message.split('\n')[0]}): acting`
      )
    )
    return undefined
  }
  const entry = entries.find(
    e => e.feature === rollout.policy.feature && e.dispatchRun === runId && e.kind === kind
  )
  if (!entry) return undefined
  return {
    sha: entry.sha,
    transition: {
      kind: entry.kind as Transition['kind'],
      from: entry.from,
      to: entry.to,
      at: entry.at,
      reason: entry.reason,
      approvers: entry.approvers,
      ...(entry.operator ? { operator: entry.operator } : {}),
      ...(entry.reverts ? { reverts: entry.reverts } : {}),
      evidence: entry.evidence,
      dispatchRun: runId
    }
  }
}
