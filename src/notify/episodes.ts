import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { replaceFile } from '../state/replace-file.js'

// The CLI has no alert issues, so it remembers alert episodes itself: an episode of a metric's
// alert begins at the first tick that sees it after a tick that did not, within one phase entry.
// Its start is the alert's record (the event key), so an alert that recovered and came back is a
// new event (as a new issue is for the action), while a re-run of the same tick, or any later
// tick that still sees it, finds the same episode and is deduplicated by the ledger.
// Kept in <git dir>/phasegate/alert-episodes.json, never committed; an unreadable file counts as
// empty (at worst an alert is told again, never lost).

/** { "<feature> <phase>@<enteredAt>": { "<metric>": ISO-8601 start of its current episode } } */
type Episodes = Record<string, Record<string, string>>

export function episodesPath(gitDir: string): string {
  return join(gitDir, 'phasegate', 'alert-episodes.json')
}

function read(path: string): Episodes {
  try {
    const value: unknown = JSON.parse(readFileSync(path, 'utf8'))
    return value && typeof value === 'object' ? (value as Episodes) : {}
  } catch {
    return {}
  }
}

/**
 * Records that the tick at `at` saw the alerts of `metrics` in `scope` (a feature's phase entry,
 * "<feature> <phase>@<enteredAt>"; other scopes of the feature are dropped), and returns each
 * metric's episode start: the start already recorded when the previous tick saw it too, else
 * `at` (`starts`). Metrics not seen end their episode (`ended`: each one's start), except those
 * in `unread` (no usable reading this tick), whose episode goes on. `at`: ISO-8601.
 */
export function recordAlertEpisodes(
  gitDir: string,
  feature: string,
  scope: string,
  metrics: string[],
  at: string,
  unread: string[] = []
): { starts: Record<string, string>; ended: Record<string, string> } {
  const path = episodesPath(gitDir)
  const all = read(path)
  const previous = all[scope] ?? {}
  // A metric that read no data neither ends its episode nor starts one: no data is no recovery.
  const going = unread.filter(m => previous[m] !== undefined && !metrics.includes(m))
  const current = Object.fromEntries([
    ...metrics.map(m => [m, previous[m] ?? at]),
    ...going.map(m => [m, previous[m]])
  ])
  const kept = Object.entries(all).filter(([key]) => !key.startsWith(`${feature} `))
  const next = Object.fromEntries([...kept, [scope, current]])
  replaceFile(path, JSON.stringify(next, null, 2) + '\n')
  const ended = Object.entries(previous).filter(([m]) => current[m] === undefined)
  return { starts: current, ended: Object.fromEntries(ended) }
}
