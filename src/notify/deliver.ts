import { createHmac } from 'node:crypto'
import type { NotificationsConfig, NotificationTarget } from '../engine/types.js'
import { routes, type NotificationEvent } from './events.js'
import type { NotifiedLedger } from './ledger.js'
import { slackMessage, teamsMessage, webhookPayload } from './payloads.js'

// Delivery is best effort and comes last: the flows call it after every feature has acted, so a
// slow or dead receiver can delay only the end of the run. That delay is bounded whatever the
// number of events: a receiver that proved dead (no answer, or no connection, after its retries)
// is not tried again in this run, and all delivery ends by one deadline (the slowest target's one
// event worst case, (retries + 1) × timeout + backoff, plus DEADLINE_MARGIN_MS). Scheduled ticks
// share one concurrency group, so every second spent here delays the next tick's rollbacks.
// Failures are results, never thrown: the caller reports them and fails the run at the end. URLs
// and signing keys come from secrets and appear in no message: errors name the target and the
// secret's NAME only.

/** The header carrying the generic webhook's HMAC-SHA256 signature: "sha256=<hex>". */
export const SIGNATURE_HEADER = 'x-phasegate-signature-256'

/** One event for one target: sent, skipped as already sent, or failed (why, without the URL). */
export interface Delivery {
  target: string
  event: NotificationEvent['kind']
  severity: NotificationEvent['severity']
  feature: string
  key: string
  status: 'sent' | 'duplicate' | 'failed'
  /** Requests made (0 for a duplicate or a missing secret). */
  attempts: number
  /** Why it failed. */
  reason?: string
}

/** What became of a run's notifications; `logged` are the low events (log only, never sent). */
export interface NotificationReport {
  deliveries: Delivery[]
  logged: NotificationEvent[]
}

export interface DeliverOptions {
  /** Where url_secret and signing_secret NAMEs are looked up. */
  secrets: Record<string, string | undefined>
  /** Why a NAME missing from `secrets` is missing, when known (e.g. a malformed input line). */
  whyUnset?: (name: string) => string | undefined
  ledger: NotifiedLedger
  now: () => Date
  /** First retry's wait, doubled on each next one (default 250 ms). */
  backoffMs?: number
  /**
   * Milliseconds all of this call's delivery may take; an event not sent by then is reported
   * failed, not attempted. Default: the slowest config's one-event worst case plus
   * DEADLINE_MARGIN_MS.
   */
  deadlineMs?: number
}

/** What the default deadline allows past one event's worst case, for the other events. */
export const DEADLINE_MARGIN_MS = 30_000

/** Receivers that proved dead in this call, by URL (never shown): why, as first seen. */
type DeadReceivers = Map<string, string>

/** One feature's events, and the notification settings of the policy that raised them. */
export interface EventBatch {
  config: NotificationsConfig | undefined
  events: NotificationEvent[]
}

/**
 * Sends every event to every target that routes it, each at most once per (event key, target)
 * as the ledger says. Targets are tried in parallel; one target's events in order.
 */
export async function deliverNotifications(
  batches: EventBatch[],
  options: DeliverOptions
): Promise<NotificationReport> {
  const logged = batches.flatMap(b => (b.config ? b.events.filter(e => e.severity === 'low') : []))
  const backoff = options.backoffMs ?? 250
  const deadlineMs =
    options.deadlineMs ??
    Math.max(0, ...batches.flatMap(b => (b.config ? [worstCaseMs(b.config, backoff)] : []))) +
      DEADLINE_MARGIN_MS
  const run: DeliveryRun = {
    ...options,
    backoff,
    deadlineMs,
    endsAt: Date.now() + deadlineMs,
    dead: new Map()
  }
  const work: Array<Promise<Delivery[]>> = []
  for (const { config, events } of batches) {
    if (!config) continue
    for (const target of config.targets) {
      const routed = events.filter(e => routes(target, e))
      if (routed.length)
        work.push(
          (async () => {
            const done: Delivery[] = []
            for (const event of routed) done.push(await deliverOne(target, event, config, run))
            return done
          })()
        )
    }
  }
  return { deliveries: (await Promise.all(work)).flat(), logged }
}

/** One event's worst case with `config`: every attempt times out, with the backoff between. */
function worstCaseMs(config: NotificationsConfig, backoff: number): number {
  return (config.retries + 1) * config.timeoutMs + backoff * (2 ** config.retries - 1)
}

interface DeliveryRun extends DeliverOptions {
  backoff: number
  deadlineMs: number
  /** Date.now() past which nothing more is attempted. */
  endsAt: number
  dead: DeadReceivers
}

