import { writeFileSync } from 'node:fs'
import { resolve } from 'node:path'
import { PhasegateError } from '../errors.js'
import { runGit } from '../git/git.js'
import { combineDatafiles, featureDatafile, renderDatafile } from '../export/datafile.js'
import { flagdDocument } from '../export/flagd.js'
import { scheduleIntervalOf, staleAfterMs } from '../engine/heartbeat.js'
import type { Policy } from '../engine/types.js'
import { readHeartbeats, type HeartbeatEntries } from '../rollout/heartbeat.js'
import { loadRollouts } from '../rollout/load.js'

export const EXPORT_FORMATS = ['datafile', 'flagd'] as const
export type ExportFormat = (typeof EXPORT_FORMATS)[number]

export interface ExportOptions {
  cwd: string
  policies: string[]
  format?: string
  /** Write here (relative to cwd) instead of returning the text for stdout. */
  out?: string
}

/**
 * Every feature's datafile combined into one document (`datafile`, schema/datafile.schema.json)
 * or as flagd flag definitions (`flagd`), from the policies and the state files at HEAD's
 * checkout. Returns the text, or writes it to `out` and returns null.
 */
export async function exportRollouts(options: ExportOptions): Promise<string | null> {
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
        ...featureDatafile(
          r.policy,
          r.state,
          r.state ? await madeOn(r.root, r.policy.statePath) : null
        ),
        ...heartbeatOf(r.policy, heartbeats)
      }))
    )
  )
  const text =
    format === 'flagd'
      ? `${JSON.stringify(flagdDocument(document), null, 2)}\n`
      : renderDatafile(document)
  if (options.out === undefined) return text
  writeFileSync(resolve(options.cwd, options.out), text)
  return null
}

/** The parent of the last commit that changed the state file: the commit its transition was made on. */
async function madeOn(root: string, statePath: string): Promise<string | null> {
  const result = await runGit(root, ['log', '-1', '--format=%P', '--', statePath], {
    allowFailure: true
  })
  return result.code === 0 ? (result.stdout.trim().split(' ')[0] ?? '') || null : null
}

/** The feature's last evaluation from the heartbeat record, when this clone has one. */
function heartbeatOf(policy: Policy, heartbeats: HeartbeatEntries) {
  const entry = heartbeats.get(policy.feature)
  if (!entry) return {}
  const staleAfter = staleAfterMs(entry.evaluatedAt, scheduleIntervalOf(policy))
  return {
    heartbeat: {
      evaluated_at: entry.evaluatedAt,
      outcome: entry.outcome,
      stale_after: new Date(staleAfter).toISOString()
    }
  }
}
