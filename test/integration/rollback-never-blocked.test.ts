import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { Ajv2020 } from 'ajv/dist/2020.js'
import { describe, expect, it } from 'vitest'
import { parse } from 'yaml'
import { at, HEALTHY, SEED_POLICY_TEXT } from '../support/policies.js'
import { cli, sh, tempRepo, writeMetrics } from '../support/repo.js'
import { minuteSeries, rolloutAtCanary, tick } from '../support/rollouts.js'

// Issue 15, attack15b's A1, A2, A3, A5: nothing a snapshot, a policy spelling or a --now says
// may keep a rollback from landing, soften system_failure, or land an exposure raise inside a
// freeze window that is open on the clock.

const ROLLED_BACK = /decision: \W*ROLL\W*BACK\W* canary -> staging[\s\S]*committed/
const head = (dir: string) => sh(dir, 'git', 'rev-parse', 'HEAD')

describe('one metric written wrong does not stop another metric rolling back (A1)', () => {
  it('error_rate far past its trigger rolls back although response_time value and series disagree slightly', async () => {
    const dir = await rolloutAtCanary()
    const before = head(dir)
    writeMetrics(dir, {
      ...HEALTHY,
      error_rate: 0.5,
      response_time: { value: 800, step: '1m', series: minuteSeries(4, 5, 801) }
    })
    const run = await tick(dir, 5)
    expect(run.out, run.out + run.err).toMatch(ROLLED_BACK)
    expect(head(dir)).not.toBe(before)
  })

  // The other members of the kind: each was a whole-file refusal, so no trigger acted. Written on
  // user_satisfaction, which canary's gate reads, so that its located reason shows in the report.
  const members: Array<[string, Record<string, unknown>, RegExp]> = [
    [
      'a non-integer samples on another metric',
      { user_satisfaction: { value: 0.99, samples: 12.5 } },
      /user_satisfaction\.samples/
    ],
    [
      'an unknown key under another metric',
      { user_satisfaction: { value: 0.99, unit: 'ratio' } },
      /user_satisfaction/
    ],
    [
      "another metric's series out of order",
      {
        user_satisfaction: {
          value: 0.99,
          series: [
            [at(4.5).toISOString(), 0.99],
            [at(4).toISOString(), 0.99]
          ]
        }
      },
      /oldest first/
    ],
    ['another metric in words', { user_satisfaction: 'high' }, /user_satisfaction/]
  ]
  for (const [what, extra, reason] of members)
    it(`${what}: error_rate's rollback lands, the other metric is located no data`, async () => {
      const dir = await rolloutAtCanary()
      const before = head(dir)
      writeMetrics(dir, { ...HEALTHY, error_rate: 0.5, ...extra })
      const run = await tick(dir, 5)
      expect(run.out, run.out + run.err).toMatch(ROLLED_BACK)
      expect(head(dir)).not.toBe(before)
      expect(run.out).toMatch(/\.phasegate\/metrics\/production_deployment\.yaml:\d+:\d+: /)
      expect(run.out).toMatch(reason)
    })

  it('an as_of a minute ahead of the evaluation time (an exporter clock a little fast) is read', async () => {
    const dir = await rolloutAtCanary()
    const before = head(dir)
    writeMetrics(dir, { ...HEALTHY, error_rate: 0.5, as_of: at(5 + 1 / 60).toISOString() })
    const run = await tick(dir, 5)
    expect(run.out, run.out + run.err).toMatch(ROLLED_BACK)
    expect(head(dir)).not.toBe(before)
  })

  it('an unreadable file is no data for every metric, located, and commits nothing', async () => {
    const dir = await rolloutAtCanary()
    const before = head(dir)
    writeFileSync(
      join(dir, '.phasegate/metrics/production_deployment.yaml'),
      'error_rate: 0.5\nresponse_time: [800\n'
    )
    const run = await tick(dir, 5)
    expect(run.out).toMatch(/no data/i)
    expect(run.out).toMatch(/\.phasegate\/metrics\/production_deployment\.yaml:\d+:\d+: .*YAML/)
    expect(head(dir)).toBe(before)
  })
})

