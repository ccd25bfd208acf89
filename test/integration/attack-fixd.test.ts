// The attack review's findings fixed on branch fixd (A7 A8 A11 A12 A16; /work/notes/attack.md).
// Each test failed on the code before the fix.
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { cli, tempRepo } from '../support/repo.js'

const POLICY = [
  'feature: f',
  'deployment:',
  '  order: [a, b, c]',
  '  phases:',
  '    a: {user_percentage: 10}',
  '    b: {user_percentage: 50}',
  '    c: {user_percentage: 100}',
  'rollback:',
  '  automatic_triggers:',
  '    - error_rate > 0.02',
  ''
].join('\n')
const T = (h: number) => new Date(Date.UTC(2026, 2, 1, h)).toISOString()
describe('attack findings fixed by fixd (CLI)', () => {
  it('A7 success_criteria and duration written beside an explicit gates list are not silently ignored', async () => {
    const policy = [
      'feature: f',
      'deployment:',
      '  order: [a, b]',
      '  phases:',
      '    a:',
      '      user_percentage: 10',
      '      duration: 24h',
      '      success_criteria:',
      '        error_rate: "< 0.01"',
      '      approvers: [alice]',
      '      gates:',
      '        - type: manual_approval',
      '    b: {user_percentage: 100}',
      ''
    ].join('\n')
    const dir = tempRepo({ 'policies/f.yaml': policy, '.phasegate/metrics/f.yaml': '' })
    writeFileSync(join(dir, '.phasegate/metrics/f.yaml'), 'error_rate: 0.5\n')
    const validate = await cli(dir, 'validate')
    if (validate.code === 0) {
      // Accepted: then both keys must act (the gates fold them in, as they fold in approvers).
      expect((await cli(dir, 'init', '--now', T(0))).code).toBe(0)
      const tick = await cli(dir, 'tick', '--now', T(1), '--approved-by', 'alice')
      expect(tick.out).not.toMatch(/ADVANCE/)
      expect(tick.out).toMatch(/error_rate/)
      expect(tick.out).toMatch(/24h/)
    } else {
      // Or refused at the line, naming the key that would do nothing.
      expect(validate.err).toMatch(/policies\/f\.yaml:\d+:\d+: .*(success_criteria|duration)/)
    }
  })

  // Issue 12 item 4 again: the final phase has no gate (nothing to advance to), so its
  // `success_criteria`, `duration` and `approvers` can never act; validate says ok and nothing
  // else (not even the notice `monitoring.dashboards` gets).
  it('A8 gate keys on the final phase (which never advances) are refused or noticed by validate', async () => {
    const policy = POLICY.replace(
      'c: {user_percentage: 100}',
      'c: {user_percentage: 100, duration: 24h, approvers: [alice], success_criteria: {error_rate: "< 0.01"}}'
    )
    const dir = tempRepo({ 'policies/f.yaml': policy })
    const validate = await cli(dir, 'validate')
    expect(`${validate.out}${validate.err}`).toMatch(/deployment\.phases\.c/)
  })

  // On call, a single fault: another team's policy is broken on main. `phasegate rollback
  // --emergency --reason ...` (the documented lever, no --policy) exits 1 with only the other
  // policy's error and turns nothing off; the error does not even say that `--policy` would get
  // past it. tick acts on every good feature and reports the broken one; the lever must too.
  it('A11 a metric whose name states its unit (_minutes, _us) is not read as ms', async () => {
    const policy = [
      'feature: f',
      'deployment:',
      '  order: [a, b]',
      '  phases:',
      '    a:',
      '      user_percentage: 10',
      '      success_criteria: {session_duration_minutes: "< 2h", rpc_latency_us: "< 500ms"}',
      '    b: {user_percentage: 100}',
      ''
    ].join('\n')
    const dir = tempRepo({ 'policies/f.yaml': policy, '.phasegate/metrics/f.yaml': '' })
    writeFileSync(
      join(dir, '.phasegate/metrics/f.yaml'),
      'session_duration_minutes: 300\nrpc_latency_us: 200000\n'
    )
    const validate = await cli(dir, 'validate')
    if (validate.code !== 0) {
      // Refusing a time on a metric whose unit phasegate cannot know is also right.
      expect(validate.err).toMatch(/policies\/f\.yaml:7:\d+/)
      return
    }
    expect((await cli(dir, 'init', '--now', T(0))).code).toBe(0)
    const status = JSON.parse((await cli(dir, 'status', '--json', '--now', T(1))).out) as Array<{
      decision: { gates: Array<{ evidence: Array<{ metric?: string; result: string }> }> }
    }>
    const evidence = status[0]!.decision.gates.flatMap(g => g.evidence)
    expect(evidence.find(e => e.metric === 'session_duration_minutes')?.result).toBe('fail')
    expect(evidence.find(e => e.metric === 'rpc_latency_us')?.result).toBe('pass')
  })

  // Issue 10 kind 1 (locally, --approved-by follows GitHub's identity rules): a value that is no
  // GitHub login is counted as an approval and written into the Phasegate-Approved-By trailer:
  // the runner's own e-mail (git user.email), or a display name with a space. GitHub logins are
  // [A-Za-z0-9-]; these should be refused as usage errors (or at least not counted).
  it("A12 --approved-by counts neither the runner's own e-mail nor a value that is no login", async () => {
    const dir = tempRepo({ 'policies/f.yaml': POLICY })
    expect((await cli(dir, 'init', '--now', T(0))).code).toBe(0)
    for (const who of ['test@example.com', 'Test User', 'bob\u202e']) {
      const status = await cli(dir, 'status', '--now', T(1), '--approved-by', who)
      expect(`${status.out}${status.err}`, who).not.toMatch(/\[pass\] approval/)
    }
  })

  // Issue 15 item 2 x the datafile refresh (issue 14): inside a freeze window the tick says
  // "nothing lands as an advance", and in the same run commits a refresh that takes the feature
  // from 1% to 100% of users, because a policy edit raised the current phase's percentage. The
  // refresh is "not a transition", so neither the freeze nor a pause nor the approval gate applies
  it('A16 two samples at the ends of a 30m window do not make a sustained gate pass', async () => {
    const policy = [
      'feature: f',
      'deployment:',
      '  order: [a, b]',
      '  phases:',
      '    a:',
      '      user_percentage: 10',
      '      gates:',
      '        - type: metrics_threshold',
      '          thresholds: { error_rate: < 0.01 }',
      '          for: 30m',
      '    b: {user_percentage: 100}',
      ''
    ].join('\n')
    const dir = tempRepo({ 'policies/f.yaml': policy, '.phasegate/metrics/f.yaml': '' })
    expect((await cli(dir, 'init', '--now', T(0))).code).toBe(0)
    writeFileSync(
      join(dir, '.phasegate/metrics/f.yaml'),
      [
        'error_rate:',
        '  value: 0.001',
        '  series:',
        '    - ["2026-03-01T00:30:00Z", 0.001]',
        '    - ["2026-03-01T01:00:00Z", 0.001]',
        ''
      ].join('\n')
    )
    const status = await cli(dir, 'status', '--now', T(1))
    expect(status.out).not.toMatch(/\[pass\] metrics_threshold/)
  })
})

