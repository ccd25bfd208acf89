import { describe, expect, it } from 'vitest'
import { guardrailName } from '../../../src/engine/guardrails.js'
import type { Decision, TriggerResult } from '../../../src/engine/types.js'
import type { ExperimentAnalysis } from '../../../src/experiments/analysis.js'
import { parsePolicyText } from '../../../src/policy/load.js'
import {
  HEALTH,
  healthFlags,
  healthOf,
  openAlertsOf,
  type Health
} from '../../../src/report/dashboard/health.js'
import type { FeatureView } from '../../../src/report/dashboard/model.js'
import { renderFeature, renderIndex } from '../../../src/report/dashboard/render.js'

// The dashboard's health as a table: every flag `phasegate status` raises keeps a feature from
// "healthy", the worst names the badge, and missing data is never a pass.

const NOW = '2026-03-01T12:00:00.000Z'
const policy = parsePolicyText(
  [
    'feature: f',
    'deployment:',
    '  order: [a, b]',
    '  phases:',
    '    a: {user_percentage: 10}',
    '    b: {user_percentage: 100}',
    'guardrails:',
    '  error_rate: {margin: 0.01}',
    ''
  ].join('\n'),
  'policies/f.yaml'
)

const trigger = (status: TriggerResult['status'], name = 'error_rate > 0.02'): TriggerResult => ({
  trigger: name,
  status,
  fired: status === 'fired',
  onFire: 'rollback',
  reason: status === 'no_data' ? 'no data for error_rate' : `error_rate is 0.05 (${status})`,
  evidence: []
})

function feature(change: (f: FeatureView) => void = () => {}): FeatureView {
  const decision: Decision = {
    action: 'hold',
    feature: 'f',
    phase: 'a',
    reason: 'waiting for approval',
    gates: [],
    alerts: [],
    trends: [],
    triggers: [trigger('ok')],
    awaitingApproval: true
  }
  const f: FeatureView = {
    feature: 'f',
    policyFile: 'policies/f.yaml',
    policy,
    state: { feature: 'f', phase: 'a', enteredAt: NOW, enabled: true, experiments: {} },
    started: true,
    history: [],
    decision,
    exposure: {
      feature: 'f',
      phase: 'a',
      enabled: true,
      userPercentage: 10,
      featureFlags: [],
      monitoringLevel: 'standard'
    } as unknown as FeatureView['exposure'],
    readings: [],
    experiments: [],
    heartbeat: {
      evaluatedAt: NOW,
      outcome: 'hold',
      staleAfter: '2026-03-01T12:45:00.000Z',
      stale: false,
      ageMs: 0,
      intervalMs: 900_000
    }
  }
  change(f)
  return f
}

const alert = (severity: 'low' | 'medium' | 'high' | 'critical', metric = 'error_rate') => ({
  metric,
  value: 0.05,
  severity,
  warning: 0.01,
  critical: 0.03,
  message: `${metric} is 0.05 (${severity})`
})
const issue = (severity: string, alert = 'latency') => ({
  number: 7,
  title: `${alert} alert`,
  url: 'https://github.com/acme/shop/issues/7',
  createdAt: NOW,
  alert,
  severity
})
const srm = { sampleRatio: { statistic: 30, pValue: 1e-8, checked: true, mismatch: true } }

