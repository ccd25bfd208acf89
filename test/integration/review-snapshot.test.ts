// The review's findings about the metrics snapshot and `status` (issue 12; /work/notes/review.md
// F6, F10, F11, F12, F15, F15b), copied from branch review's review-findings.test.ts, with tests
// for the other members of each kind.
import { mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { cli, tempRepo } from '../support/repo.js'

const NOW = '2026-03-01T00:00:00Z'
const LATER = '2026-03-01T01:00:00Z'

function ladder(feature: string, a: string, extra = ''): string {
  return [
    `feature: ${feature}`,
    'deployment:',
    '  order: [a, b]',
    '  phases:',
    `    a: ${a}`,
    '    b: {user_percentage: 100}',
    extra
  ].join('\n')
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- a test reads the JSON report loosely
type Loose = any

function statusJson(run: { out: string }): Array<Record<string, Loose>> {
  return JSON.parse(run.out) as Array<Record<string, Loose>>
}

describe('F6: one feature’s malformed snapshot hides no other feature', () => {
  const policy = (f: string): string =>
    ladder(f, '{user_percentage: 5}', 'rollback:\n  automatic_triggers:\n    - error_rate > 0.02\n')
  async function twoFeatures(): Promise<string> {
    const dir = tempRepo({ 'policies/fa.yaml': policy('fa'), 'policies/fb.yaml': policy('fb') })
    expect((await cli(dir, 'init', '--now', NOW)).code).toBe(0)
    mkdirSync(join(dir, '.phasegate/metrics'), { recursive: true })
    writeFileSync(join(dir, '.phasegate/metrics/fa.yaml'), 'error_rate: "0.5"\n')
    writeFileSync(join(dir, '.phasegate/metrics/fb.yaml'), 'error_rate: 0.5\n')
    return dir
  }

  // Issue 15 (A1): a metric written wrong is no data for that metric alone, located in the
  // report, never an error that stops the feature's evaluation (and with it, its rollbacks).
  it('status (text) shows every feature, the metric written wrong as no data at its line', async () => {
    const dir = await twoFeatures()
    const run = await cli(dir, 'status', '--now', LATER)
    expect(run.out).toMatch(/^fb: /m)
    expect(run.out).toMatch(/FIRED/)
    expect(run.out).toMatch(/^fa: /m)
    expect(run.out).not.toMatch(/^fa: ERROR/m)
    expect(run.out).toMatch(/fa\.yaml:1:13: error_rate: expected a number/)
  })

  it('status --json has a row for every feature, the metric written wrong null with its reason', async () => {
    const dir = await twoFeatures()
    const run = await cli(dir, 'status', '--json', '--now', LATER)
    const rows = statusJson(run)
    const fb = rows.find(r => r.feature === 'fb')
    expect(JSON.stringify(fb?.decision?.triggers)).toMatch(/"fired"/)
    const fa = rows.find(r => r.feature === 'fa')
    expect(fa?.error).toBeUndefined()
    expect(JSON.stringify(fa?.decision?.triggers)).toMatch(/fa\.yaml:1:13/)
  })

  it('tick --dry-run shows every feature too', async () => {
    const dir = await twoFeatures()
    const run = await cli(dir, 'tick', '--dry-run', '--now', LATER)
    expect(run.out).toMatch(/^fb: /m)
    expect(run.out).toMatch(/fa\.yaml:1:13/)
  })
})

describe('F6 kind: validate checks every policy when one is broken', () => {
  const good = ladder('fb', '{user_percentage: 5}')
  const bad = ladder('fa', '{user_percentage: five}')
  it('text: ok for the good one, the broken one located, exit 1', async () => {
    const dir = tempRepo({ 'policies/fa.yaml': bad, 'policies/fb.yaml': good })
    const run = await cli(dir, 'validate')
    expect(run.code).toBe(1)
    expect(run.out).toMatch(/^ok {2}policies\/fb\.yaml: feature fb/m)
    expect(run.out).toMatch(/^ERROR {2}policies\/fa\.yaml/m)
    expect(run.err).toMatch(/policies\/fa\.yaml:5:/)
  })
  it('--json: a row per policy, the broken one with its error', async () => {
    const dir = tempRepo({ 'policies/fa.yaml': bad, 'policies/fb.yaml': good })
    const run = await cli(dir, 'validate', '--json')
    expect(run.code).toBe(1)
    const rows = statusJson(run)
    expect(rows.map(r => r.policy)).toEqual(['policies/fa.yaml', 'policies/fb.yaml'])
    expect(rows[0]!.error.location).toMatchObject({ line: 5 })
    expect(rows[1]!.feature).toBe('fb')
  })
})

describe('F6 kind: list shows every policy when one is broken', () => {
  const files = {
    'policies/fa.yaml': ladder('fa', '{user_percentage: five}'),
    'policies/fb.yaml': ladder('fb', '{user_percentage: 5}')
  }
  it('text: the good one listed, the broken one an ERROR row, exit 1', async () => {
    const run = await cli(tempRepo(files), 'list')
    expect(run.code).toBe(1)
    expect(run.out).toMatch(/^fb {2}not started {2}off {2}policies\/fb\.yaml/m)
    expect(run.out).toMatch(/^ERROR {2}policies\/fa\.yaml/m)
    expect(run.err).toMatch(/policies\/fa\.yaml:5:/)
  })
  it('--json: the matrix names the broken file too, so its own job fails and the others run', async () => {
    const run = await cli(tempRepo(files), 'list', '--json')
    expect(run.code).toBe(0)
    expect(run.err).toMatch(/policies\/fa\.yaml:5:/)
    const matrix = JSON.parse(run.out) as { include: Array<Record<string, string>> }
    expect(matrix.include.map(e => e.policies)).toEqual(['policies/fa.yaml', 'policies/fb.yaml'])
  })
})

describe('F10: snapshot and policy messages a person can act on', () => {
  it('a snapshot value of true does not offer text', async () => {
    const dir = tempRepo({
      'policies/f.yaml': ladder(
        'f',
        '{user_percentage: 5, success_criteria: {error_rate: "< 0.01"}}'
      )
    })
    expect((await cli(dir, 'init', '--now', NOW)).code).toBe(0)
    writeFileSync(join(dir, 'snap.yaml'), 'error_rate: true\n')
    const run = await cli(dir, 'status', '--now', LATER, '--metrics', 'snap.yaml')
    // No data for error_rate (issue 15, A1), with the reason at its line.
    const line = run.out.split('\n').find(l => l.includes('snap.yaml:1:13')) ?? run.out
    expect(line).toMatch(/expected a number, null or a mapping/)
    expect(line).not.toMatch(/text/)
  })

  it('an experiment or group name with "/" says what a name may hold, at the name', async () => {
    for (const [text, line] of [
      ['experiments:\n  a/b:\n    groups: {control: {weight: 50}, treatment: {weight: 50}}\n', 8],
      ['experiments:\n  ab:\n    groups: {con/trol: {weight: 50}, treatment: {weight: 50}}\n', 9]
    ] as const) {
      const dir = tempRepo({ 'policies/f.yaml': ladder('f', '{user_percentage: 5}', text) })
      const run = await cli(dir, 'validate')
      expect(run.code).toBe(1)
      expect(run.err).not.toMatch(/Invalid key/)
      expect(run.err).toMatch(/names use letters/)
      expect(run.err).toMatch(new RegExp(`f\\.yaml:${line}:`))
    }
  })
})

describe('F11, F12: series in a file snapshot', () => {
  const policy = ladder(
    'f',
    '{user_percentage: 5}',
    'rollback:\n  automatic_triggers:\n    - {when: error_rate > 0.02, for: 10m}\n'
  )
  async function triggerRun(series: string): Promise<{ line: string; code: number; err: string }> {
    const dir = tempRepo({ 'policies/f.yaml': policy })
    expect((await cli(dir, 'init', '--now', '2026-03-02T08:00:00Z')).code).toBe(0)
    writeFileSync(join(dir, 'snap.yaml'), `error_rate:\n  value: 0.5\n  series:\n${series}`)
    const run = await cli(dir, 'status', '--now', '2026-03-02T09:10:00Z', '--metrics', 'snap.yaml')
    return {
      line: run.out.split('\n').find(l => l.includes('error_rate > 0.02')) ?? run.err,
      code: run.code,
      err: run.err
    }
  }

  it('F11 a series in order fires; out of order it is refused at the offending point', async () => {
    const sorted = await triggerRun(
      '    - ["2026-03-02T09:00:00Z", 0.5]\n    - ["2026-03-02T09:05:00Z", 0.5]\n    - ["2026-03-02T09:10:00Z", 0.5]\n'
    )
    expect(sorted.line).toMatch(/FIRED/)
    const unsorted = await triggerRun(
      '    - ["2026-03-02T09:10:00Z", 0.5]\n    - ["2026-03-02T09:00:00Z", 0.5]\n    - ["2026-03-02T09:05:00Z", 0.5]\n'
    )
    // No data for error_rate alone (issue 15, A1): never FIRED on points read out of order.
    expect(unsorted.line).not.toMatch(/FIRED/)
    expect(unsorted.line).toMatch(/snap\.yaml:5:7: .*oldest first/)
  })

  it('F11 two points at one instant (also written once as epoch seconds) are refused', async () => {
    const run = await triggerRun(
      '    - ["2026-03-02T09:00:00Z", 0.5]\n    - [1772442000, 0.5]\n    - ["2026-03-02T09:10:00Z", 0.5]\n'
    )
    expect(run.line).not.toMatch(/FIRED/)
    expect(run.line).toMatch(/snap\.yaml:5:7: .*(same time|oldest first)/)
  })

  it('F12 an impossible point is reported as written, with why it was discarded', async () => {
    const { line } = await triggerRun(
      '    - ["2026-03-02T09:00:00Z", 0.5]\n    - ["2026-03-02T09:05:00Z", -3]\n    - ["2026-03-02T09:10:00Z", 0.5]\n'
    )
    expect(line).not.toMatch(/NaN/)
    expect(line).toMatch(/-3 .*(discarded|cannot be)/)
  })

  it('F12 a NaN point is reported as NaN, discarded', async () => {
    const { line } = await triggerRun(
      '    - ["2026-03-02T09:00:00Z", 0.5]\n    - ["2026-03-02T09:05:00Z", .nan]\n    - ["2026-03-02T09:10:00Z", 0.5]\n'
    )
    expect(line).toMatch(/NaN.*discarded/)
  })
})

describe("F15: a snapshot's as_of", () => {
  async function afterRollback(): Promise<string> {
    const dir = tempRepo({
      'policies/f.yaml': [
        'feature: f',
        'deployment:',
        '  order: [a, b, c]',
        '  phases:',
        '    a: {user_percentage: 5}',
        '    b: {user_percentage: 50}',
        '    c: {user_percentage: 100}',
        'rollback:',
        '  automatic_triggers:',
        '    - error_rate > 0.02',
        ''
      ].join('\n')
    })
    await cli(dir, 'init', '--now', '2026-03-02T07:00:00Z')
    await cli(dir, 'tick', '--now', '2026-03-02T07:30:00Z', '--approved-by', 'bob')
    await cli(dir, 'tick', '--now', '2026-03-02T08:00:00Z', '--approved-by', 'bob')
    writeFileSync(join(dir, 'snap.yaml'), 'error_rate: 0.5\n')
    const rollback = await cli(
      dir,
      'tick',
      '--now',
      '2026-03-02T09:00:00Z',
      '--metrics',
      'snap.yaml'
    )
    expect(rollback.code, rollback.err).toBe(0)
    return dir
  }

  it('F15 as_of without an offset, on a day that does not exist, or not a time is refused at its line', async () => {
    const dir = await afterRollback()
    for (const asOf of [
      '"2026-03-02T09:02:00"',
      '2026-03-02T09:02:00',
      '"2026-02-30T09:02:00Z"',
      '"12"',
      'true'
    ]) {
      writeFileSync(join(dir, 'snap.yaml'), `as_of: ${asOf}\nerror_rate: 0.5\n`)
      const run = await cli(
        dir,
        'status',
        '--now',
        '2026-03-02T09:03:00Z',
        '--metrics',
        'snap.yaml'
      )
      // The whole file is no data (issue 15, A1): nothing fires, the reason is at as_of's line.
      expect(run.out, `as_of ${asOf}: ${run.out}`).not.toMatch(/FIRED/)
      expect(run.out).toMatch(/snap\.yaml:1:8: as_of/)
    }
  })

  it('F15 as_of as epoch seconds means the same instant as the RFC 3339 form', async () => {
    const dir = await afterRollback()
    const decisions: string[] = []
    for (const asOf of ['1772442120', '"2026-03-02T09:02:00Z"', '"2026-03-02T10:02:00+01:00"']) {
      writeFileSync(join(dir, 'snap.yaml'), `as_of: ${asOf}\nerror_rate: 0.5\n`)
      const run = await cli(
        dir,
        'status',
        '--json',
        '--now',
        '2026-03-02T09:03:00Z',
        '--metrics',
        'snap.yaml'
      )
      expect(run.code, run.err).toBe(0)
      decisions.push(JSON.stringify(statusJson(run)[0]!.decision.triggers))
    }
    expect(new Set(decisions).size).toBe(1)
  })

  it('F15b a snapshot whose as_of is well after --now is no data, located at its line', async () => {
    const dir = await afterRollback()
    writeFileSync(join(dir, 'snap.yaml'), 'as_of: "2026-03-02T12:00:00Z"\nerror_rate: 0.5\n')
    const run = await cli(
      dir,
      'status',
      '--json',
      '--now',
      '2026-03-02T09:03:00Z',
      '--metrics',
      'snap.yaml'
    )
    expect(run.out).not.toMatch(/"fired": true/)
    expect(run.out).toMatch(/snap\.yaml:1:8: as_of: the snapshot says it was taken at [^"]*after/)
  })
})