describe('A11 kind: a declared unit against the unit a name states', () => {
  it('refuses rpc_latency_us declared in ms at the unit, and takes unit: us', async () => {
    const policy = (unit: string) =>
      [
        'feature: f',
        'deployment:',
        '  order: [a, b]',
        '  phases:',
        '    a: {user_percentage: 10}',
        '    b: {user_percentage: 100}',
        'metrics:',
        '  definitions:',
        `    rpc_latency_us: {unit: ${unit}}`,
        ''
      ].join('\n')
    const bad = await cli(tempRepo({ 'policies/f.yaml': policy('ms') }), 'validate')
    expect(bad.code).not.toBe(0)
    expect(bad.err).toMatch(/policies\/f\.yaml:9:\d+: .*rpc_latency_us.*us/)
    const good = await cli(tempRepo({ 'policies/f.yaml': policy('microseconds') }), 'validate')
    expect(good.code, good.err).toBe(0)
  })
})

describe('A7 kind: phase gate keys beside a gates list that reads none of them', () => {
  it('refuses approvers when no manual_approval gate reads them, and hints the gate for duration', async () => {
    const policy = [
      'feature: f',
      'deployment:',
      '  order: [a, b]',
      '  phases:',
      '    a:',
      '      user_percentage: 10',
      '      duration: 24h',
      '      approvers: [alice]',
      '      gates:',
      '        - type: time_based',
      '          duration: 1h',
      '    b: {user_percentage: 100}',
      ''
    ].join('\n')
    const validate = await cli(tempRepo({ 'policies/f.yaml': policy }), 'validate')
    expect(validate.code).not.toBe(0)
    expect(validate.err).toMatch(/policies\/f\.yaml:7:\d+: .*duration/)
    expect(validate.err).toMatch(/type: time_based, duration: 24h/)
    // The first problem is the one reported: without duration, approvers is the one refused.
    const withoutDuration = policy.replace('      duration: 24h\n', '')
    const again = await cli(tempRepo({ 'policies/f.yaml': withoutDuration }), 'validate')
    expect(again.err).toMatch(/policies\/f\.yaml:7:\d+: .*approvers.*manual_approval/)
  })
})