const CASES: Array<[string, (f: FeatureView) => void, Health, RegExp?]> = [
  ['every trigger ok, fresh heartbeat', () => {}, 'healthy'],
  [
    'a rollback trigger with no data',
    f => (f.decision.triggers = [trigger('no_data')]),
    'no-data',
    /rollback trigger error_rate > 0.02: no data for error_rate/
  ],
  [
    'a gate with no data',
    f =>
      (f.decision.gates = [
        {
          gate: 'error_rate',
          type: 'metric',
          outcome: 'pending',
          reason: 'no data',
          evidence: [{ gate: 'error_rate', metric: 'error_rate', value: null, result: 'no_data' }]
        } as unknown as Decision['gates'][number]
      ]),
    'no-data',
    /gate error_rate: no data for error_rate/
  ],
  [
    'a guardrail with no data (named as a guardrail, not a rollback trigger)',
    f => (f.decision.triggers = [trigger('no_data', guardrailName(policy.guardrails![0]!))]),
    'no-data',
    /^guardrail: error_rate \(margin 1\.00%\): no data/
  ],
  [
    'an alert rule that read no data',
    f => (f.decision.alertsUnread = ['latency']),
    'no-data',
    /alert rule latency: no data/
  ],
  [
    'an experiment whose results could not be read',
    f => (f.experiments = [{ name: 'exp', error: 'results file missing' }]),
    'no-data',
    /experiment exp: results could not be read/
  ],
  [
    'a rollback trigger breached, not yet sustained',
    f => (f.decision.triggers = [trigger('breached')]),
    'breached',
    /breached, not fired/
  ],
  [
    'a trigger fired in the first phase (nothing to roll back to: the decision holds)',
    f => (f.decision.triggers = [trigger('fired')]),
    'fired'
  ],
  [
    'a trigger with on_fire: pause fired',
    f => {
      f.decision.action = 'pause'
      f.decision.triggers = [trigger('fired')]
    },
    'pausing'
  ],
  [
    'a rollback',
    f => {
      f.decision.action = 'rollback'
      f.decision.target = 'a'
      f.decision.triggers = [trigger('fired')]
    },
    'rollback',
    /rolls back to a/
  ],
  ['a critical alert', f => (f.decision.alerts = [alert('critical')]), 'critical'],
  ['a high alert', f => (f.decision.alerts = [alert('high')]), 'critical'],
  ['a medium alert', f => (f.decision.alerts = [alert('medium')]), 'warning'],
  [
    'a trend alert',
    f =>
      (f.decision.trends = [
        {
          metric: 'latency',
          direction: 'increase',
          current: 2,
          previous: 1,
          change: 1,
          message: 'latency rose 100%'
        }
      ]),
    'warning'
  ],
  [
    'an open critical alert issue, no metrics',
    f => (f.issues = [issue('critical')]),
    'critical',
    /open alert issue #7 \(latency\), critical/
  ],
  ['an open low alert issue', f => (f.issues = [issue('low')]), 'warning'],
  [
    'an open alert issue with no severity label',
    f => (f.issues = [issue('')]),
    'warning',
    /severity not labelled/
  ],
  [
    "an experiment's sample ratio mismatch",
    f => (f.experiments = [{ name: 'exp', analysis: srm as unknown as ExperimentAnalysis }]),
    'warning',
    /experiment exp: sample ratio mismatch/
  ],
  [
    'an experiment whose control does better than its treatment',
    f =>
      (f.experiments = [
        {
          name: 'exp',
          analysis: {
            verdict: 'control_better',
            sampleRatio: { mismatch: false }
          } as unknown as ExperimentAnalysis
        }
      ]),
    'warning',
    /experiment exp: control better/
  ],
  ['the kill switch off', f => (f.state.enabled = false), 'off'],
  [
    'a pause',
    f => (f.state.paused = { at: NOW, reason: 'paused by alice: incident 42', operator: 'alice' }),
    'paused',
    /paused by alice: incident 42/
  ],
  [
    'a lost state file (the stand-in state is off and not started)',
    f => {
      f.started = false
      f.state.enabled = false
      f.state.lost = { sha: 'abcdef1234567890' }
    },
    'lost',
    /state file \.phasegate\/state\/f\.yaml is missing .*abcdef1/
  ],
  [
    'a stale datafile',
    f =>
      (f.datafile = {
        path: '.phasegate/state/f.datafile.json',
        reason: 'says phase: "a" where the policy and state say phase: "b"',
        fix: 'phasegate tick'
      }),
    'datafile',
    /\.phasegate\/state\/f\.datafile\.json says phase/
  ],
  [
    'no heartbeat recorded',
    f => (f.heartbeat = { evaluatedAt: null, stale: true, intervalMs: 900_000 }),
    'stale'
  ],
  [
    'a heartbeat older than three intervals',
    f => (f.heartbeat = { ...(f.heartbeat as object), stale: true } as FeatureView['heartbeat']),
    'stale'
  ],
  [
    'a heartbeat from the future',
    f =>
      (f.heartbeat = {
        ...(f.heartbeat as object),
        stale: true,
        future: true
      } as FeatureView['heartbeat']),
    'stale',
    /in the future/
  ],
  [
    'the last run failed to evaluate it',
    f =>
      (f.heartbeat = { ...(f.heartbeat as object), outcome: 'failed' } as FeatureView['heartbeat']),
    'failed'
  ],
  [
    'not started (its triggers have no data: nothing is in force)',
    f => {
      f.started = false
      f.decision.triggers = [trigger('no_data')]
      f.heartbeat = { evaluatedAt: null, stale: true, intervalMs: 900_000 }
    },
    'not-started'
  ],
  [
    'not started, with an open critical alert issue',
    f => {
      f.started = false
      f.issues = [issue('critical')]
    },
    'critical'
  ]
]

