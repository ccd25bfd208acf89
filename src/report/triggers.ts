import type { TriggerResult, TriggerStatus } from '../engine/types.js'

// Every report (text, markdown, JSON) lists every rollback trigger in force, in the same order:
// what fired, what breached without firing, what could not be judged, and what is fine.

const ORDER: TriggerStatus[] = ['fired', 'breached', 'no_data', 'ok']

/** The triggers, most urgent status first; the policy's order within a status. */
export function orderedTriggers(triggers: TriggerResult[]): TriggerResult[] {
  return ORDER.flatMap(status => triggers.filter(t => t.status === status))
}

const ON_FIRE_SAYS = {
  rollback: 'rolls back',
  pause: 'pauses the rollout instead of rolling back',
  observe: 'observe-only: reported and alerted, nothing rolled back'
} as const

/**
 * What each trigger does when it fires (its on_fire), in one sentence for every report:
 * "every trigger rolls back", or the exceptions by name and that the others roll back.
 */
export function onFireSummary(triggers: TriggerResult[]): string | undefined {
  if (triggers.length === 0) return undefined
  const softened = triggers.filter(t => t.onFire !== 'rollback')
  if (softened.length === 0) return 'on fire: every trigger rolls back'
  const others = triggers.length - softened.length
  return `on fire: ${softened.map(t => `${t.trigger} ${ON_FIRE_SAYS[t.onFire]}`).join('; ')}${others ? `; the other${others > 1 ? 's roll' : ' rolls'} back` : ''}`
}
