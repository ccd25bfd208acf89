import { STALE_INTERVALS, type Heartbeat } from '../engine/heartbeat.js'
import { formatSpan } from '../engine/time.js'
import { HEARTBEAT_BRANCH } from '../rollout/heartbeat.js'

/**
 * One line on a feature's heartbeat, the same words in `status` and the dashboard: when it was
 * last evaluated and how, and STALE once more than three schedule intervals have passed. No
 * heartbeat recorded is said as such (never as fresh), with where the record comes from.
 */
export function describeHeartbeat(heartbeat: Heartbeat): string {
  const limit = `${STALE_INTERVALS} × ${formatSpan(heartbeat.intervalMs)}`
  if (heartbeat.evaluatedAt === null)
    return `heartbeat: STALE: no heartbeat recorded (the action records one on the ${HEARTBEAT_BRANCH} branch each run: git fetch origin ${HEARTBEAT_BRANCH})`
  if (heartbeat.future)
    return `heartbeat: STALE: last evaluated ${heartbeat.evaluatedAt} (${heartbeat.outcome}), in the future: no run can have recorded it (a clock ahead, or a record written by hand on ${HEARTBEAT_BRANCH}), so nothing shows scheduled runs, or rollbacks, are happening`
  const age = heartbeat.ageMs >= 0 ? `${formatSpan(heartbeat.ageMs)} ago` : 'in the future'
  const last = `last evaluated ${heartbeat.evaluatedAt} (${age}, ${heartbeat.outcome})`
  return heartbeat.stale
    ? `heartbeat: STALE: ${last}, older than ${limit}: scheduled runs are not happening, and neither are rollbacks`
    : `heartbeat: ${last}; stale after ${heartbeat.staleAfter} (${limit})`
}
