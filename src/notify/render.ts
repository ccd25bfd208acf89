import type { NotificationReport } from './deliver.js'

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
