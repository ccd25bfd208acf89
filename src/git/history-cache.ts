import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { replaceFile } from '../state/replace-file.js'
import { headSha, runGit } from './git.js'
import { readHistory, type History, type TransitionSource } from './transitions.js'

// The dashboard is rebuilt after every transition and on a schedule, and its history read is the
// part of a build that grows with the repository's age: every phasegate commit and every state
// file it wrote (a repository of 100 features with 1,000 transitions each: 100,000 commits and
// blobs, seconds of git). readHistory's answer for HEAD is a function of the commits alone (each
// commit's verdict compares its own state file with its first parent's), so the answer at an
// older commit T is the answer at HEAD for every commit reachable from T: a build after T reads
// `git log HEAD ^T` and adds the rest from the cache.
//
// What the cache is trusted with: only the dashboard reads it. Decisions (tick, rollback, the
// policy check) read git every time. The file lives in the git directory (never committed, so
// nothing a pull request contains can supply it); a file that is unreadable, of another shape,
// made for other policies or another phasegate, or whose tip is not in HEAD's history (a
// rewritten branch) is ignored and the history read whole.

/** Bumped whenever what readHistory answers for a commit, or this file's shape, changes. */
const FORMAT = 2

/** The dashboard's audit trail shows each transition's exposure, so its cache holds it. */
const EXPOSURE = { exposure: true }

/** Where the CLI keeps the dashboard's history cache: in the work tree's git directory. */
export function historyCachePath(gitDir: string): string {
  return join(gitDir, 'phasegate', 'dashboard-history.json')
}

/** How a history was read, as the dashboard's footer says it. */
export type HistoryRead =
  | { from: 'git'; commits: number; cacheNote?: string }
  | { from: 'cache'; tip: string; cached: number; newer: number; cacheNote?: string }

interface CacheFile {
  format: number
  key: string
  tip: string
  history: History
}

/**
 * readHistory for HEAD with each transition's exposure (HistoryOptions.exposure), through the
 * cache file at `file`: the commits after the cached tip are read from git and the rest taken
 * from the file, which is then rewritten for HEAD. `key` names
 * what else the answer depends on (phasegate's version); `sources` are part of it too. Entries
 * are newest first as readHistory's, except that commits newer than the cached tip on merged
 * branches come before the cached ones (git log's date order interleaves them): callers that
 * need time order sort by `at`.
 *
 * Never fails because of the cache: a file that cannot be read or used is read around (`read`
 * says why in `cacheNote`), and one that cannot be written is reported there too. Throws what
 * readHistory throws.
 */
export async function readHistoryCached(
  root: string,
  sources: TransitionSource[],
  file: string,
  version: string
): Promise<{ history: History; read: HistoryRead }> {
  const key = JSON.stringify({
    version,
    sources: sources.map(s => [s.feature, s.statePath]).sort()
  })
  const head = await headSha(root)
  if (!head) return { history: [], read: { from: 'git', commits: 0 } }
  const cached = readCache(file, key)
  let history: History
  let read: HistoryRead
  const usable =
    typeof cached === 'object' && (cached.tip === head || (await isAncestor(root, cached.tip)))
  if (!usable) {
    history = await readHistory(root, sources, ['HEAD'], EXPOSURE)
    read = {
      from: 'git',
      commits: history.length,
      ...(cached === undefined
        ? {}
        : {
            cacheNote:
              typeof cached === 'string'
                ? cached
                : `the cached history ends at ${cached.tip.slice(0, 12)}, which is not in HEAD's history (a rewritten branch); read whole`
          })
    }
  } else {
    const newer =
      cached.tip === head
        ? []
        : await readHistory(root, sources, [head, `^${cached.tip}`], EXPOSURE)
    history = newer.length ? [...newer, ...cached.history] : cached.history
    read = { from: 'cache', tip: cached.tip, cached: cached.history.length, newer: newer.length }
  }
  if (typeof cached === 'string' || cached?.tip !== head) {
    const problem = writeCache(file, { format: FORMAT, key, tip: head, history })
    if (problem) read.cacheNote = [read.cacheNote, problem].filter(Boolean).join('; ')
  }
  return { history, read }
}

/**
 * The usable cache in `file`, or why it cannot be used (a sentence), or undefined when there is
 * none. Each entry is checked for the fields the dashboard reads, so a damaged file is read
 * around rather than shown.
 */
function readCache(file: string, key: string): CacheFile | string | undefined {
  let text: string
  try {
    text = readFileSync(file, 'utf8')
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined
    return `the history cache ${file} could not be read (${(error as Error).message}); read whole`
  }
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch {
    return `the history cache ${file} is not JSON; read whole`
  }
  const c = value as Partial<CacheFile> | null
  if (!c || typeof c !== 'object' || c.format !== FORMAT)
    return `the history cache ${file} was written by another phasegate; read whole`
  if (c.key !== key)
    return 'the history cache was made for other policies (features or state files) or another phasegate version; read whole'
  if (typeof c.tip !== 'string' || !/^[0-9a-f]{40}([0-9a-f]{24})?$/.test(c.tip))
    return `the history cache ${file} names no commit; read whole`
  if (!Array.isArray(c.history) || !c.history.every(wellFormed))
    return `the history cache ${file} holds an entry of another shape; read whole`
  return c as CacheFile
}

const isString = (v: unknown): v is string => typeof v === 'string'

function wellFormed(e: unknown): boolean {
  if (!e || typeof e !== 'object') return false
  const entry = e as Record<string, unknown>
  if (!['sha', 'at', 'author', 'feature', 'kind', 'from', 'to'].every(k => isString(entry[k])))
    return false
  const share =
    entry.usersPercent === undefined ||
    (typeof entry.usersPercent === 'number' && Number.isFinite(entry.usersPercent))
  if (!share) return false
  if ('skipped' in entry) return isString(entry.skipped)
  return (
    isString(entry.reason) &&
    Array.isArray(entry.approvers) &&
    entry.approvers.every(isString) &&
    Array.isArray(entry.evidence) &&
    entry.evidence.every(x => x !== null && typeof x === 'object') &&
    (entry.operator === undefined || isString(entry.operator))
  )
}

async function isAncestor(root: string, tip: string): Promise<boolean> {
  const result = await runGit(root, ['merge-base', '--is-ancestor', tip, 'HEAD'], {
    allowFailure: true
  })
  return result.code === 0
}

/** Writes the cache whole or not at all (a temporary file renamed over it); the problem, if any. */
function writeCache(file: string, cache: CacheFile): string | undefined {
  try {
    replaceFile(file, JSON.stringify(cache))
    return undefined
  } catch (error) {
    return `the history cache ${file} could not be written (${(error as Error).message})`
  }
}
