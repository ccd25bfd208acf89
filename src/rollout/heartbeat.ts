import * as z from 'zod'
import type { HeartbeatEntry } from '../engine/heartbeat.js'
import { existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { knownGitDir, readObjects } from '../git/git.js'
import { lazy } from '../lazy.js'

// The heartbeat record: when each feature was last evaluated, kept off the default branch so
// that ticks never commit there (a commit per tick would churn the history and make advance PRs
// stale). The action force-updates a one-commit branch holding one JSON file per run; `git fetch`
// brings it to any clone, where status, export and the dashboard read it.

/** The branch holding the record: no slash, so no feature's `phasegate/<feature>/...` branch collides. */
export const HEARTBEAT_BRANCH = 'phasegate-heartbeat'
export const HEARTBEAT_FILE = 'heartbeat.json'
export const HEARTBEAT_VERSION = 1

// Built with the first record read: a repository without one never needs it.
const recordSchema = lazy(() =>
  z.object({
    heartbeat_version: z.literal(HEARTBEAT_VERSION),
    features: z.record(
      z.string(),
      z.object({
        evaluated_at: z.iso.datetime({ offset: true }),
        outcome: z.string().min(1),
        run_url: z.string().optional()
      })
    )
  })
)

/** The record's JSON shape (heartbeat.json on HEARTBEAT_BRANCH). */
export type HeartbeatRecord = z.infer<ReturnType<typeof recordSchema>>

/** Feature name -> its last recorded evaluation. */
export type HeartbeatEntries = Map<string, HeartbeatEntry>

/** Parses a record's text; undefined when it is not one (then nothing counts as evaluated). */
export function parseHeartbeatRecord(text: string | undefined): HeartbeatEntries | undefined {
  if (text === undefined) return undefined
  let json: unknown
  try {
    json = JSON.parse(text)
  } catch {
    return undefined
  }
  const parsed = recordSchema().safeParse(json)
  if (!parsed.success) return undefined
  return new Map(
    Object.entries(parsed.data.features).map(([feature, e]) => [
      feature,
      {
        evaluatedAt: e.evaluated_at,
        outcome: e.outcome,
        ...(e.run_url ? { runUrl: e.run_url } : {})
      }
    ])
  )
}

/** The record's text for `entries`, features in name order, two-space JSON. */
export function renderHeartbeatRecord(entries: HeartbeatEntries): string {
  const features: HeartbeatRecord['features'] = {}
  for (const name of [...entries.keys()].sort()) {
    const e = entries.get(name)!
    features[name] = {
      evaluated_at: e.evaluatedAt,
      outcome: e.outcome,
      ...(e.runUrl ? { run_url: e.runUrl } : {})
    }
  }
  const record: HeartbeatRecord = { heartbeat_version: HEARTBEAT_VERSION, features }
  return `${JSON.stringify(record, null, 2)}\n`
}

/**
 * Every feature's latest recorded evaluation in this clone: the fetched branch
 * (refs/remotes/origin/phasegate-heartbeat) and a local one, the later entry per feature.
 * Empty when neither exists: no heartbeat recorded here (fetch first).
 */
export async function readHeartbeats(root: string): Promise<HeartbeatEntries> {
  const refs = [`refs/remotes/origin/${HEARTBEAT_BRANCH}`, `refs/heads/${HEARTBEAT_BRANCH}`]
  // Most clones have no record (it lives on a branch only the action pushes): a look at the ref
  // store spares status and export a git process then (start-up, issue 17).
  if (!mayHoldRefs(knownGitDir(root), refs)) return new Map()
  const texts = await readObjects(
    root,
    refs.map(ref => `${ref}:${HEARTBEAT_FILE}`)
  )
  return mergeHeartbeats(...texts.map(parseHeartbeatRecord))
}

/** Per feature, the entry evaluated last among `records`. */
export function mergeHeartbeats(...records: Array<HeartbeatEntries | undefined>): HeartbeatEntries {
  const merged: HeartbeatEntries = new Map()
  for (const record of records)
    for (const [feature, entry] of record ?? []) {
      const known = merged.get(feature)
      if (!known || Date.parse(entry.evaluatedAt) > Date.parse(known.evaluatedAt))
        merged.set(feature, entry)
    }
  return merged
}

/**
 * False only when the ref store in `gitDir` certainly holds none of `refs` (no loose ref file, no
 * line in packed-refs); true when it may, or when it cannot tell (an unknown git directory, the
 * reftable format), so that the caller asks git.
 */
export function mayHoldRefs(gitDir: string | undefined, refs: string[]): boolean {
  if (gitDir === undefined || existsSync(join(gitDir, 'reftable'))) return true
  if (refs.some(ref => existsSync(join(gitDir, ref)))) return true
  let packed = ''
  try {
    packed = readFileSync(join(gitDir, 'packed-refs'), 'utf8')
  } catch {
    return false
  }
  return refs.some(ref => packed.includes(` ${ref}\n`))
}
