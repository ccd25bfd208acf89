import type { NotificationsConfig } from '../engine/types.js'
import type { PhasegateError } from '../errors.js'
import { git, headSha } from '../git/git.js'
import {
  alertEvent,
  failureEvent,
  guardrailVerdictEvents,
  transitionEvent,
  type NotificationEvent
} from '../notify/events.js'
import {
  deliverNotifications,
  type EventBatch,
  type NotificationReport
} from '../notify/deliver.js'
import { recordAlertEpisodes } from '../notify/episodes.js'
import { withUnit } from '../engine/units.js'
import { fileLedger } from '../notify/ledger.js'
export { exitAfterNotifications, renderNotifications } from '../notify/render.js'
import { loadRolloutsSettled, type Rollout } from '../rollout/load.js'
import type { RollbackOutcome } from './rollback.js'
import { PartialTickError, tick, type TickOptions, type TickOutcome } from './tick.js'

// The CLI's notifications: sent after tick or rollback has committed everything and released the
// checkout's lock, from the process environment's secrets (NAME=value, as the policy names them),
// remembered in <git dir>/phasegate/notified.json so a repeated tick does not say it again.

/** What tick did, and what its notifications did. */
export interface NotifiedTick {
  outcomes: TickOutcome[]
  notifications: NotificationReport
}

/**
 * tick(), then its notifications. When some policy could not be evaluated, the PartialTickError
 * is rethrown after the notifications, carrying them (`notifications`).
 */
export async function tickAndNotify(
  options: TickOptions,
  secrets: Record<string, string | undefined> = process.env
): Promise<NotifiedTick> {
  try {
    const outcomes = await tick(options)
    if (options.dryRun) return { outcomes, notifications: { deliveries: [], logged: [] } }
    return { outcomes, notifications: await notifyTick(options, outcomes, [], secrets) }
  } catch (error) {
    // A dry run notifies no one, of decisions or of failures.
    if (!(error instanceof PartialTickError) || options.dryRun) throw error
    const failures = error.failures.map(f => ({ policyFile: f.policyFile, error: f.error }))
    error.notifications = await notifyTick(options, error.outcomes, failures, secrets)
    throw error
  }
}

async function notifyTick(
  options: TickOptions,
  outcomes: TickOutcome[],
  failures: Array<{ policyFile: string; error: PhasegateError }>,
  secrets: Record<string, string | undefined>
): Promise<NotificationReport> {
  const at = options.now.toISOString()
  const gitDir = outcomes.some(o => o.started && o.rollout.policy.notifications)
    ? await git(options.cwd, 'rev-parse', '--absolute-git-dir')
    : undefined
  const batches: EventBatch[] = outcomes
    .filter(o => o.started)
    .map(o => {
      const entry = `${o.state.phase}@${o.state.enteredAt}`
      // Without alert issues the record of an alert is its episode (notify/episodes.ts): the same
      // alert at the same severity is told once while it lasts, and again when it comes back.
      const { starts: episodes, ended } =
        gitDir && o.rollout.policy.notifications
          ? recordAlertEpisodes(
              gitDir,
              o.rollout.policy.feature,
              `${o.rollout.policy.feature} ${entry}`,
              o.decision.alerts.map(a => a.metric),
              at,
              o.decision.alertsUnread
            )
          : { starts: {} as Record<string, string>, ended: {} as Record<string, string> }
      return {
        config: o.rollout.policy.notifications,
        events: [
          ...(o.sha && o.decision.transition
            ? [transitionEvent(o.rollout.policy, o.decision.transition, o.sha)]
            : []),
          ...o.decision.alerts.map(alert =>
            alertEvent(o.rollout.policy, 'opened', alert, {
              record: `${entry}:${episodes[alert.metric] ?? at}`,
              phase: o.state.phase,
              at
            })
          ),
          // An alert rule's episode that ended on a reading back under warning (a metric that
          // read no data keeps its episode): resolved, once per episode.
          ...Object.entries(ended).flatMap(([metric, start]) => {
            const rule = o.rollout.policy.alerts.find(r => r.metric === metric)
            if (!rule) return []
            const warning = withUnit(rule.warning, rule.unit)
            return [
              alertEvent(
                o.rollout.policy,
                'resolved',
                {
                  metric,
                  message: `${metric} is back under its warning threshold (${warning}) in ${o.state.phase}`
                },
                { record: `${entry}:${start}`, phase: o.state.phase, at }
              )
            ]
          }),
          // A guardrail's verdict: told once per verdict and phase entry.
          ...guardrailVerdictEvents(o.rollout.policy, o.decision, { record: entry, at })
        ].filter((e): e is NotificationEvent => e !== undefined)
      }
    })
  if (failures.length) {
    const commit = (await headSha(options.cwd)) ?? 'no-commit'
    const { rollouts } = await loadRolloutsSettled(options.cwd, options.policies)
    for (const failure of failures) {
      const own = rollouts.find(r => r.policyFile === failure.policyFile)
      const name = own?.policy.feature ?? failure.policyFile
      batches.push({
        config: own?.policy.notifications ?? everyTarget(rollouts),
        events: [failureEvent(own?.policy, name, failure.error.message, { commit, at })]
      })
    }
  }
  return send(options.cwd, batches, secrets)
}

/**
 * A policy file that does not load has no targets of its own: every target of the policies that
 * did load hears of it, each webhook once.
 */
function everyTarget(rollouts: Rollout[]): NotificationsConfig | undefined {
  const configs = rollouts.flatMap(r => (r.policy.notifications ? [r.policy.notifications] : []))
  if (!configs.length) return undefined
  const targets = configs
    .flatMap(c => c.targets)
    .filter((t, i, all) => all.findIndex(o => o.urlSecret === t.urlSecret) === i)
  return {
    targets,
    timeoutMs: Math.min(...configs.map(c => c.timeoutMs)),
    retries: Math.min(...configs.map(c => c.retries))
  }
}

/** The notification of a transition a person made (rollback, resume), after its commit. */
export async function notifyTransition(
  outcome: Pick<RollbackOutcome, 'rollout' | 'transition' | 'sha'>,
  cwd: string,
  secrets: Record<string, string | undefined> = process.env
): Promise<NotificationReport> {
  const event = transitionEvent(outcome.rollout.policy, outcome.transition, outcome.sha)
  return send(
    cwd,
    [{ config: outcome.rollout.policy.notifications, events: event ? [event] : [] }],
    secrets
  )
}

async function send(
  cwd: string,
  batches: EventBatch[],
  secrets: Record<string, string | undefined>
): Promise<NotificationReport> {
  // A policy with no notification targets has nothing to send or log.
  if (!batches.some(b => b.config && b.events.length)) return { deliveries: [], logged: [] }
  const gitDir = await git(cwd, 'rev-parse', '--absolute-git-dir')
  return deliverNotifications(batches, {
    secrets,
    ledger: fileLedger(gitDir),
    // The ledger records when a delivery happened, not the tick's (possibly given) `now`.
    now: () => new Date()
  })
}
