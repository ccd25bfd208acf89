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
import { parse } from 'yaml'
import { changedPaths, git, headSha, readObjects, runGit } from './git.js'
import { undoAdvance } from './undo.js'

export interface HistoryEntry extends TransitionRecord {
  sha: string
  at: string
  author: string
}

/** A commit whose message carries phasegate's trailers but which is not a transition. */
export interface SkippedCommit {
  sha: string
  at: string
  author: string
  /** What its trailers claim. */
  feature: string
  kind: string
  from: string
  to: string
  /** Why it is not a transition, in a sentence. */
  skipped: string
}

/** The audit trail of some features, newest first: the transitions and the skipped commits. */
export type History = Array<HistoryEntry | SkippedCommit>

/** The transitions of a history, newest first. */
export function transitionsOf(history: History): HistoryEntry[] {
  return history.filter((e): e is HistoryEntry => !('skipped' in e))
}

/** Where a feature's transitions are recorded. */
export type TransitionSource = Pick<Policy, 'feature' | 'statePath'>

/**
 * phasegate's own files for a rollout, relative to the repository root: its state file and its
 * datafile. All that its transitions may change, so all that an advance PR may change and a
 * rollback may revert (rollout/write.ts ownFilesOf is this).
 */
export function ownFiles(policy: Pick<Policy, 'statePath'>): string[] {
  return [policy.statePath, datafilePathOf(policy)]
}

/**
 * The paths a branch changes from `base` (a commit: the merge base) to `tip` that are not
 * `policy`'s own files, with renames split into delete + add so a moved file cannot hide. Empty
 * when the change is phasegate's alone.
 */
export async function foreignChanges(
  root: string,
  base: string,
  tip: string,
  policy: Pick<Policy, 'statePath'>
): Promise<string[]> {
  const own = ownFiles(policy)
  const changed = await git(root, 'diff', '--name-only', '--no-renames', base, tip)
  return changed.split('\n').filter(path => path && !own.includes(path))
}

/** The few state fields a transition must agree with, read leniently: old commits predate today's policy. */
function stateFacts(
  text: string | undefined
): { feature?: unknown; phase?: unknown; last?: Record<string, unknown> } | undefined {
  if (text === undefined) return undefined
  try {
    const raw = parse(text) as Record<string, unknown> | null
    if (!raw || typeof raw !== 'object') return {}
    const last = raw.last_transition
    return {
      feature: raw.feature,
      phase: raw.phase,
      ...(last && typeof last === 'object' ? { last: last as Record<string, unknown> } : {})
    }
  } catch {
    return {}
  }
}

/**
 * THE rule for which commits are transitions: a commit counts only when it changes the feature's
 * state file (`before` at its first parent, `after` at the commit; undefined where absent) and
 * the change agrees with its trailers: the file names the feature, is now in `to`, was in `from`
 * (an init creates the file), and its last_transition is the trailers' kind, from and to.
 * Returns the reason it is not one otherwise. Pure; rollback, history and the action all use it.
 */
export function transitionVerdict(
  record: TransitionRecord,
  statePath: string,
  before: string | undefined,
  after: string | undefined
): { ok: true } | { ok: false; reason: string } {
  const no = (reason: string) => ({ ok: false as const, reason })
  if (after === undefined)
    return no(before === undefined ? `does not change ${statePath}` : `deletes ${statePath}`)
  if (before === after) return no(`does not change ${statePath}`)
  const now = stateFacts(after)!
  const was = stateFacts(before)
  const claim = `${record.kind} ${record.from} -> ${record.to}`
  if (now.feature !== record.feature)
    return no(`${statePath} is not the state of ${record.feature}`)
  if (now.phase !== record.to)
    return no(`its trailers claim ${claim} but ${statePath} is now in ${String(now.phase)}`)
  if (record.kind === 'init') {
    return was === undefined ? { ok: true } : no(`an init must create ${statePath}`)
  }
  if (was === undefined) return no(`its trailers claim ${claim} but it creates ${statePath}`)
  if (was.phase !== record.from)
    return no(`its trailers claim ${claim} but ${statePath} was in ${String(was.phase)}`)
  const last = now.last
  if (!last || last.kind !== record.kind || last.from !== record.from || last.to !== record.to)
    return no(`its trailers claim ${claim} but ${statePath} records a different last transition`)
  return { ok: true }
}

const FIELD = '\u001f'
const RECORD = '\u001e'

/**
 * The audit trail of `sources`' features, newest first, read from the commits that carry
 * phasegate trailers: each is a transition only as `transitionVerdict` says, judged on the state
 * file at the commit and at its first parent; every other such commit is a SkippedCommit saying
 * why.
 * Commits naming a feature no source rolls out are skipped too.
 */