describe('system_failure is never softened, however it is spelled (A2, A3)', () => {
  const withTrigger = (entry: string) =>
    SEED_POLICY_TEXT.replace('    - system_failure\n', `    - ${entry}\n`)

  for (const entry of [
    '{ when: system_failure > 0, on_fire: observe }',
    '{ when: system_failure >= 1, on_fire: pause }',
    "{ when: 'system_failure != 0', on_fire: observe }"
  ])
    it(`\`${entry}\` is refused at its line`, async () => {
      const dir = tempRepo({ 'policies/production_deployment.yaml': withTrigger(entry) })
      const run = await cli(dir, 'validate')
      expect(run.code, run.out + run.err).toBe(1)
      expect(run.err).toMatch(/production_deployment\.yaml:\d+:\d+/)
      expect(run.err).toMatch(/system_failure/)
    })

  it('`{ when: system_failure > 0, on_fire: rollback }` stays valid', async () => {
    const dir = tempRepo({
      'policies/production_deployment.yaml': withTrigger(
        '{ when: system_failure > 0, on_fire: rollback }'
      )
    })
    const run = await cli(dir, 'validate')
    expect(run.code, run.out + run.err).toBe(0)
  })

  for (const entry of [
    '{ when: system_failure, for: 1h }',
    '{ when: system_failure > 0, for: 1h }'
  ])
    it(`\`${entry}\` (system_failure always acts at once) is refused at its line`, async () => {
      const dir = tempRepo({ 'policies/production_deployment.yaml': withTrigger(entry) })
      const run = await cli(dir, 'validate')
      expect(run.code, run.out + run.err).toBe(1)
      expect(run.err).toMatch(/production_deployment\.yaml:\d+:\d+/)
    })
})

describe('the JSON Schema refuses what validate refuses on system_failure (A2, A3)', () => {
  const schema = JSON.parse(
    readFileSync(join(import.meta.dirname, '../../schema/policy.schema.json'), 'utf8')
  ) as object
  const valid = new Ajv2020({ strict: false }).compile(schema)
  const withTrigger = (entry: string) =>
    parse(SEED_POLICY_TEXT.replace('    - system_failure\n', `    - ${entry}\n`)) as unknown
  for (const entry of [
    '{ when: system_failure > 0, on_fire: observe }',
    '{ when: "system_failure>=1", on_fire: pause }',
    '{ when: system_failure, for: 1h }',
    '{ when: system_failure > 0, for: 10m }'
  ])
    it(`\`${entry}\` is invalid`, () => expect(valid(withTrigger(entry))).toBe(false))
  for (const entry of [
    '{ when: system_failure > 0, on_fire: rollback }',
    '{ when: system_failures_total > 3, on_fire: observe }'
  ])
    it(`\`${entry}\` is valid`, () =>
      expect(valid(withTrigger(entry)), JSON.stringify(valid.errors)).toBe(true))
})

