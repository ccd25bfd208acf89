import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { KnownBlock } from '@slack/types'
import { Ajv } from 'ajv'
import draft06 from 'ajv/dist/refs/json-schema-draft-06.json' with { type: 'json' }
import { afterEach, describe, expect, it } from 'vitest'
import type { NotificationsConfig, NotificationTarget } from '../../../src/engine/types.js'
import {
  deliverNotifications,
  signature,
  SIGNATURE_HEADER,
  type DeliverOptions
} from '../../../src/notify/deliver.js'
import {
  alertEvent,
  routes,
  transitionEvent,
  type NotificationEvent
} from '../../../src/notify/events.js'
import { fileLedger, memoryLedger, notifiedPath } from '../../../src/notify/ledger.js'
import { slackMessage, teamsMessage, type WebhookPayload } from '../../../src/notify/payloads.js'
import { seedPolicy } from '../../support/policies.js'
import { startServer, type TestServer } from '../../support/http-server.js'

// The Adaptive Card schema is not published on the npm registry: test/fixtures/adaptive-card/
// holds a copy of microsoft/AdaptiveCards schemas/1.5.0/adaptive-card.json (see its README).
// Its draft-06 text names itself with draft-04's `id`, which ajv reads only as `$id`.
const { id: cardSchemaId, ...cardSchema } = JSON.parse(
  readFileSync(
    new URL('../../fixtures/adaptive-card/adaptive-card-1.5.schema.json', import.meta.url),
    'utf8'
  )
) as Record<string, unknown>
const CARD_SCHEMA: Record<string, unknown> = { ...cardSchema, $id: cardSchemaId }

const servers: TestServer[] = []
afterEach(async () => {
  await Promise.all(servers.splice(0).map(s => s.close()))
})

async function receiver(answer: (n: number) => number | 'never' = () => 200): Promise<TestServer> {
  let n = 0
  const server = await startServer((_request, response) => {
    const status = answer(++n)
    if (status === 'never') return
    response.statusCode = status
    response.end(status === 200 ? 'ok' : 'boom')
  })
  servers.push(server)
  return server
}

const policy = seedPolicy()

function emergency(): NotificationEvent {
  return transitionEvent(
    policy,
    {
      kind: 'emergency',
      from: 'canary',
      to: 'staging',
      at: '2026-03-02T10:00:00.000Z',
      reason: 'pager went off <now> & again',
      approvers: [],
      operator: 'olga',
      evidence: []
    },
    'a'.repeat(40),
    'https://github.example/o/r/actions/runs/1'
  )!
}

function target(over: Partial<NotificationTarget> = {}): NotificationTarget {
  return {
    name: 'sre',
    type: 'webhook',
    urlSecret: 'HOOK_URL',
    events: ['emergency_rollback', 'rollback', 'alert_opened'],
    minSeverity: 'medium',
    ...over
  }
}

function config(targets: NotificationTarget[], over: Partial<NotificationsConfig> = {}) {
  return { targets, timeoutMs: 300, retries: 2, ...over }
}

function options(url: string, over: Partial<DeliverOptions> = {}): DeliverOptions {
  return {
    secrets: { HOOK_URL: url, HOOK_KEY: 'k3y' },
    ledger: memoryLedger(),
    now: () => new Date('2026-03-02T10:00:01Z'),
    backoffMs: 10,
    ...over
  }
}