async function deliverOne(
  target: NotificationTarget,
  event: NotificationEvent,
  config: NotificationsConfig,
  options: DeliveryRun
): Promise<Delivery> {
  const base = {
    target: target.name,
    event: event.kind,
    severity: event.severity,
    feature: event.feature,
    key: event.key
  }
  if (await options.ledger.has(event.key, target.name))
    return { ...base, status: 'duplicate', attempts: 0 }
  const url = options.secrets[target.urlSecret]
  if (!url)
    return {
      ...base,
      status: 'failed',
      attempts: 0,
      reason: `secret ${target.urlSecret} (url_secret) is not set${why(options, target.urlSecret)}`
    }
  const signingKey = target.signingSecret ? options.secrets[target.signingSecret] : undefined
  if (target.signingSecret && !signingKey)
    return {
      ...base,
      status: 'failed',
      attempts: 0,
      reason: `secret ${target.signingSecret} (signing_secret) is not set${why(options, target.signingSecret)}`
    }
  const body = JSON.stringify(
    target.type === 'slack'
      ? slackMessage(event)
      : target.type === 'teams'
        ? teamsMessage(event)
        : webhookPayload(event)
  )
  const headers: Record<string, string> = {
    'content-type': 'application/json',
    'user-agent': 'phasegate',
    ...(target.type === 'webhook'
      ? {
          'idempotency-key': event.key,
          'x-phasegate-event': event.kind,
          ...(signingKey ? { [SIGNATURE_HEADER]: `sha256=${signature(signingKey, body)}` } : {})
        }
      : {})
  }
  const notAttempted = (why: string, attempts = 0): Delivery => ({
    ...base,
    status: 'failed',
    attempts,
    reason: `not attempted: ${why}`
  })
  const deadAs = options.dead.get(url)
  if (deadAs !== undefined)
    return notAttempted(`${target.name} failed earlier in this run (${deadAs})`)
  let reason = ''
  for (let attempt = 1; attempt <= config.retries + 1; attempt++) {
    const left = options.endsAt - Date.now()
    if (left <= 0)
      return attempt === 1
        ? notAttempted(`the run's delivery deadline (${options.deadlineMs} ms) passed`)
        : { ...base, status: 'failed', attempts: attempt - 1, reason }
    const answer = await post(url, headers, body, Math.min(config.timeoutMs, left))
    if (answer.ok) {
      await options.ledger.add(event.key, target.name, options.now())
      return { ...base, status: 'sent', attempts: attempt }
    }
    reason = answer.reason
    if (!answer.retry || attempt > config.retries) {
      // No answer or no connection after every retry: the next event would wait as long again.
      if (answer.dead) options.dead.set(url, reason)
      return { ...base, status: 'failed', attempts: attempt, reason }
    }
    await new Promise(resolve => setTimeout(resolve, options.backoff * 2 ** (attempt - 1)))
  }
  return { ...base, status: 'failed', attempts: config.retries + 1, reason }
}

/** ": why" for a missing secret NAME, when the caller knows; empty otherwise. */
function why(options: DeliverOptions, name: string): string {
  const known = options.whyUnset?.(name)
  return known ? `: ${known}` : ''
}

/** HMAC-SHA256 of the exact body, hex: what receivers recompute with the shared key. */
export function signature(key: string, body: string): string {
  return createHmac('sha256', key).update(body).digest('hex')
}

/**
 * One POST, bounded by `timeoutMs` from connect to the last byte of the answer. 5xx, 429,
 * timeouts and network errors may be retried; other refusals (a revoked URL's 404, a 400 for a
 * malformed payload) will not change on a retry.
 */
async function post(
  url: string,
  headers: Record<string, string>,
  body: string,
  timeoutMs: number
): Promise<{ ok: true } | { ok: false; retry: boolean; dead?: true; reason: string }> {
  const controller = new AbortController()
  const timer = setTimeout(() => controller.abort(), timeoutMs)
  try {
    const response = await fetch(url, {
      method: 'POST',
      headers,
      body,
      signal: controller.signal,
      redirect: 'error'
    })
    // Read the answer within the same deadline, and free the connection.
    const text = await response.text()
    if (response.ok) return { ok: true }
    return {
      ok: false,
      retry: response.status >= 500 || response.status === 429,
      reason: `HTTP ${response.status}${text ? `: ${text.slice(0, 120).replace(/\s+/g, ' ')}` : ''}`
    }
  } catch (error) {
    if (controller.signal.aborted)
      return { ok: false, retry: true, dead: true, reason: `no answer within ${timeoutMs} ms` }
    // Network errors name the host and port at most (never the path, where webhook tokens live).
    const cause = (error as { cause?: { code?: string } }).cause?.code
    return {
      ok: false,
      retry: true,
      dead: true,
      reason: cause ? `connection failed (${cause})` : 'connection failed'
    }
  } finally {
    clearTimeout(timer)
  }
}
