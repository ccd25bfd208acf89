import { existsSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import type { Evidence, Policy, State, Transition } from '../engine/types.js'
import { PhasegateError } from '../errors.js'
import { datafilePathOf, featureDatafile, renderDatafile } from '../export/datafile.js'
import { writeState } from '../state/file.js'
import {
  commitMessage,
  parseTransitionMessage,
  recordOf,
  REFRESH_TRAILER,
  type RecordKind,
  type TransitionRecord
} from '../state/trailers.js'
import { parse } from 'yaml'
import { changedPaths, git, headSha, objectReader, runGit, streamGit } from './git.js'
import { LOG_FORMAT, LOG_RAW_ARGS, LogReader, type LoggedCommit } from './log.js'
import { undoAdvance } from './undo.js'

export interface HistoryEntry extends TransitionRecord {
  sha: string
  at: string
  author: string
  /**
   * Share of users (0-100) exposed from this transition on, as the datafile its commit wrote
   * says (0 where that says not enabled). Read only when asked (readHistory's `exposure`: the
   * dashboard's audit trail); absent then too where the commit wrote no readable datafile
   * (histories from before datafiles): unknown, never today's policy's figure.
   */
  usersPercent?: number
}

/** What readHistory reads besides the state files. */
export interface HistoryOptions {
  /**
   * Read each transition's datafile for `usersPercent` (a blob more per transition), and the
   * datafile refreshes too (SkippedCommit of kind 'refresh'): they change the share in force
   * between transitions.
   */
  exposure?: boolean
}

/** A commit whose message carries phasegate's trailers but which is not a transition. */
export interface SkippedCommit {
  sha: string
  at: string
  author: string
  /**
   * For a datafile refresh (kind 'refresh', read only with HistoryOptions.exposure): the share of
   * users its datafile exposes from then on, when it says.
   */
  usersPercent?: number
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

/** The few state fields a transition must agree with (`last` is last_transition when it is a map or list). */
export interface StateFacts {
  feature?: unknown
  phase?: unknown
  last?: Record<string, unknown>
}

/**
 * The state fields a transition must agree with, read leniently: old commits predate today's
 * policy, and a file that is not YAML has no facts. Files in the shape phasegate writes are read
 * by a line scanner (quickStateFacts; a history of 100,000 transitions parses 200,000 of them),
 * anything else by the YAML parser.
 */
export function stateFacts(text: string | undefined): StateFacts | undefined {
  if (text === undefined) return undefined
  return quickStateFacts(text) ?? yamlStateFacts(text)
}

/** stateFacts by the YAML parser: the reference quickStateFacts must agree with. */
export function yamlStateFacts(text: string): StateFacts {
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
 * The characters a line of the subset may not hold outside a trailing `: []` or `: {}`: YAML's
 * quoting, anchor, tag, block, directive and flow characters and `#` (a comment after a value).
 */
const FORBIDDEN = new Uint8Array(128)
for (const c of '"\'|>&*!%@`\\#[]{}') FORBIDDEN[c.charCodeAt(0)] = 1
/** The keys the YAML core schema does not read as the string they spell. */
const NOT_KEYS = new Set(['null', 'true', 'false', '__proto__'])
/** A fact's value: a plain string the YAML core schema reads as a string. */
const WORD = /^(?!(?:null|Null|NULL|true|True|TRUE|false|False|FALSE)$)[A-Za-z_][A-Za-z0-9_-]*$/
/** A one-line plain scalar whose meaning is its text: no quoting, flow, block or comment syntax. */
const PLAIN = /^[A-Za-z0-9_(/](?:[^:]|:(?! |$))*$/

type Line = { indent: number; key?: string; value?: string }
type Plain = string | null | Plain[] | { [key: string]: Plain }

/**
 * stateFacts for the subset of YAML phasegate writes (block maps and lists of one-line plain
 * scalars, comments on lines of their own), or undefined for any text outside it, which the YAML
 * parser then reads. It never guesses: for every text it answers, the answer is the YAML parser's
 * (test/unit/state/quick-facts.property.test.ts).
 */
export function quickStateFacts(text: string): StateFacts | undefined {
  // No control characters, byte-order marks or line separators anywhere, comments included.
  // eslint-disable-next-line no-control-regex -- control characters are what this rejects
  if (/[\x00-\x09\x0b-\x1f\x7f\x85\ufeff\u2028\u2029]/.test(text)) return undefined
  // Read by character codes, not a regular expression per line: a history of 100,000
  // transitions reads 100,000 of these files.
  const lines: Line[] = []
  for (let start = 0; start <= text.length;) {
    let end = text.indexOf('\n', start)
    if (end < 0) end = text.length
    const line = lineOf(text, start, end)
    start = end + 1
    if (line === null) continue
    if (line === undefined) return undefined
    lines.push(line)
  }
  if (lines[0]?.indent !== 0 || lines[0].key === undefined) return undefined
  const root = plainBlock(lines, 0)
  if (!root || root.next !== lines.length) return undefined
  const doc = root.value as Record<string, Plain>
  const word = (v: Plain | undefined) =>
    v === undefined || v === null || (typeof v === 'string' && WORD.test(v))
  if (!word(doc.feature) || !word(doc.phase)) return undefined
  const last = doc.last_transition
  if (last && typeof last === 'object' && !Array.isArray(last)) {
    if (!word(last.kind) || !word(last.from) || !word(last.to)) return undefined
  }
  return {
    feature: doc.feature,
    phase: doc.phase,
    ...(last && typeof last === 'object' ? { last: last as Record<string, unknown> } : {})
  }
}

/**
 * The line text[start, end) as `key: value`, `key:` or `- value` with its indentation (spaces);
 * null for an empty line or a comment; undefined for anything else. Printable ASCII only, and no
 * FORBIDDEN character except in a trailing `: []` or `: {}` (flow collections and comments only as
 * phasegate writes them: an empty `[]` or `{}` value).
 */
function lineOf(text: string, start: number, end: number): Line | null | undefined {
  if (start === end || text.charCodeAt(start) === 35 /* # */) return null
  let body = end
  if (end - start >= 4 && text.charCodeAt(end - 4) === 58 && text.charCodeAt(end - 3) === 32) {
    const open = text.charCodeAt(end - 2)
    const close = text.charCodeAt(end - 1)
    if ((open === 91 && close === 93) || (open === 123 && close === 125)) body = end - 4
  }
  for (let i = start; i < body; i++) {
    const c = text.charCodeAt(i)
    if (c < 0x20 || c > 0x7e || FORBIDDEN[c] === 1) return undefined
  }
  let at = start
  while (at < end && text.charCodeAt(at) === 32) at++
  const indent = at - start
  const first = text.charCodeAt(at)
  if (first === 45 /* - */) {
    if (text.charCodeAt(at + 1) !== 32 || at + 1 >= end) return undefined
    return { indent, value: text.slice(at + 2, end) }
  }
  // A key: [a-z_][a-z0-9_]*, then `:` at the end of the line or followed by a space.
  if (!((first >= 97 && first <= 122) || first === 95)) return undefined
  let colon = at + 1
  for (; colon < end; colon++) {
    const c = text.charCodeAt(colon)
    if (!((c >= 97 && c <= 122) || (c >= 48 && c <= 57) || c === 95)) break
  }
  if (colon >= end || text.charCodeAt(colon) !== 58) return undefined
  const key = text.slice(at, colon)
  if (NOT_KEYS.has(key)) return undefined
  if (colon + 1 === end) return { indent, key }
  if (text.charCodeAt(colon + 1) !== 32) return undefined
  return { indent, key, value: text.slice(colon + 2, end) }
}

/** The block (map or list) starting at lines[start], or undefined outside the subset. */
function plainBlock(lines: Line[], start: number): { value: Plain; next: number } | undefined {
  const { indent } = lines[start]!
  const list = lines[start]!.key === undefined
  const value: Plain = list ? [] : {}
  let i = start
  while (
    i < lines.length &&
    lines[i]!.indent === indent &&
    (lines[i]!.key === undefined) === list
  ) {
    const line = lines[i]!
    const below = lines[i + 1]
    let item: Plain
    if (line.value === undefined) {
      if (below && below.indent > indent) {
        const child = plainBlock(lines, i + 1)
        if (!child) return undefined
        item = child.value
        i = child.next
      } else {
        // A list at its key's own indentation is YAML too, but not phasegate's shape.
        if (below && below.indent === indent && below.key === undefined) return undefined
        item = null
        i++
      }
    } else {
      // Nothing may hang under a value that ended on its line (a continuation, or an error).
      if (below && below.indent > indent) return undefined
      if (line.value === '[]' || line.value === '{}') item = line.value === '[]' ? [] : {}
      else if (PLAIN.test(line.value)) item = line.value
      else return undefined
      i++
    }
    if (Array.isArray(value)) value.push(item)
    else {
      if (Object.hasOwn(value, line.key!)) return undefined
      ;(value as Record<string, Plain>)[line.key!] = item
    }
  }
  return { value, next: i }
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
  const facts = (text: string | undefined) =>
    text === undefined ? undefined : { same: text, facts: stateFacts(text)! }
  return verdictOf(record, statePath, facts(before), facts(after))
}

/** A state file as transitionVerdict needs it: equal `same` means equal contents. */
interface Judged {
  same: string
  facts: StateFacts
}

/** transitionVerdict on files whose facts are already read (readHistory reads each blob once). */
function verdictOf(
  record: TransitionRecord,
  statePath: string,
  before: Judged | undefined,
  after: Judged | undefined
): { ok: true } | { ok: false; reason: string } {
  const no = (reason: string) => ({ ok: false as const, reason })
  if (after === undefined)
    return no(before === undefined ? `does not change ${statePath}` : `deletes ${statePath}`)
  if (before?.same === after.same) return no(`does not change ${statePath}`)
  const now = after.facts
  const was = before?.facts
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

const NO_BLOB = /^0+$/
/** A datafile refresh's trailer (state/trailers.ts refreshMessage): the feature it names. */
const REFRESHED = new RegExp(`^${REFRESH_TRAILER}: (.+)$`, 'm')

/**
 * The audit trail of `sources`' features, newest first, read from the commits that carry
 * phasegate trailers: each is a transition only as `transitionVerdict` says, judged on the state
 * file at the commit and at its first parent; every other such commit is a SkippedCommit saying
 * why.
 * Commits naming a feature no source rolls out are skipped too.
 *
 * One `git log` reads the messages and, as a raw diff against the first parent, the blob ids of
 * each state file before and after; one `git cat-file --batch` reads each distinct blob once
 * (a transition's "before" is its previous transition's "after"). Both are read as streams, with
 * no limit on their size, and the blobs are asked for while the log is still being read, so the
 * two processes and the parsing run side by side. `revs` are the commits whose history is read
 * (HEAD by default; the policy check reads the base branch and a pull request's head at once).
 * With `options.exposure` the datafile each transition wrote is read too, and the datafile
 * refresh commits come as SkippedCommits of kind 'refresh' (the dashboard's audit trail shows what
 * was in force when); decisions never need it, so they do not pay for it.
 */
export async function readHistory(
  root: string,
  sources: TransitionSource[],
  revs: string[] = ['HEAD'],
  options: HistoryOptions = {}
): Promise<History> {
  const history: History = []
  if (!(await headSha(root))) return history
  const paths = new Map(sources.map(s => [s.feature, s.statePath]))
  const datafiles = new Map(
    options.exposure ? sources.map(s => [s.feature, datafilePathOf(s)] as const) : []
  )
  // In the log's order: transition candidates and (options.exposure) datafile refreshes.
  const candidates: Array<
    | {
        entry: HistoryEntry
        path: string | undefined
        blobs?: [string | undefined, string | undefined]
        datafile?: string
      }
    | { refresh: SkippedCommit; datafile: string }
  > = []
  // Each distinct blob is asked for once; its facts are read as it arrives, and only the few a
  // verdict compares are kept, one object per distinct set of them: the blob's text is dropped.
  const asked: string[] = []
  const judged = new Map<string, StateFacts | undefined>()
  const factsOf = verdictFactsPool()
  const own = ownStrings()
  // Datafile blobs (options.exposure) go through the same reader; `exposed` holds what each says.
  const exposed = new Map<string, number | undefined>()
  const reader = objectReader(root, (i, text) => {
    const id = asked[i]!
    if (exposed.has(id)) exposed.set(id, text === undefined ? undefined : usersPercentOf(text))
    else judged.set(id, text === undefined ? undefined : factsOf(stateFacts(text)!))
  })
  const ask = (id: string | undefined) => {
    if (id === undefined || judged.has(id)) return
    const key = detached(id)
    judged.set(key, undefined)
    asked.push(key)
    reader.request(key)
  }
  const askDatafile = (id: string) => {
    if (exposed.has(id) || judged.has(id)) return
    const key = detached(id)
    exposed.set(key, undefined)
    asked.push(key)
    reader.request(key)
  }
  const log = new LogReader(commit => {
    const record = parseTransitionMessage(commit.message)
    if (!record) {
      const refreshed = options.exposure ? REFRESHED.exec(commit.message)?.[1] : undefined
      const path = refreshed === undefined ? undefined : datafiles.get(refreshed)
      const datafile = path === undefined ? undefined : blobsOf(commit.changes, path)?.[1]
      if (datafile !== undefined) {
        askDatafile(datafile)
        const feature = own(refreshed!)
        candidates.push({
          datafile,
          refresh: {
            sha: detached(commit.sha),
            at: detached(commit.at),
            author: own(commit.author),
            feature,
            kind: 'refresh',
            from: '',
            to: '',
            skipped: 'a datafile refresh, not a transition'
          }
        })
      }
      return
    }
    const path = paths.get(record.feature)
    const blobs = path === undefined ? undefined : blobsOf(commit.changes, path)
    if (blobs) blobs.forEach(ask)
    const datafile =
      options.exposure && blobs
        ? blobsOf(commit.changes, datafiles.get(record.feature)!)?.[1]
        : undefined
    if (datafile !== undefined) askDatafile(datafile)
    candidates.push({
      entry: ownEntry(record, commit, own),
      path,
      ...(blobs ? { blobs } : {}),
      ...(datafile !== undefined ? { datafile } : {})
    })
  })
  let failed: unknown
  try {
    await streamGit(
      root,
      [
        'log',
        ...revs,
        `--format=${LOG_FORMAT}`,
        '--grep=^Phasegate-Feature: ',
        ...(options.exposure ? [`--grep=^${REFRESH_TRAILER}: `] : []),
        ...LOG_RAW_ARGS,
        '--no-renames',
        '--root',
        '--diff-merges=first-parent'
      ],
      chunk => log.push(chunk)
    )
    log.finish()
  } catch (error) {
    failed = error
  }
  // Ends cat-file's input either way, so that its process ends too.
  const read = reader.done()
  if (failed !== undefined) {
    read.catch(() => {})
    throw failed
  }
  await read
  const judgedOf = (id: string | undefined): Judged | undefined => {
    const facts = id ? judged.get(id) : undefined
    return facts ? { same: id!, facts } : undefined
  }
  for (const candidate of candidates) {
    if ('refresh' in candidate) {
      const { refresh } = candidate
      const percent = exposed.get(candidate.datafile)
      history.push(percent === undefined ? refresh : { ...refresh, usersPercent: percent })
      continue
    }
    const { entry, path, blobs, datafile } = candidate
    const verdict =
      path === undefined
        ? { ok: false as const, reason: `no policy here rolls out ${entry.feature}` }
        : blobs
          ? verdictOf(entry, path, judgedOf(blobs[0]), judgedOf(blobs[1]))
          : // Not in the diff: the file is the same before and after (or absent from both).
            { ok: false as const, reason: `does not change ${path}` }
    if (verdict.ok) {
      const percent = datafile === undefined ? undefined : exposed.get(datafile)
      history.push(percent === undefined ? entry : { ...entry, usersPercent: percent })
    } else
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
 * The share of users a datafile text exposes (its user_percentage, 0 when not enabled), or
 * undefined when it is not a feature datafile that says (not JSON, a field missing or mistyped).
 */
export function usersPercentOf(text: string): number | undefined {
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch {
    return undefined
  }
  if (!value || typeof value !== 'object') return undefined
  const { enabled, user_percentage: percent } = value as Record<string, unknown>
  if (typeof enabled !== 'boolean' || typeof percent !== 'number' || !Number.isFinite(percent))
    return undefined
  return enabled ? percent : 0
}

/**
 * A copy of `text` that is a string of its own: a substring of a large text (V8 makes a slice
 * from 13 characters on) keeps the whole text in memory, and a history of 100,000 commits kept
 * every chunk of `git log` and every state file it read that way (hundreds of MB, and time spent
 * collecting garbage over them).
 */
function detached(text: string): string {
  return text.length < 13 ? text : (' ' + text).slice(1)
}

/**
 * detached, with one copy per distinct value for the values that repeat (feature, phase and kind
 * names, authors).
 */
function ownStrings(): (text: string) => string {
  const pool = new Map<string, string>()
  return text => {
    let known = pool.get(text)
    if (known === undefined) {
      known = detached(text)
      pool.set(known, known)
    }
    return known
  }
}

/**
 * What verdictOf compares of a state file, and nothing else, as one shared object per distinct
 * set of values: a history of 100,000 transitions has a few hundred (features x phases x kinds),
 * and objects kept per blob cost the garbage collector more than the lookup costs.
 */
function verdictFactsPool(): (facts: StateFacts) => StateFacts {
  const pool = new Map<string, StateFacts>()
  return facts => {
    const last = facts.last
    const values = [facts.feature, facts.phase, last?.kind, last?.from, last?.to]
    // Shared only when every value is a string (or absent) without NUL, so the key names it alone.
    const key = values.every(
      v => v === undefined || (typeof v === 'string' && !v.includes('\u0000'))
    )
      ? `${last ? 'L' : '-'}${values.map(v => (v === undefined ? '\u0000u' : `\u0000s${v}`)).join('')}`
      : undefined
    const known = key === undefined ? undefined : pool.get(key)
    if (known) return known
    const copy: StateFacts = {
      feature: detachedValue(facts.feature),
      phase: detachedValue(facts.phase),
      ...(last
        ? {
            last: {
              kind: detachedValue(last.kind),
              from: detachedValue(last.from),
              to: detachedValue(last.to)
            }
          }
        : {})
    }
    if (key !== undefined) pool.set(key, copy)
    return copy
  }
}

function detachedValue(value: unknown): unknown {
  return typeof value === 'string' ? detached(value) : value
}

/** A history entry whose strings are their own (see detached), not slices of the log. */
function ownEntry(
  record: TransitionRecord,
  commit: LoggedCommit,
  own: (text: string) => string
): HistoryEntry {
  return {
    feature: own(record.feature),
    kind: own(record.kind) as RecordKind,
    from: own(record.from),
    to: own(record.to),
    reason: detached(record.reason),
    approvers: record.approvers.map(own),
    ...(record.operator !== undefined ? { operator: own(record.operator) } : {}),
    ...(record.reverts !== undefined ? { reverts: detached(record.reverts) } : {}),
    ...(record.leftAlone !== undefined ? { leftAlone: record.leftAlone.map(detached) } : {}),
    ...(record.dispatchRun !== undefined ? { dispatchRun: detached(record.dispatchRun) } : {}),
    evidence: record.evidence.map(e => {
      const copy: Record<string, unknown> = {}
      for (const [key, value] of Object.entries(e))
        copy[key] = typeof value === 'string' ? own(value) : value
      return copy as unknown as Evidence
    }),
    sha: detached(commit.sha),
    at: detached(commit.at),
    author: own(commit.author)
  }
}

/**
 * The blob ids of `path` before and after a commit, from its raw diff entries (`mode mode old
 * new status`); undefined where the file is absent. Undefined as a whole when the diff does not
 * touch `path`.
 */
function blobsOf(
  changes: LoggedCommit['changes'],
  path: string
): [string | undefined, string | undefined] | undefined {
  const change = changes.find(c => c.path === path)
  if (!change) return undefined
  const [, , before, after] = change.meta.split(' ')
  return [NO_BLOB.test(before!) ? undefined : before, NO_BLOB.test(after!) ? undefined : after]
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

/** The identity and timestamps of a phasegate commit made at `now`. */
export function commitEnv(now: Date): Record<string, string> {
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