describe('a committing command never raises exposure inside a window open on the clock (A5)', () => {
  const day = (offset: number) =>
    new Date(Date.now() + offset * 86_400_000).toISOString().slice(0, 10)
  const frozen = () =>
    SEED_POLICY_TEXT.replace(
      'deployment:\n  phases:\n',
      `deployment:\n  freeze:\n    time_zone: UTC\n    windows:\n      - name: launch\n        dates: { from: ${day(0)}, to: ${day(1)} }\n  phases:\n`
    )

  it('tick --now <before the window> lands no advance while the window is open on the clock', async () => {
    const dir = tempRepo({ 'policies/production_deployment.yaml': frozen() })
    writeMetrics(dir, HEALTHY)
    expect((await cli(dir, 'init', '--now', `${day(-1)}T00:10:00Z`)).code).toBe(0)
    const now = await cli(dir, 'tick', '--approved-by', 'alice')
    expect(now.out).toContain('nothing lands as an advance inside a freeze window')
    const before = head(dir)
    const replay = await cli(dir, 'tick', '--approved-by', 'alice', '--now', `${day(-1)}T12:00:00Z`)
    expect(replay.out + replay.err).not.toContain('ADVANCE development -> staging')
    expect(replay.out).toContain('launch')
    expect(head(dir)).toBe(before)
  })

  it('resume --now <before the window> does not turn the kill switch on inside the window', async () => {
    const policy = frozen().replace(
      'manual_approval_required: false',
      'manual_approval_required: false\n  operators: [olga]'
    )
    const dir = tempRepo({ 'policies/production_deployment.yaml': policy })
    writeMetrics(dir, HEALTHY)
    expect((await cli(dir, 'init', '--now', `${day(-1)}T00:10:00Z`)).code).toBe(0)
    const as = (...args: string[]) => cli(dir, ...args, '--operator', 'olga')
    const off = await as(
      'rollback',
      '--emergency',
      '--reason',
      'incident',
      '--now',
      `${day(-1)}T01:00:00Z`
    )
    expect(off.code, off.out + off.err).toBe(0)
    expect((await as('resume', '--reason', 'fixed')).code).toBe(1)
    const before = head(dir)
    const replay = await as('resume', '--reason', 'fixed', '--now', `${day(-1)}T12:00:00Z`)
    expect(replay.code, replay.out).toBe(1)
    expect(head(dir)).toBe(before)
  })
})

describe('a pausing trigger that can never act is not accepted silently (A11)', () => {
  const validate = async (policyText: string) => {
    const dir = tempRepo({ 'policies/production_deployment.yaml': policyText })
    const run = await cli(dir, 'validate')
    return { code: run.code, text: run.out + run.err }
  }
  const withTriggers = (lines: string) =>
    SEED_POLICY_TEXT.replace('    - error_rate > 0.02\n', lines)

  it('`{ when: error_rate > 0.03, on_fire: pause }` beside `error_rate > 0.02` (which always wins) gets a notice at its line', async () => {
    const run = await validate(
      withTriggers('    - { when: error_rate > 0.03, on_fire: pause }\n    - error_rate > 0.02\n')
    )
    expect(run.text, run.text).toMatch(
      /production_deployment\.yaml:\d+:\d+.*"error_rate > 0\.03" \(on_fire: pause\) never acts/
    )
  })

  it('the same pause sustained for 10m beside an instant rollback is noticed too', async () => {
    const run = await validate(
      withTriggers(
        '    - { when: error_rate > 0.03, for: 10m, on_fire: pause }\n    - error_rate > 0.02\n'
      )
    )
    expect(run.text, run.text).toMatch(/never acts/)
  })

  for (const [what, lines] of <Array<[string, string]>>[
    [
      'pause at the lower bar, roll back at the higher',
      '    - { when: error_rate > 0.02, on_fire: pause }\n    - error_rate > 0.03\n'
    ],
    [
      'a rollback that must be sustained longer than the pause',
      '    - { when: error_rate > 0.03, on_fire: pause }\n    - { when: error_rate > 0.02, for: 30m }\n'
    ]
  ])
    it(`${what}: no notice`, async () => {
      const run = await validate(withTriggers(lines))
      expect(run.code, run.text).toBe(0)
      expect(run.text).not.toMatch(/never acts/)
    })

  it("a phase's rollback_threshold above the pause's lets the pause act there: no notice", async () => {
    const run = await validate(
      withTriggers(
        '    - { when: error_rate > 0.03, on_fire: pause }\n    - error_rate > 0.02\n'
      ).replace(
        'deployment:\n  phases:\n',
        'deployment:\n  phases:\n    canary:\n      rollback_threshold: { error_rate: 0.05 }\n'
      )
    )
    expect(run.text, run.text).not.toMatch(/never acts/)
  })
})

