import type { ActionContext } from './context.js'
import type { GitHubSide } from './landing.js'
import { commitStatusLedger } from './notified-statuses.js'
import type { FeatureOutcome } from './outcome.js'
import { deliverNotifications, type NotificationReport } from '../notify/deliver.js'
import { transitionEvent } from '../notify/events.js'

// A dispatched rollback's, pause's or resume's notification: sent after its commit landed (or its
// PR was opened), so the on-call hear of it without the rollback ever waiting for a receiver. A
// re-run of the same dispatch finds the commit landed (rerun.ts) and sends it only to the targets
// not yet told, as the commit's statuses record (notified-statuses.ts), under the same key (the
// transition commit), which webhook receivers see as the Idempotency-Key.

/** Tells the policy's targets of the dispatched transition in `outcome`; nothing when none landed. */
export async function notifyDispatched(
  ctx: ActionContext,
  gh: GitHubSide,
  outcome: FeatureOutcome,
  runUrl: string | undefined
): Promise<NotificationReport> {
  const commit = outcome.landed ?? outcome.rollbackSha
  const event =
    outcome.manual && commit && !ctx.dryRun
      ? transitionEvent(
          outcome.policy,
          outcome.manual,
          commit,
          runUrl,
          // Not landed: the commit waits for review in its pull request (graceful, or protected).
          outcome.landed ? undefined : outcome.prNumber
        )
      : undefined
  const config = outcome.policy.notifications
  if (!event || !commit || !config) return { deliveries: [], logged: [] }
  return deliverNotifications([{ config, events: [event] }], {
    secrets: ctx.notificationEnv ?? process.env,
    whyUnset: ctx.notificationWhyUnset,
    ledger: await commitStatusLedger(gh.client, gh.repo, commit),
    now: () => new Date()
  })
}
