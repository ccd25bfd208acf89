import { existsSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import type { Policy, State, Transition } from '../engine/types.js'
import { PhasegateError } from '../errors.js'
import { datafilePathOf, featureDatafile, renderDatafile } from '../export/datafile.js'
import { writeState } from '../state/file.js'
import {
  commitMessage,
  parseTransitionMessage,
  recordOf,
  type TransitionRecord
} from '../state/trailers.js'
import { changedPaths, git, headSha, runGit } from './git.js'

export interface HistoryEntry extends TransitionRecord {
  sha: string
  at: string
  author: string
}

const FIELD = '\u001f'
const RECORD = '\u001e'

/** The audit trail: every phasegate commit for `feature`, newest first, read from trailers. */
export async function readHistory(root: string, feature?: string): Promise<HistoryEntry[]> {
  if (!(await headSha(root))) return []
  const out = await git(
    root,
    'log',
    'HEAD',
    `--format=%H${FIELD}%cI${FIELD}%an${FIELD}%B${RECORD}`,
    '--grep=^Phasegate-Feature: '
  )
  const entries: HistoryEntry[] = []
  for (const chunk of out.split(RECORD)) {
    const [sha, at, author, message] = chunk.replace(/^\n/, '').split(FIELD)
    if (!sha || !message) continue
    const record = parseTransitionMessage(message)
    if (!record || (feature && record.feature !== feature)) continue
    entries.push({ ...record, sha, at: at!, author: author! })
  }
  return entries
}

/** The advance commit that brought the rollout into `phase` and has not been reverted since. */
export function advanceToUndo(history: HistoryEntry[], phase: string): HistoryEntry | undefined {
  const reverted = new Set(history.flatMap(h => (h.reverts ? [h.reverts] : [])))
  return history.find(h => h.kind === 'advance' && h.to === phase && !reverted.has(h.sha))
}

export interface CommitOptions {
  root: string
  policy: Policy
  next: State
  transition: Transition | TransitionRecord
  body?: string[]
  /** Commit timestamp (the decision's `now`), so history lines up with the evidence. */
  now: Date
}

function commitEnv(now: Date): Record<string, string> {
  const date = now.toISOString()
  return {
    GIT_AUTHOR_DATE: date,
    GIT_COMMITTER_DATE: date,
    GIT_AUTHOR_NAME: process.env.GIT_AUTHOR_NAME ?? 'phasegate',
    GIT_AUTHOR_EMAIL: process.env.GIT_AUTHOR_EMAIL ?? 'phasegate@users.noreply.github.com',
    GIT_COMMITTER_NAME: process.env.GIT_COMMITTER_NAME ?? 'phasegate',
    GIT_COMMITTER_EMAIL: process.env.GIT_COMMITTER_EMAIL ?? 'phasegate@users.noreply.github.com'
  }
}

/** Refuses to commit over someone's uncommitted edits to the state file. */
async function assertStateClean(root: string, statePath: string): Promise<void> {
  const dirty = await changedPaths(root, [statePath])
  if (dirty.length > 0) {
    throw new PhasegateError(`the state file has uncommitted changes`, {
      location: { file: statePath },
      hint:
        'state files are written only by phasegate: `git checkout -- ' +
        statePath +
        '` to discard the edits'
    })
  }
}

/**
 * Writes the new state and commits only the state file. A rollback reverts `transition.reverts`
 * (git revert --no-commit) and then writes the rollback's own state and evidence on top, so the
 * commit both undoes the advance and records why.
 */
export async function commitTransition(options: CommitOptions): Promise<string> {
  const { root, policy, next, now } = options
  const statePath = policy.statePath
  const file = join(root, statePath)
  await assertStateClean(root, statePath)
  const previousText = existsSync(file) ? readFileSync(file, 'utf8') : undefined
  const record =
    'feature' in options.transition
      ? options.transition
      : recordOf(policy.feature, options.transition)
  const env = commitEnv(now)
  if (record.reverts) {
    const revert = await runGit(root, ['revert', '--no-commit', record.reverts], {
      allowFailure: true,
      env
    })
    if (revert.code !== 0) {
      const conflicted = (await git(root, 'diff', '--name-only', '--diff-filter=U'))
        .split('\n')
        .filter(Boolean)
      // phasegate's own files (state, datafile) are written afresh below; any other conflict stops.
      const own = [statePath, datafilePathOf(policy)]
      if (conflicted.some(path => !own.includes(path))) {
        await runGit(root, ['revert', '--abort'], { allowFailure: true })
        throw new PhasegateError(
          `reverting ${record.reverts.slice(0, 12)} conflicts in ${conflicted.join(', ')}`,
          {
            hint: 'resolve by hand: the advance commit touched files that changed since'
          }
        )
      }
    }
  }
  const written = writeState(file, next, previousText)
  if (previousText !== undefined && written === previousText) {
    throw new PhasegateError('the transition does not change the state file', {
      location: { file: statePath }
    })
  }
  // The datafile travels in the same commit as the state it reflects, made on today's HEAD.
  const datafilePath = datafilePathOf(policy)
  writeFileSync(
    join(root, datafilePath),
    renderDatafile(featureDatafile(policy, next, (await headSha(root)) ?? null))
  )
  await git(root, 'add', '--', statePath, datafilePath)
  // A revert commits what it staged; any other transition commits the state file alone, leaving
  // unrelated work in the tree untouched.
  const only = record.reverts ? [] : ['--', statePath, datafilePath]
  await runGit(root, ['commit', '-q', '-F', '-', ...only], {
    input: commitMessage(record, options.body ?? []),
    env
  })
  return git(root, 'rev-parse', 'HEAD')
}
