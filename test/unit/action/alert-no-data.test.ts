import { describe, expect, it } from 'vitest'
import { syncAlertIssues } from '../../../src/action/alerts.js'
import { decide } from '../../../src/engine/decide.js'
import type { MetricReading, State } from '../../../src/engine/types.js'
import type { GitHubClient } from '../../../src/github/client.js'
import { parsePolicyText } from '../../../src/policy/load.js'

// Missing data is never a pass: an alert issue stays open while its metric reads no data; only a
// reading back under the warning threshold closes it as recovered.

const NOW = new Date('2026-03-02T12:00:00Z')
const CANARY: State = {
  feature: 'checkout',
  phase: 'canary',
  enteredAt: '2026-03-02T10:00:00Z',
  enabled: true,
  experiments: {}
}
const policy = parsePolicyText(
  [
    'feature: checkout',
    'deployment:',
    '  order: [staging, canary, full]',
    '  phases:',
    '    staging: { user_percentage: 100, gates: [] }',
    '    canary: { user_percentage: 10, gates: [] }',
    '    full: { user_percentage: 100 }',
    'monitoring:',
    '  alerts:',
    '    error_rate: { warning: 0.01, critical: 0.05 }'
  ].join('\n'),
  'policies/checkout.yaml'
)
const OPEN = [
  {
    number: 7,
    title: 'checkout: error_rate alert',
    labels: ['phasegate', 'phasegate:checkout', 'alert:error_rate', 'severity:high']
  }
]

/** A client that records every request and finds the one open alert issue. */
function recordingClient() {
  const calls: string[] = []
  const issues = {
    listForRepo: async () => {
      calls.push('listForRepo')
      return { data: OPEN }
    },
    createComment: async () => {
      calls.push('createComment')
      return { data: {} }
    },
    update: async () => {
      calls.push('update')
      return { data: {} }
    }
  }
  const client = {
    rest: { issues },
    paginate: async () => {
      calls.push('paginate')
      return OPEN
    }
  } as unknown as GitHubClient
  return { client, calls }
}

async function sync(readings: MetricReading[]) {
  const decision = decide(policy, CANARY, { readings, approvals: [], checks: [] }, NOW)
  const { client, calls } = recordingClient()
  const changes = await syncAlertIssues(
    client,
    { owner: 'o', repo: 'r' },
    policy,
    decision,
    undefined,
    OPEN
  )
  return { changes, calls }
}

describe('an open alert issue while its metric reads no data', () => {
  it('stays open, and the report says it was kept for lack of data', async () => {
    const { changes, calls } = await sync([])
    expect(calls).not.toContain('update')
    expect(changes.filter(c => c.change === 'resolved')).toEqual([])
    expect(changes.map(c => c.line).join('\n')).toMatch(/#7 kept open: error_rate reads no data/)
  })

  it('closes as recovered once a reading is back under warning', async () => {
    const { changes } = await sync([{ metric: 'error_rate', value: 0.001 }])
    expect(changes.map(c => c.change)).toEqual(['resolved'])
  })
})
