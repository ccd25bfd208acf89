import { writeFileSync } from 'node:fs'
import { resolve } from 'node:path'
import { PhasegateError } from '../errors.js'
import { combineDatafiles, renderDatafile } from '../export/datafile.js'
import { flagdDocument } from '../export/flagd.js'
import { scheduleIntervalOf, staleAfterMs } from '../engine/heartbeat.js'
import type { Policy } from '../engine/types.js'
import { expectedDatafile } from '../rollout/datafile.js'
import { readHeartbeats, type HeartbeatEntries } from '../rollout/heartbeat.js'
import { loadRollouts, lostStateError } from '../rollout/load.js'

export const EXPORT_FORMATS = ['datafile', 'flagd'] as const
export type ExportFormat = (typeof EXPORT_FORMATS)[number]

export interface ExportOptions {
  cwd: string
  policies: string[]
  format?: string
  /** Write here (relative to cwd) instead of returning the text for stdout. */
  out?: string
}

/** What an export made: the text (null when written to `out`), and the lost rollouts it wrote off. */
export interface ExportResult {
  text: string | null
  /** One per lost rollout (state file missing, history not): exported off, said loudly. */
  warnings: PhasegateError[]
}

/**
 * Every feature's datafile combined into one document (`datafile`, schema/datafile.schema.json)
 * or as flagd flag definitions (`flagd`), from the policies and the state files at HEAD's
 * checkout: each feature as its committed datafile should say (rollout/datafile.ts
 * expectedDatafile, which also names the transition's commit as the committed file does). A lost
 * rollout is exported off, with a warning: what applications read fails safe. Returns the text,
 * or writes it to `out`.
 */
export async function exportRollouts(options: ExportOptions): Promise<ExportResult> {
  const format = (options.format ?? 'datafile') as ExportFormat
  if (!EXPORT_FORMATS.includes(format)) {
    throw new PhasegateError(`--format ${options.format}: not a format phasegate exports`, {
      hint: `use one of: ${EXPORT_FORMATS.join(', ')}`
    })
  }
  const rollouts = await loadRollouts(options.cwd, options.policies)
  const heartbeats = rollouts.length ? await readHeartbeats(rollouts[0]!.root) : new Map()
  const document = combineDatafiles(
    await Promise.all(
      rollouts.map(async r => ({
        ...(await expectedDatafile(r)),
        ...heartbeatOf(r.policy, heartbeats)
      }))
    )
  )
  const warnings = rollouts.filter(r => r.lost).map(lostStateError)
  const text =
    format === 'flagd'
      ? `${JSON.stringify(flagdDocument(document), null, 2)}\n`
      : renderDatafile(document)
  if (options.out === undefined) return { text, warnings }
  writeFileSync(resolve(options.cwd, options.out), text)
  return { text: null, warnings }
}

/** The feature's last evaluation from the heartbeat record, when this clone has one. */
function heartbeatOf(policy: Policy, heartbeats: HeartbeatEntries) {
  const entry = heartbeats.get(policy.feature)
  if (!entry) return {}
  const staleAfter = staleAfterMs(entry.evaluatedAt, scheduleIntervalOf(policy), new Date())
  return {
    heartbeat: {
      evaluated_at: entry.evaluatedAt,
      outcome: entry.outcome,
      stale_after: new Date(staleAfter).toISOString()
    }
  }
}
