import type { NotificationEvent } from './events.js'

// The three message shapes. Slack: an incoming-webhook message with Block Kit blocks (header,
// section, fields, context) and a plain `text` fallback for notifications. Teams: a workflows
// webhook ("Post to a channel when a webhook request is received") takes a message whose one
// attachment is an Adaptive Card 1.5. Generic: phasegate's own JSON, versioned by `version`
// (docs/notifications.md documents it; a change of meaning is a new version).

/** The generic webhook payload's version; bumped on any incompatible change. */
export const WEBHOOK_PAYLOAD_VERSION = 1

/** The generic webhook payload (version 1). */
export interface WebhookPayload {
  version: typeof WEBHOOK_PAYLOAD_VERSION
  /** The idempotency key: the same effect always has the same id (also the Idempotency-Key header). */
  id: string
  event: NotificationEvent['kind']
  also: NotificationEvent['also']
  severity: NotificationEvent['severity']
  feature: string
  title: string
  text: string
  facts: Record<string, string>
  at: string
  oncall: string[]
  url: string | null
}

const SEVERITY_MARK: Record<NotificationEvent['severity'], string> = {
  critical: ':rotating_light:',
  high: ':warning:',
  medium: ':information_source:',
  low: ''
}

/** Slack's own escaping for text in mrkdwn: &, < and > only. */
function slackEscape(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;')
}

/** Slack caps a header's text at 150 characters and a section's at 3000. */
function cap(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max - 1)}…` : text
}

/** Slack mrkdwn text (Block Kit's text object). */
interface SlackMrkdwn {
  type: 'mrkdwn'
  text: string
}

/** The Block Kit blocks phasegate sends (a subset of Slack's KnownBlock; the tests check it is one). */
export type SlackBlock =
  | { type: 'header'; text: { type: 'plain_text'; text: string; emoji: boolean } }
  | { type: 'section'; text: SlackMrkdwn; fields?: SlackMrkdwn[] }
  | { type: 'context'; elements: SlackMrkdwn[] }

/** A Slack incoming-webhook message: `text` for the notification, blocks for the channel. */
export function slackMessage(event: NotificationEvent): { text: string; blocks: SlackBlock[] } {
  const oncall = event.oncall.length ? `On call: ${event.oncall.join(', ')}` : undefined
  return {
    text: `${event.severity.toUpperCase()}: ${event.title}`,
    blocks: [
      {
        type: 'header',
        text: { type: 'plain_text', text: cap(event.title, 150), emoji: true }
      },
      {
        type: 'section',
        text: {
          type: 'mrkdwn',
          text: cap(
            `${SEVERITY_MARK[event.severity]} *${event.severity}* (${event.kind}): ${slackEscape(event.text)}`,
            3000
          )
        },
        // Slack allows at most 10 fields of at most 2000 characters each.
        fields: event.facts.slice(0, 10).map(([label, value]) => ({
          type: 'mrkdwn',
          text: cap(`*${slackEscape(label)}*\n${slackEscape(value)}`, 2000)
        }))
      },
      ...(oncall
        ? [
            {
              type: 'section' as const,
              text: { type: 'mrkdwn' as const, text: cap(slackEscape(oncall), 3000) }
            }
          ]
        : []),
      {
        type: 'context',
        elements: [
          {
            type: 'mrkdwn',
            text: cap(
              `phasegate · ${event.at}${event.url ? ` · <${event.url}|details>` : ''}`,
              3000
            )
          }
        ]
      }
    ]
  }
}

const TEAMS_COLOR: Record<NotificationEvent['severity'], string> = {
  critical: 'Attention',
  high: 'Warning',
  medium: 'Accent',
  low: 'Default'
}

/** The Adaptive Card inside a Teams workflows message. */
export function adaptiveCard(event: NotificationEvent): Record<string, unknown> {
  return {
    type: 'AdaptiveCard',
    $schema: 'http://adaptivecards.io/schemas/adaptive-card.json',
    version: '1.5',
    fallbackText: `${event.severity.toUpperCase()}: ${event.title}`,
    body: [
      {
        type: 'TextBlock',
        text: event.title,
        weight: 'Bolder',
        size: 'Medium',
        color: TEAMS_COLOR[event.severity],
        wrap: true
      },
      {
        type: 'TextBlock',
        text: `**${event.severity}** (${event.kind}): ${event.text}`,
        wrap: true
      },
      {
        type: 'FactSet',
        facts: event.facts.map(([title, value]) => ({ title, value }))
      },
      ...(event.oncall.length
        ? [{ type: 'TextBlock', text: `On call: ${event.oncall.join(', ')}`, wrap: true }]
        : []),
      { type: 'TextBlock', text: `phasegate · ${event.at}`, isSubtle: true, size: 'Small' }
    ],
    ...(event.url
      ? { actions: [{ type: 'Action.OpenUrl', title: 'Details', url: event.url }] }
      : {})
  }
}

/** A Teams workflows webhook message: one Adaptive Card attachment. */
export function teamsMessage(event: NotificationEvent): Record<string, unknown> {
  return {
    type: 'message',
    attachments: [
      {
        contentType: 'application/vnd.microsoft.card.adaptive',
        contentUrl: null,
        content: adaptiveCard(event)
      }
    ]
  }
}

/** The generic webhook's JSON (version 1). */
export function webhookPayload(event: NotificationEvent): WebhookPayload {
  return {
    version: WEBHOOK_PAYLOAD_VERSION,
    id: event.key,
    event: event.kind,
    also: event.also,
    severity: event.severity,
    feature: event.feature,
    title: event.title,
    text: event.text,
    facts: Object.fromEntries(event.facts),
    at: event.at,
    oncall: event.oncall,
    url: event.url ?? null
  }
}