describe('a policy edit moving users onto another path waits for the freeze window (A10)', () => {
  // The weekend of 2026-03-07 as dates: a window never open on the clock the suite runs on.
  const frozen = SEED_POLICY_TEXT.replace(
    'deployment:\n  phases:\n',
    'deployment:\n  freeze:\n    time_zone: Europe/Berlin\n    windows:\n      - dates: { from: 2026-03-07, to: 2026-03-08 }\n  phases:\n'
  )
  const datafile = '.phasegate/state/production_deployment.datafile.json'
  const groups = (dir: string) =>
    (
      JSON.parse(readFileSync(join(dir, datafile), 'utf8')) as {
        experiments: Array<{
          groups: Array<{ name: string; weight: number; configuration: Record<string, unknown> }>
        }>
      }
    ).experiments[0]!.groups.map(g => `${g.name}:${g.weight}:${JSON.stringify(g.configuration)}`)
  async function edit(from: RegExp, to: string) {
    const dir = await rolloutAtCanary(frozen)
    const before = groups(dir)
    const text = readFileSync(join(dir, 'policies/production_deployment.yaml'), 'utf8')
    const edited = text.replace(from, to)
    expect(edited).not.toBe(text)
    writeFileSync(join(dir, 'policies/production_deployment.yaml'), edited)
    sh(dir, 'git', 'commit', '-qam', 'experiment edit')
    return { dir, before }
  }

  it("an experiment's weights raised toward treatment inside the window wait, then land after it", async () => {
    const { dir, before } = await edit(
      /control:\n( +)weight: 50([\s\S]*?)treatment:\n( +)weight: 50/,
      'control:\n$1weight: 10$2treatment:\n$3weight: 90'
    )
    const run = await tick(dir, 120) // Saturday in Berlin
    expect(run.code, run.out + run.err).toBe(0)
    expect(groups(dir), run.out).toEqual(before)
    await tick(dir, 170) // the Tuesday after
    expect(groups(dir).join()).toContain('treatment:90')
  })

  it('weight moved back into control lands at once, inside the window', async () => {
    const { dir } = await edit(
      /control:\n( +)weight: 50([\s\S]*?)treatment:\n( +)weight: 50/,
      'control:\n$1weight: 90$2treatment:\n$3weight: 10'
    )
    await tick(dir, 120)
    expect(groups(dir).join()).toContain('control:90')
  })
})

describe('a policy-edit raise does not land at an earlier --now inside a window open on the clock (A5 kind)', () => {
  it('tick --now <before the window> leaves user_percentage 1 -> 5 waiting', async () => {
    const day = (offset: number) =>
      new Date(Date.now() + offset * 86_400_000).toISOString().slice(0, 10)
    const dir = tempRepo({ 'policies/production_deployment.yaml': SEED_POLICY_TEXT })
    writeMetrics(dir, HEALTHY)
    const now = (hour: string) => ['--now', `${day(-3)}T${hour}:00:00Z`]
    expect((await cli(dir, 'init', ...now('00'))).code).toBe(0)
    await cli(dir, 'tick', '--approved-by', 'alice', ...now('01'))
    await cli(dir, 'tick', '--approved-by', 'alice', ...now('02')) // -> canary, 1%
    const datafile = () =>
      JSON.parse(
        readFileSync(join(dir, '.phasegate/state/production_deployment.datafile.json'), 'utf8')
      ) as { phase: string; user_percentage: number }
    expect(datafile()).toMatchObject({ phase: 'canary', user_percentage: 1 })
    const edited = SEED_POLICY_TEXT.replace(
      'deployment:\n  phases:\n    canary:\n      user_percentage: 1\n',
      `deployment:\n  freeze:\n    time_zone: UTC\n    windows:\n      - name: launch\n        dates: { from: ${day(0)}, to: ${day(1)} }\n  phases:\n    canary:\n      user_percentage: 5\n`
    )
    expect(edited).not.toBe(SEED_POLICY_TEXT)
    writeFileSync(join(dir, 'policies/production_deployment.yaml'), edited)
    sh(dir, 'git', 'commit', '-qam', 'canary to 5%, launch window')
    const run = await cli(dir, 'tick', '--approved-by', 'alice', '--now', `${day(-1)}T12:00:00Z`)
    expect(run.code, run.out + run.err).toBe(0)
    expect(datafile().user_percentage, run.out).toBe(1)
  })
})
