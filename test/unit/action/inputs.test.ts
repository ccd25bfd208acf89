import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { oncallMentions } from '../../../src/action/alerts.js'
import { parseMetricsSecrets } from '../../../src/action/context.js'
import { readSecretLines } from '../../../src/action/secret-lines.js'
import { featuresFromAlert } from '../../../src/action/repository-dispatch.js'
import { expandPolicyGlobs } from '../../../src/rollout/load.js'
import { deployedState } from '../../../src/rollout/standing.js'
import { at, seedPolicy, state } from '../../support/policies.js'

describe('the features a phasegate-alert payload names', () => {
  it('reads Alertmanager labels and a plain feature, once each', () => {
    expect(
      featuresFromAlert({
        commonLabels: { feature: 'search' },
        alerts: [{ labels: { feature: 'search' } }, { labels: { feature: 'checkout' } }]
      })
    ).toEqual(['search', 'checkout'])
    expect(featuresFromAlert({ feature: 'search' })).toEqual(['search'])
  })

  it('refuses a payload that names none, saying what to send', () => {
    expect(() => featuresFromAlert({ alerts: [{ labels: { alertname: 'X' } }] })).toThrow(
      /names no feature/
    )
  })
})

describe('on-call mentions', () => {
  it('mentions on-call teams as @org/team, using the repository owner when the policy gives no org', () => {
    expect(
      oncallMentions(
        [
          { team: 'engineering', oncall: true },
          { team: 'product', oncall: false },
          { team: '@other/sre', oncall: true },
          { user: 'dana', oncall: true }
        ],
        'acme'
      )
    ).toEqual(['@acme/engineering', '@other/sre', '@dana'])
  })
})

describe('the policies input', () => {
  const root = mkdtempSync(join(tmpdir(), 'phasegate-globs-'))
  for (const file of [
    'policies/a.yaml',
    'policies/b.yml',
    'teams/x/rollouts/c.yaml',
    'README.md'
  ]) {
    mkdirSync(join(root, file, '..'), { recursive: true })
    writeFileSync(join(root, file), '')
  }

  it('expands *, ** and plain paths relative to the repository', () => {
    expect(expandPolicyGlobs(root, ['policies/*.yaml']).map(f => f.slice(root.length + 1))).toEqual(
      ['policies/a.yaml']
    )
    expect(
      expandPolicyGlobs(root, ['**/*.yaml'])
        .map(f => f.slice(root.length + 1))
        .sort()
    ).toEqual(['policies/a.yaml', 'teams/x/rollouts/c.yaml'])
    expect(expandPolicyGlobs(root, ['policies/b.yml'])).toEqual([join(root, 'policies/b.yml')])
  })

  it('says so when a pattern matches nothing', () => {
    expect(() => expandPolicyGlobs(root, ['rollouts/*.yaml'])).toThrow(
      'the policies pattern "rollouts/*.yaml" matches no file'
    )
  })
})

describe('when a phase was entered', () => {
  const policy = seedPolicy()
  const written = state(policy, 'canary', { enteredAt: at(0).toISOString() })
  const rollout = { root: '/', policyFile: 'p.yaml', policy, state: written }

  it('is when its change landed on the default branch, for an advance PR merged after it was written', () => {
    expect(deployedState(rollout, at(10), { at: at(5).toISOString() }).enteredAt).toBe(
      at(5).toISOString()
    )
  })

  it("is the state file's time when the change landed at once", () => {
    expect(deployedState(rollout, at(10), { at: at(0).toISOString() }).enteredAt).toBe(
      at(0).toISOString()
    )
    expect(deployedState(rollout, at(10), undefined).enteredAt).toBe(at(0).toISOString())
  })
})

describe('the metrics-secrets input', () => {
  it('reads NAME=value lines, skipping comments, blank lines and unset (empty) secrets', () => {
    expect(
      parseMetricsSecrets(
        '# Prometheus\nPROM_TOKEN=abc=def\n\n  GRAFANA_USER = 12345 \nFROM_A_FORK=\n'
      )
    ).toEqual({ PROM_TOKEN: 'abc=def', GRAFANA_USER: '12345' })
    expect(parseMetricsSecrets('')).toEqual({})
  })

  it('never throws on a line that is not NAME=value: the entry before it is doubtful, the line not repeated', () => {
    for (const bad of ['just-a-token-value', '=s3cret', '9LIVES=s3cret', 'MY-TOKEN=s3cret']) {
      const read = readSecretLines(`OK=1\n${bad}\nLATER=2`, 'metrics-secrets')
      expect(read.values).toEqual({ LATER: '2' })
      expect(read.doubtful.OK).toMatch(
        /^input metrics-secrets, line 2 is not NAME=value: OK \(line 1\)/
      )
      expect(JSON.stringify(read)).not.toContain(bad)
    }
    // With no entry before it, the line is a problem of its own.
    expect(readSecretLines('oops\nOK=1', 'x').problems).toEqual([
      'input x, line 1: expected NAME=value with NAME an environment variable name'
    ])
  })

  it('reads NAME<<DELIMITER … DELIMITER as one multi-line value; without its end, NAME is doubtful', () => {
    expect(readSecretLines('A=1\nKEY<<EOF\nline one\nQ==\nEOF\nB=2', 'x')).toEqual({
      values: { A: '1', KEY: 'line one\nQ==', B: '2' },
      doubtful: {},
      problems: []
    })
    const open = readSecretLines('KEY<<EOF\nline one\nB=2', 'x')
    expect(open.values).toEqual({})
    expect(open.doubtful.KEY).toMatch(/KEY<<EOF has no closing EOF/)
  })
})