describe('payload shapes', () => {
  it('a Slack message is Block Kit as @slack/types defines it, with the on-call named and text escaped', async () => {
    const server = await receiver()
    await deliverNotifications(
      [{ config: config([target({ type: 'slack' })]), events: [emergency()] }],
      options(`${server.url}/services/T/B/secret`)
    )
    const body = JSON.parse(server.received[0]!.body) as ReturnType<typeof slackMessage>
    // Compile-time: what phasegate sends is a list of Slack's known blocks.
    const blocks: KnownBlock[] = body.blocks
    expect(blocks.map(b => b.type)).toEqual(['header', 'section', 'section', 'context'])
    expect(body.text).toBe(
      'CRITICAL: production_deployment: EMERGENCY: turned off and rolled back canary → staging'
    )
    expect(JSON.stringify(blocks[1])).toContain('pager went off &lt;now&gt; &amp; again')
    expect(JSON.stringify(blocks[2])).toContain('On call: engineering')
    expect(JSON.stringify(blocks)).not.toContain('engineering, product')
    expect(blocks[0]).toMatchObject({ type: 'header', text: { type: 'plain_text' } })
  })

  it('a Teams message carries one Adaptive Card that the published 1.5 schema accepts', async () => {
    const server = await receiver()
    await deliverNotifications(
      [{ config: config([target({ type: 'teams' })]), events: [emergency()] }],
      options(server.url)
    )
    const message = JSON.parse(server.received[0]!.body) as ReturnType<typeof teamsMessage>
    const attachments = message.attachments as Array<{ contentType: string; content: unknown }>
    expect(message.type).toBe('message')
    expect(attachments).toHaveLength(1)
    expect(attachments[0]!.contentType).toBe('application/vnd.microsoft.card.adaptive')
    const ajv = new Ajv({ strict: false, allErrors: true, validateFormats: false })
    ajv.addMetaSchema(draft06)
    const validate = ajv.compile(CARD_SCHEMA)
    expect(validate(attachments[0]!.content), JSON.stringify(validate.errors)).toBe(true)
    expect(JSON.stringify(attachments[0]!.content)).toContain('On call: engineering')
  })

  it('the schema check can fail: a card with an unknown element is refused', () => {
    const ajv = new Ajv({ strict: false, validateFormats: false })
    ajv.addMetaSchema(draft06)
    const validate = ajv.compile(CARD_SCHEMA)
    expect(
      validate({ type: 'AdaptiveCard', version: '1.5', body: [{ type: 'Nonsense', text: 1 }] })
    ).toBe(false)
  })

  it('the generic webhook is versioned JSON with an idempotency key and an HMAC-SHA256 signature of the exact body', async () => {
    const server = await receiver()
    await deliverNotifications(
      [{ config: config([target({ signingSecret: 'HOOK_KEY' })]), events: [emergency()] }],
      options(server.url)
    )
    const { body, headers } = server.received[0]!
    const payload = JSON.parse(body) as WebhookPayload
    expect(payload).toMatchObject({
      version: 1,
      id: `production_deployment:emergency_rollback:${'a'.repeat(40)}`,
      event: 'emergency_rollback',
      also: ['kill_switch'],
      severity: 'critical',
      feature: 'production_deployment',
      oncall: ['engineering'],
      url: 'https://github.example/o/r/actions/runs/1'
    })
    expect(payload.facts).toMatchObject({ From: 'canary', To: 'staging', Operator: 'olga' })
    expect(headers['idempotency-key']).toBe(payload.id)
    expect(headers[SIGNATURE_HEADER]).toBe(`sha256=${signature('k3y', body)}`)
  })
})

describe('routing by severity and event', () => {
  const alert = (severity: 'low' | 'medium' | 'high' | 'critical') =>
    alertEvent(
      policy,
      'opened',
      { metric: 'error_rate', message: 'error_rate is 0.03', severity },
      { record: 'canary@t', phase: 'canary', at: '2026-03-02T10:00:00Z' }
    )

  it('low is log only, whatever the target asks; min_severity and events filter the rest', async () => {
    expect(routes(target({ minSeverity: 'medium' }), alert('low'))).toBe(false)
    expect(routes(target({ minSeverity: 'medium' }), alert('medium'))).toBe(true)
    expect(routes(target({ minSeverity: 'high' }), alert('medium'))).toBe(false)
    expect(routes(target({ minSeverity: 'critical' }), alert('critical'))).toBe(true)
    expect(routes(target({ events: ['rollback'] }), alert('critical'))).toBe(false)
    // An emergency is heard by a target that only listens for the kill switch.
    expect(routes(target({ events: ['kill_switch'] }), emergency())).toBe(true)
    const server = await receiver()
    const report = await deliverNotifications(
      [{ config: config([target()]), events: [alert('low'), alert('high')] }],
      options(server.url)
    )
    expect(report.logged.map(e => e.severity)).toEqual(['low'])
    expect(report.deliveries.map(d => [d.status, d.severity])).toEqual([['sent', 'high']])
    expect(server.received).toHaveLength(1)
  })

  it('on-call contacts are named in critical messages only', () => {
    expect(alert('critical').oncall).toEqual(['engineering'])
    expect(alert('high').oncall).toEqual([])
  })
})