export async function readHistory(root: string, sources: TransitionSource[]): Promise<History> {
  const history: History = []
  if (!(await headSha(root))) return history
  const out = await git(
    root,
    'log',
    'HEAD',
    `--format=%H${FIELD}%cI${FIELD}%an${FIELD}%B${RECORD}`,
    '--grep=^Phasegate-Feature: '
  )
  const paths = new Map(sources.map(s => [s.feature, s.statePath]))
  const candidates: Array<{ entry: HistoryEntry; path: string | undefined }> = []
  for (const chunk of out.split(RECORD)) {
    const [sha, at, author, message] = chunk.replace(/^\n/, '').split(FIELD)
    if (!sha || !message) continue
    const record = parseTransitionMessage(message)
    if (!record) continue
    candidates.push({
      entry: { ...record, sha, at: at!, author: author! },
      path: paths.get(record.feature)
    })
  }
  const known = candidates.filter(c => c.path !== undefined)
  const blobs = await readObjects(
    root,
    known.flatMap(c => [`${c.entry.sha}^:${c.path}`, `${c.entry.sha}:${c.path}`])
  )
  const contents = new Map(known.map((c, i) => [c, [blobs[2 * i], blobs[2 * i + 1]]]))
  for (const candidate of candidates) {
    const { entry, path } = candidate
    const [before, after] = contents.get(candidate) ?? []
    const verdict =
      path === undefined
        ? { ok: false as const, reason: `no policy here rolls out ${entry.feature}` }
        : transitionVerdict(entry, path, before, after)
    if (verdict.ok) history.push(entry)
    else
      history.push({
        sha: entry.sha,
        at: entry.at,
        author: entry.author,
        feature: entry.feature,
        kind: entry.kind,
        from: entry.from,
        to: entry.to,
        skipped: verdict.reason
      })
  }
  return history
}

/**
 * The advance commit that brought the rollout into `phase` and has not been reverted since, from
 * the transitions only (readHistory), so a rollback never undoes a commit that merely carries
 * trailers.
 */
export function advanceToUndo(history: History, phase: string): HistoryEntry | undefined {
  const transitions = transitionsOf(history)
  const reverted = new Set(transitions.flatMap(h => (h.reverts ? [h.reverts] : [])))
  return transitions.find(h => h.kind === 'advance' && h.to === phase && !reverted.has(h.sha))
}

export interface CommitOptions {
  root: string
  policy: Policy
  next: State
  transition: Transition | TransitionRecord
  body?: string[]
  /** Commit timestamp (the decision's `now`), so history lines up with the evidence. */
  now: Date
  /**
   * Compare-and-swap: the HEAD the decision was made on. When HEAD has moved since, nothing is
   * written or committed and a PhasegateError says so, unless every commit since is a descendant
   * that changes none of this rollout's own files and none of `inputs` (someone's unrelated
   * commit cannot change the decision, so it does not cost the rollout a tick).
   */
  expectedHead?: string
  /** Besides the rollout's own files, the paths the decision read (its policy file), from the root. */
  inputs?: string[]
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
 * Whether HEAD moved from `from` to `to` only by commits on top of it that change none of `paths`
 * (relative to the root): then a decision made at `from` still stands at `to`.
 */
async function movedAside(
  root: string,
  from: string,
  to: string | undefined,
  paths: string[]
): Promise<boolean> {
  if (to === undefined) return false
  const ancestor = await runGit(root, ['merge-base', '--is-ancestor', from, to], {
    allowFailure: true
  })
  if (ancestor.code !== 0) return false
  return (await git(root, 'diff', '--name-only', '--no-renames', from, to, '--', ...paths)) === ''
}

/**
 * Writes the new state and commits only the state file. A rollback undoes `transition.reverts`:
 * by `git revert --no-commit` when that advance touched only phasegate's files and reverts
 * cleanly, otherwise by writing the state alone (undoAdvance); either way the rollback's own
 * state and evidence are written on top, and application files are never changed.
 */
export async function commitTransition(options: CommitOptions): Promise<string> {
  const { root, policy, next, now } = options
  const statePath = policy.statePath
  const file = join(root, statePath)
  if (options.expectedHead !== undefined) {
    const head = await headSha(root)
    if (
      head !== options.expectedHead &&
      !(await movedAside(root, options.expectedHead, head, [
        ...ownFiles(policy),
        ...(options.inputs ?? [])
      ]))
    )
      throw new PhasegateError(
        `HEAD moved from ${options.expectedHead.slice(0, 12)} to ${head?.slice(0, 12)} while this run decided; nothing was committed`,
        { hint: 'someone committed meanwhile: run it again to decide from the new HEAD' }
      )
  }
  await assertStateClean(root, statePath)
  const previousText = existsSync(file) ? readFileSync(file, 'utf8') : undefined
  let record =
    'feature' in options.transition
      ? options.transition
      : recordOf(policy.feature, options.transition)
  const body = [...(options.body ?? [])]
  const env = commitEnv(now)
  if (record.reverts) {
    const own = [statePath, datafilePathOf(policy)]
    const undo = await undoAdvance(root, record.reverts, own, env)
    if (undo.by === 'write-back') {
      record = { ...record, leftAlone: undo.leftAlone }
      body.unshift(`Not reverted with git: ${undo.why}.`)
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
  // Only phasegate's own files are committed (a revert staged nothing else), leaving unrelated
  // work in the tree and index untouched.
  await runGit(root, ['commit', '-q', '-F', '-', '--', statePath, datafilePath], {
    input: commitMessage(record, body),
    env
  })
  return git(root, 'rev-parse', 'HEAD')
}
