import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { replaceFile } from '../state/replace-file.js'

// The dedup record: which (event key, target) pairs were delivered. A delivery is recorded only
// once the receiver accepted it, so a failed one is tried again by the next run that sees the
// same effect, and a re-run never sends a delivered one twice.

/** Where delivered notifications are remembered between runs. */
export interface NotifiedLedger {
  has(key: string, target: string): Promise<boolean>
  add(key: string, target: string, at: Date): Promise<void>
}

/** Entries older than this are dropped: no effect is re-announced after so long. */
const KEPT_MS = 90 * 24 * 3600_000

/** An in-memory ledger: for a run whose effects cannot happen twice (the action's). */
export function memoryLedger(): NotifiedLedger {
  const sent = new Set<string>()
  return {
    has: async (key, target) => sent.has(`${target} ${key}`),
    add: async (key, target) => void sent.add(`${target} ${key}`)
  }
}

/** Where the CLI keeps its ledger: inside git's own directory, never committed. */
export function notifiedPath(gitDir: string): string {
  return join(gitDir, 'phasegate', 'notified.json')
}

/**
 * The CLI's ledger, `<git dir>/phasegate/notified.json`: { "<target> <key>": ISO-8601 }. An
 * unreadable file counts as empty (at worst a notification is repeated, never lost).
 */
export function fileLedger(gitDir: string): NotifiedLedger {
  const path = notifiedPath(gitDir)
  const read = (): Record<string, string> => {
    try {
      const value: unknown = JSON.parse(readFileSync(path, 'utf8'))
      return value && typeof value === 'object' ? (value as Record<string, string>) : {}
    } catch {
      return {}
    }
  }
  return {
    has: async (key, target) => read()[`${target} ${key}`] !== undefined,
    add: async (key, target, at) => {
      const kept = Object.entries(read()).filter(
        ([, when]) => at.getTime() - Date.parse(when) < KEPT_MS
      )
      const next = Object.fromEntries([...kept, [`${target} ${key}`, at.toISOString()]])
      replaceFile(path, JSON.stringify(next, null, 2) + '\n')
    }
  }
}
