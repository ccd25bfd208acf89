import type { ActionContext } from './context.js'
import type { FeatureOutcome } from './outcome.js'
import { deliverNotifications, type NotificationReport } from '../notify/deliver.js'
import { transitionEvent } from '../notify/events.js'
import { memoryLedger } from '../notify/ledger.js'

// A dispatched rollback's notification: sent after its commit landed (or its PR was opened), so
// the on-call hear of it without the rollback ever waiting for a receiver.

/** Tells the policy's targets of the dispatched rollback in `outcome`; nothing when none landed. */
export async function notifyDispatchedRollback(
  ctx: ActionContext,
  outcome: FeatureOutcome,
  runUrl: string | undefined
): Promise<NotificationReport> {
  const commit = outcome.landed ?? outcome.rollbackSha
  const event =
    outcome.manual && commit && !ctx.dryRun
      ? transitionEvent(outcome.policy, outcome.manual, commit, runUrl)
      : undefined
  return deliverNotifications(
    [{ config: outcome.policy.notifications, events: event ? [event] : [] }],
    {
      secrets: ctx.notificationEnv ?? process.env,
      ledger: memoryLedger(),
      now: () => new Date()
    }
  )
}