describe('A16 kind: the step a file series states decides what its points cover', () => {
  const policy = [
    'feature: f',
    'deployment:',
    '  order: [a, b]',
    '  phases:',
    '    a:',
    '      user_percentage: 10',
    '      gates:',
    '        - type: metrics_threshold',
    '          thresholds: { error_rate: < 0.01 }',
    '          for: 30m',
    '    b: {user_percentage: 100}',
    ''
  ].join('\n')
  const snapshot = (step: string, minutes: number[]) =>
    [
      'error_rate:',
      '  value: 0.001',
      `  step: ${step}`,
      '  series:',
      ...minutes.map(
        m =>
          `    - ["2026-03-01T${m === 60 ? '01:00' : `00:${String(m).padStart(2, '0')}`}:00Z", 0.001]`
      ),
      ''
    ].join('\n')
  it('two points 30m apart with step: 1m are a gap; every 5m with step: 5m covers', async () => {
    const dir = tempRepo({ 'policies/f.yaml': policy, '.phasegate/metrics/f.yaml': '' })
    expect((await cli(dir, 'init', '--now', T(0))).code).toBe(0)
    writeFileSync(join(dir, '.phasegate/metrics/f.yaml'), snapshot('1m', [30, 60]))
    const gap = await cli(dir, 'status', '--now', T(1))
    expect(gap.out).not.toMatch(/\[pass\] metrics_threshold/)
    expect(gap.out).toMatch(/no data between/)
    writeFileSync(
      join(dir, '.phasegate/metrics/f.yaml'),
      snapshot('5m', [30, 35, 40, 45, 50, 55, 60])
    )
    const covered = await cli(dir, 'status', '--now', T(1))
    expect(covered.out).toMatch(/\[pass\] metrics_threshold/)
  })
})

describe('A12 kind: every login on the command line has the form policy logins have', () => {
  it('--approved-by and --operator refuse a non-login as a usage error', async () => {
    const dir = tempRepo({ 'policies/f.yaml': POLICY })
    expect((await cli(dir, 'init', '--now', T(0))).code).toBe(0)
    const approved = await cli(dir, 'tick', '--now', T(1), '--approved-by', 'bob,Test User')
    expect(approved.code).not.toBe(0)
    expect(approved.err).toMatch(/--approved-by "Test User" is not a GitHub login/)
    const operator = await cli(
      dir,
      'pause',
      '--reason',
      'x',
      '--operator',
      'eve\nPhasegate-Kind: advance'
    )
    expect(operator.code).not.toBe(0)
    expect(operator.err).toMatch(/--operator .* is not a GitHub login/)
  })
})
