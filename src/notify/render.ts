import type { NotificationReport } from './deliver.js'

/**
 * The CLI's exit status when everything a command did landed and only a notification failed:
 * distinct from 1 (bad input, a refused transition), because running a landed rollback again
 * steps back once more.
 */
export const EXIT_NOTIFICATION_FAILED = 3

/**
 * The CLI's exit status after a command whose effects all landed (`what` names them): 0, or
 * EXIT_NOTIFICATION_FAILED when `notified.failed`, saying on `err` why not to run it again.
 */
export function exitAfterNotifications(
  notified: { failed: boolean },
  what: string,
  err: (text: string) => void
): number {
  if (!notified.failed) return 0
  err(
    `phasegate: ${what} landed; a notification failed (exit ${EXIT_NOTIFICATION_FAILED}): do not run it again for the notification, it would act again; tell the people yourself`
  )
  return EXIT_NOTIFICATION_FAILED
}

/** The report's lines for people, and whether any notification failed. */
export function renderNotifications(report: NotificationReport): {
  lines: string[]
  failed: boolean
} {
  const lines = [
    ...report.logged.map(e => `  log only (low): ${e.title}`),
    ...report.deliveries.map(d =>
      d.status === 'sent'
        ? `  notified ${d.target}: ${d.feature} ${d.event} (${d.severity})`
        : d.status === 'duplicate'
          ? `  already notified ${d.target}: ${d.feature} ${d.event}`
          : `  NOTIFICATION FAILED ${d.target}: ${d.feature} ${d.event}${d.attempts ? ` after ${d.attempts} attempt${d.attempts === 1 ? '' : 's'}` : ''}: ${d.reason}`
    )
  ]
  return { lines, failed: report.deliveries.some(d => d.status === 'failed') }
}