describe('delivery faults', () => {
  it('a 500 is retried, and the event is delivered once the receiver recovers', async () => {
    const server = await receiver(n => (n < 3 ? 500 : 200))
    const report = await deliverNotifications(
      [{ config: config([target()]), events: [emergency()] }],
      options(server.url)
    )
    expect(report.deliveries).toEqual([expect.objectContaining({ status: 'sent', attempts: 3 })])
  })

  it('a receiver that keeps answering 500 fails after the bounded retries, without the URL in the reason', async () => {
    const server = await receiver(() => 500)
    const url = `${server.url}/hooks/very-secret-token`
    const report = await deliverNotifications(
      [{ config: config([target()], { retries: 2 }), events: [emergency()] }],
      options(url)
    )
    expect(server.received).toHaveLength(3)
    expect(report.deliveries[0]).toMatchObject({ status: 'failed', attempts: 3 })
    expect(report.deliveries[0]!.reason).toContain('HTTP 500')
    expect(JSON.stringify(report)).not.toContain('very-secret-token')
  })

  it('a refusal that a retry cannot change (404) is not retried', async () => {
    const server = await receiver(() => 404)
    const report = await deliverNotifications(
      [{ config: config([target()]), events: [emergency()] }],
      options(server.url)
    )
    expect(server.received).toHaveLength(1)
    expect(report.deliveries[0]).toMatchObject({ status: 'failed', attempts: 1 })
  })

  it('a receiver that never answers costs at most (retries + 1) timeouts and the backoff', async () => {
    const server = await receiver(() => 'never')
    const started = Date.now()
    const report = await deliverNotifications(
      [{ config: config([target()], { timeoutMs: 200, retries: 1 }), events: [emergency()] }],
      options(`${server.url}/hooks/very-secret-token`)
    )
    const took = Date.now() - started
    expect(report.deliveries[0]).toMatchObject({
      status: 'failed',
      attempts: 2,
      reason: 'no answer within 200 ms'
    })
    expect(server.received).toHaveLength(2)
    expect(took).toBeLessThan(2 * 200 + 10 + 1_500)
  })

  it('a slow first answer (timeout) then a good one is delivered', async () => {
    const server = await receiver(n => (n === 1 ? 'never' : 200))
    const report = await deliverNotifications(
      [{ config: config([target()], { timeoutMs: 200 }), events: [emergency()] }],
      options(server.url)
    )
    expect(report.deliveries[0]).toMatchObject({ status: 'sent', attempts: 2 })
  })

  it('a refused connection and a missing secret are failures of their own, naming the secret not its value', async () => {
    const server = await receiver()
    const dead = server.url
    await server.close()
    const report = await deliverNotifications(
      [
        {
          config: config([target(), target({ name: 'other', urlSecret: 'UNSET_URL' })], {
            retries: 1
          }),
          events: [emergency()]
        }
      ],
      options(dead)
    )
    expect(report.deliveries.map(d => [d.target, d.status, d.reason])).toEqual([
      ['sre', 'failed', 'connection failed (ECONNREFUSED)'],
      ['other', 'failed', 'secret UNSET_URL (url_secret) is not set']
    ])
  })
})

describe('deduplication', () => {
  it('the same event is delivered once per target across runs; the record lives in git directory', async () => {
    const gitDir = mkdtempSync(join(tmpdir(), 'phasegate-notified-'))
    try {
      const server = await receiver()
      const batches = [{ config: config([target()]), events: [emergency()] }]
      const first = await deliverNotifications(
        batches,
        options(server.url, { ledger: fileLedger(gitDir) })
      )
      const again = await deliverNotifications(
        batches,
        options(server.url, { ledger: fileLedger(gitDir) })
      )
      expect(first.deliveries[0]!.status).toBe('sent')
      expect(again.deliveries[0]!.status).toBe('duplicate')
      expect(server.received).toHaveLength(1)
      expect(Object.keys(JSON.parse(readFileSync(notifiedPath(gitDir), 'utf8')))).toEqual([
        `sre production_deployment:emergency_rollback:${'a'.repeat(40)}`
      ])
    } finally {
      rmSync(gitDir, { recursive: true, force: true })
    }
  })

  it('a failed delivery is not recorded, so the next run tries again', async () => {
    const gitDir = mkdtempSync(join(tmpdir(), 'phasegate-notified-'))
    try {
      const server = await receiver(n => (n === 1 ? 500 : 200))
      const batches = [{ config: config([target()], { retries: 0 }), events: [emergency()] }]
      const ledger = fileLedger(gitDir)
      const first = await deliverNotifications(batches, options(server.url, { ledger }))
      const again = await deliverNotifications(batches, options(server.url, { ledger }))
      expect([first.deliveries[0]!.status, again.deliveries[0]!.status]).toEqual(['failed', 'sent'])
    } finally {
      rmSync(gitDir, { recursive: true, force: true })
    }
  })
})
