import type { TriggerResult, TriggerStatus } from '../engine/types.js'

// Every report (text, markdown, JSON) lists every rollback trigger in force, in the same order:
// what fired, what breached without firing, what could not be judged, and what is fine.

const ORDER: TriggerStatus[] = ['fired', 'breached', 'no_data', 'ok']

/** The triggers, most urgent status first; the policy's order within a status. */
export function orderedTriggers(triggers: TriggerResult[]): TriggerResult[] {
  return ORDER.flatMap(status => triggers.filter(t => t.status === status))
}