describe('healthOf / healthFlags', () => {
  it.each(CASES.map(([name, change, health, text]) => ({ name, change, health, text })))(
    '$name -> $health',
    ({ change, health, text }) => {
      const f = feature(change)
      const flags = healthFlags(f)
      expect(healthOf(f)).toBe(health)
      if (health === 'healthy' || health === 'not-started') expect(flags).toEqual([])
      else expect(flags[0]!.health).toBe(health)
      if (text) expect(flags.map(x => x.text).join('\n')).toMatch(text)
    }
  )

  it('lists every flag in force, worst first, and the badge is the worst', () => {
    const f = feature(x => {
      x.state.paused = { at: NOW, reason: 'paused by alice: incident 42' }
      x.decision.triggers = [trigger('no_data'), trigger('breached', 'latency > 2')]
      x.decision.alerts = [alert('medium', 'latency')]
      x.issues = [issue('critical', 'cost')]
    })
    expect(healthFlags(f).map(x => x.health)).toEqual([
      'critical',
      'breached',
      'no-data',
      'warning',
      'paused'
    ])
    expect(healthOf(f)).toBe('critical')
  })

  it('orders the health words by severity: nothing healthy ranks above a problem', () => {
    const order = Object.keys(HEALTH)
    expect(order.indexOf('healthy')).toBe(order.length - 2)
    for (const word of ['no-data', 'breached', 'paused', 'lost', 'datafile', 'stale'])
      expect(order.indexOf(word)).toBeLessThan(order.indexOf('healthy'))
    expect(order.indexOf('lost')).toBeLessThan(order.indexOf('off'))
    expect(order.indexOf('breached')).toBeLessThan(order.indexOf('no-data'))
  })
})

describe('openAlertsOf', () => {
  it('counts open alert issues beside the current alerts, an alert raised in an issue once', () => {
    const f = feature(x => {
      x.decision.alerts = [alert('medium', 'error_rate')]
      x.issues = [issue('medium', 'error_rate'), issue('critical', 'cost')]
    })
    expect(openAlertsOf(f)).toEqual({ count: 2, worst: 'critical', unread: [] })
  })

  it('says which alert rules read no data, so none is not shown as 0', () => {
    const f = feature(x => (x.decision.alertsUnread = ['latency']))
    expect(openAlertsOf(f)).toEqual({ count: 0, unread: ['latency'] })
    const index = renderIndex({ generatedAt: NOW, features: [f], failures: [] })
    expect(/data-cell="alerts" class="num">(.*?)<\/td>/.exec(index)?.[1]).toMatch(
      /^unknown <small>\(no data: latency\)/
    )
  })
})

describe('the health badge', () => {
  it('writes its word, not colour alone, with its level, on the index and the page header', () => {
    const f = feature(x => (x.decision.triggers = [trigger('no_data')]))
    const model = { generatedAt: NOW, features: [f], failures: [] }
    const index = renderIndex(model)
    expect(index).toContain(
      '<span class="badge no-data level-warn" data-health="no-data">no data</span>'
    )
    expect(index).toContain('<li data-flag="no-data">')
    const page = renderFeature(model, f)
    expect(/<h1>.*?<\/h1>/s.exec(page)?.[0]).toContain('data-health="no-data">no data</span>')
    expect(page).toContain('<li data-flag="no-data">')
  })

  it('the alerts panel lists an alert rule that read no data, never "No active alerts"', () => {
    const f = feature(x => (x.decision.alertsUnread = ['latency']))
    const page = renderFeature({ generatedAt: NOW, features: [f], failures: [] }, f)
    const active = /<table class="alerts-active">.*?<\/table>/s.exec(page)?.[0] ?? ''
    expect(active).not.toContain('No active alerts')
    expect(active).toContain('<tr data-alert="latency">')
    expect(active).toContain('no data')
  })

  it('escapes the texts of flags (a pause reason is free text)', () => {
    const f = feature(x => (x.state.paused = { at: NOW, reason: 'by <img src=x onerror=1>' }))
    const index = renderIndex({ generatedAt: NOW, features: [f], failures: [] })
    expect(index).not.toContain('<img')
    expect(index).toContain('by &lt;img src=x onerror=1&gt;')
  })
})
