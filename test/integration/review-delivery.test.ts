// The reviewer's findings on issue 14 (delivery: the same answer everywhere), copied from branch
// review (test/integration/review-findings.test.ts: F2, F2b, F2c, F4, F5, F7, F9); each failed on
// the code before the fixes (notes: /work/notes/deliv.md).
import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { FlagdCore } from '@openfeature/flagd-core'
import { describe, expect, it } from 'vitest'
import { cli, sh, tempRepo } from '../support/repo.js'

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

function commitAll(dir: string, message: string): void {
  sh(dir, 'git', 'add', '-A')
  sh(dir, 'git', 'commit', '-q', '-m', message)
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- a test reads the JSON report loosely
type Loose = any

function statusJson(run: { out: string }): Array<Record<string, Loose>> {
  return JSON.parse(run.out) as Array<Record<string, Loose>>
}

describe('review findings: issue 14 (the same answer everywhere)', () => {
  it('F2 a committed policy change (phase turned off) reaches the datafile, or is refused', async () => {
    const dir = tempRepo({ 'policies/f.yaml': ladder('f', '{user_percentage: 50}') })
    expect((await cli(dir, 'init', '--now', NOW)).code).toBe(0)
    writeFileSync(
      join(dir, 'policies/f.yaml'),
      ladder('f', '{user_percentage: 50, enabled: false}')
    )
    commitAll(dir, 'turn phase a off')
    // Before the tick: status and validate name the stale datafile, its reason and the fix.
    const before = statusJson(await cli(dir, 'status', '--json', '--now', LATER))[0]!
    expect(before.datafile).toMatchObject({
      path: '.phasegate/state/f.datafile.json',
      reason: expect.stringMatching(
        /says enabled: true, user_percentage: 50 where the policy and state say enabled: false, user_percentage: 0/
      )
    })
    const stale = await cli(dir, 'validate')
    expect(stale.code).toBe(1)
    expect(stale.err).toMatch(
      /^phasegate: \.phasegate\/state\/f\.datafile\.json: the committed datafile says enabled: true.*\(hint: run `phasegate tick`/
    )
    const transitionsBefore = (await cli(dir, 'history', '--json')).out
    const tick = await cli(dir, 'tick', '--now', LATER) // a hold: nothing rewrites the datafile today
    expect(tick.code).toBe(0)
    expect(tick.out).toMatch(
      /refreshed \.phasegate\/state\/f\.datafile\.json in [0-9a-f]{10} \(not a transition\)/
    )
    // The refresh is no transition: the audit trail is unchanged, and validate is clean again.
    expect((await cli(dir, 'history', '--json')).out).toBe(transitionsBefore)
    expect((await cli(dir, 'validate')).code).toBe(0)
    // A second tick finds nothing to refresh.
    const again = await cli(dir, 'tick', '--now', LATER)
    expect(again.out).not.toMatch(/refreshed/)
    const status = statusJson(await cli(dir, 'status', '--json', '--now', LATER))[0]!
    expect(status.exposure.enabled).toBe(false)
    const datafile = JSON.parse(readFileSync(join(dir, '.phasegate/state/f.datafile.json'), 'utf8'))
    // Today the datafile an app polls still says enabled: true at 50% while status, the SDK and
    // `phasegate export` say off.
    expect(datafile.enabled).toBe(status.exposure.enabled)
  })

  it('F2b a committed user_percentage change reaches the datafile', async () => {
    const dir = tempRepo({ 'policies/f.yaml': ladder('f', '{user_percentage: 1}') })
    expect((await cli(dir, 'init', '--now', NOW)).code).toBe(0)
    writeFileSync(join(dir, 'policies/f.yaml'), ladder('f', '{user_percentage: 5}'))
    commitAll(dir, 'a to 5%')
    await cli(dir, 'tick', '--now', LATER)
    const status = statusJson(await cli(dir, 'status', '--json', '--now', LATER))[0]!
    const datafile = JSON.parse(readFileSync(join(dir, '.phasegate/state/f.datafile.json'), 'utf8'))
    expect(datafile.user_percentage).toBe(status.userPercentage)
  })

  it('F2c a committed datafile that disagrees with the state is reported (kill switch off, datafile on)', async () => {
    const dir = tempRepo({ 'policies/f.yaml': ladder('f', '{user_percentage: 50}') })
    expect((await cli(dir, 'init', '--now', NOW)).code).toBe(0)
    expect((await cli(dir, 'rollback', '--emergency', '--reason', 'x', '--now', LATER)).code).toBe(
      0
    )
    const path = join(dir, '.phasegate/state/f.datafile.json')
    const datafile = JSON.parse(readFileSync(path, 'utf8'))
    expect(datafile.enabled).toBe(false)
    writeFileSync(
      path,
      JSON.stringify({ ...datafile, enabled: true, user_percentage: 100 }, null, 2) + '\n'
    )
    commitAll(dir, 'hand edit: feature on again')
    // Status says off; every application polling the datafile (provider, flagd) serves it on to
    // everyone. validate says "ok" today.
    const validate = await cli(dir, 'validate')
    expect(validate.code).not.toBe(0)
    expect(validate.err).toMatch(
      /\.phasegate\/state\/f\.datafile\.json: the committed datafile says enabled: true, user_percentage: 100 where the policy and state say enabled: false, user_percentage: 0/
    )
    const status = statusJson(await cli(dir, 'status', '--json', '--now', LATER))[0]!
    expect(status.datafile.path).toBe('.phasegate/state/f.datafile.json')
    const text = await cli(dir, 'status', '--now', LATER)
    expect(text.out).toMatch(
      /DATAFILE STALE: \.phasegate\/state\/f\.datafile\.json: the committed datafile says enabled: true/
    )
    // Garbage is reported as such, not read.
    writeFileSync(path, '{"enabled": tru')
    commitAll(dir, 'hand edit: broken')
    expect((await cli(dir, 'validate')).err).toMatch(
      /f\.datafile\.json: the committed datafile is not JSON/
    )
    // The tick puts it back: off, as the state says.
    expect((await cli(dir, 'tick', '--now', LATER)).code).toBe(0)
    expect(JSON.parse(readFileSync(path, 'utf8'))).toMatchObject({
      enabled: false,
      user_percentage: 0
    })
  })

  it('F4 a lost state file: status, validate and the datafile agree', async () => {
    const dir = tempRepo({ 'policies/f.yaml': ladder('f', '{user_percentage: 50}') })
    expect((await cli(dir, 'init', '--now', NOW)).code).toBe(0)
    sh(dir, 'git', 'rm', '-q', '.phasegate/state/f.yaml')
    commitAll(dir, 'lose the state file')
    const status = statusJson(await cli(dir, 'status', '--json', '--now', LATER))[0]!
    expect(status.exposure.enabled).toBe(false)
    // Today: status says phase "a" (and started) while its exposure says phase "a" off, validate
    // says "not started" (the code calls it lost), and the committed datafile an application
    // polls still says enabled: true.
    const validate = await cli(dir, 'validate')
    expect(validate.out + validate.err).not.toMatch(/not started/)
    // Changed from the review: no commit can change the datafile in the person's deleting commit;
    // every route says "lost" at once, and the next tick rewrites what applications read to off.
    expect(validate.code).toBe(1)
    expect(validate.err).toMatch(
      /\.phasegate\/state\/f\.yaml: the state file of "f".*missing.*git revert/
    )
    expect(status.lost.phase).toBe('a')
    expect(status.exposure.off).toBe('state file lost')
    const exported = await cli(dir, 'export')
    expect(JSON.parse(exported.out).features.f.enabled).toBe(false)
    expect(exported.err).toMatch(/warning: .*state file of "f".*missing/)
    const tick = await cli(dir, 'tick', '--now', LATER)
    expect(tick.code).not.toBe(0) // a lost rollout stays an error of the run
    const datafile = JSON.parse(readFileSync(join(dir, '.phasegate/state/f.datafile.json'), 'utf8'))
    expect(datafile.enabled).toBe(false)
    expect(datafile.phase).toBe('a')
    expect(datafile.transition).toBeNull()
    expect(sh(dir, 'git', 'log', '-1', '--format=%B')).toMatch(
      /refresh \.phasegate\/state\/f\.datafile\.json[\s\S]*Phasegate-Datafile-Refresh: f/
    )
    // Once restored (the deleting commit reverted), the next tick turns the datafile back on.
    sh(dir, 'git', 'revert', '--no-edit', 'HEAD~1')
    expect((await cli(dir, 'tick', '--now', LATER)).code).toBe(0)
    const restored = JSON.parse(readFileSync(join(dir, '.phasegate/state/f.datafile.json'), 'utf8'))
    expect(restored).toMatchObject({ enabled: true, user_percentage: 50, phase: 'a' })
    expect((await cli(dir, 'validate')).code).toBe(0)
  })

  it('F5 flagd answers a request without a targeting key as the provider does (not in the rollout)', async () => {
    const dir = tempRepo({
      'policies/pay.yaml': ladder(
        'pay',
        '{user_percentage: 50}',
        'experiments:\n  e:\n    enabled: true\n    groups:\n      c: {weight: 50}\n      t: {weight: 50}\n'
      )
    })
    expect((await cli(dir, 'init', '--now', NOW)).code).toBe(0)
    const run = await cli(dir, 'export', '--format', 'flagd')
    const core = new FlagdCore()
    core.setConfigurations(run.out)
    // The provider answers TARGETING_KEY_MISSING and the default; flagd today puts every keyless
    // request in one bucket ("rollout:pay:"), which for this salt is inside: 100% of anonymous
    // traffic gets a 50% feature, and group "t".
    expect(core.resolveBooleanEvaluation('pay', false, {}).value).toBe(false)
    expect(core.resolveStringEvaluation('pay/e', 'dflt', {}).value).toBe('dflt')
    expect(core.resolveObjectEvaluation('pay/e/configuration', { d: 1 }, {}).value).toEqual({
      d: 1
    })
    // Keyed requests are still bucketed (both answers occur), and an empty key is a key, as it
    // is to the provider.
    const answers = new Set(
      Array.from(
        { length: 200 },
        (_, i) => core.resolveBooleanEvaluation('pay', false, { targetingKey: `u${i}` }).value
      )
    )
    expect(answers).toEqual(new Set([true, false]))
    expect(core.resolveBooleanEvaluation('pay', true, { targetingKey: '' }).reason).toBe(
      'TARGETING_MATCH'
    )
  })

  it('F5 at 100% too, a keyless request gets off, not the feature', async () => {
    const dir = tempRepo({
      'policies/pay.yaml': [
        'feature: pay',
        'deployment:',
        '  order: [a, b]',
        '  phases:',
        '    a: {user_percentage: 100}',
        '    b: {user_percentage: 100}',
        'experiments:\n  e:\n    enabled: true\n    groups:\n      c: {weight: 50}\n      t: {weight: 50}\n'
      ].join('\n')
    })
    expect((await cli(dir, 'init', '--now', NOW)).code).toBe(0)
    const core = new FlagdCore()
    core.setConfigurations((await cli(dir, 'export', '--format', 'flagd')).out)
    expect(core.resolveBooleanEvaluation('pay', true, {}).value).toBe(false)
    expect(core.resolveStringEvaluation('pay/e', 'dflt', {}).value).toBe('dflt')
    expect(core.resolveBooleanEvaluation('pay', false, { targetingKey: 'someone' }).value).toBe(
      true
    )
  })

  it('F7 export names the same transition commit as the committed datafile', async () => {
    const dir = tempRepo({ 'policies/f.yaml': ladder('f', '{user_percentage: 50}') })
    expect((await cli(dir, 'init', '--now', NOW)).code).toBe(0)
    // A person deletes and restores the state file (or a squash merge lands the transition).
    sh(dir, 'git', 'rm', '-q', '.phasegate/state/f.yaml')
    commitAll(dir, 'oops')
    sh(dir, 'git', 'revert', '--no-edit', 'HEAD')
    const committed = JSON.parse(
      readFileSync(join(dir, '.phasegate/state/f.datafile.json'), 'utf8')
    )
    const exported = JSON.parse((await cli(dir, 'export')).out).features.f
    expect(exported.transition.made_on).toBe(committed.transition.made_on)
  })

  it('F9 a percentage finer than one bucket means the same in flagd and the SDK', async () => {
    const dir = tempRepo({ 'policies/f.yaml': ladder('f', '{user_percentage: 0.004}') })
    const validate = await cli(dir, 'validate')
    // Refused at its line (the reviewer allowed either; refusing leaves no silent misread).
    expect(validate.code).toBe(1)
    expect(validate.err).toMatch(
      /policies\/f\.yaml:5:\d+: .*user_percentage is finer than one bucket \(0\.01% of users\).*hint: write a multiple of 0\.01/
    )
    if (validate.code !== 0) return
    expect((await cli(dir, 'init', '--now', NOW)).code).toBe(0)
    const flags = JSON.parse((await cli(dir, 'export', '--format', 'flagd')).out)
    // The SDK admits bucket 0 (0 < 0.4: 1 bucket of 10,000); flagd's "on" weight rounds to 0.
    const on = flags.flags.f.targeting.fractional.find((v: unknown[]) => v[0] === 'on')
    expect(on?.[1]).toBe(1)
  })

  it('F9 kind: an experiment weight finer than a bucket or flagd can carry is refused at its line', async () => {
    const tiny = ladder(
      'f',
      '{user_percentage: 50}',
      'experiments:\n  e:\n    groups:\n      c: {weight: 99999}\n      t: {weight: 1}\n'
    )
    const refused = await cli(tempRepo({ 'policies/f.yaml': tiny }), 'validate')
    expect(refused.code).toBe(1)
    expect(refused.err).toMatch(
      /policies\/f\.yaml:11:\d+: .*group t gets 0\.0010% of users, less than one bucket/
    )
    const fine = ladder(
      'f',
      '{user_percentage: 0.07}',
      'experiments:\n  e:\n    groups:\n      c: {weight: 0.3333333}\n      t: {weight: 0.6666667}\n'
    )
    const decimals = await cli(tempRepo({ 'policies/f.yaml': fine }), 'validate')
    expect(decimals.err).toMatch(
      /policies\/f\.yaml:10:\d+: .*weight 0\.3333333 has more than six decimals/
    )
    const ok = ladder(
      'f',
      '{user_percentage: 0.07}',
      'experiments:\n  e:\n    groups:\n      c: {weight: 0.333333}\n      t: {weight: 0.666667}\n'
    )
    expect((await cli(tempRepo({ 'policies/f.yaml': ok }), 'validate')).code).toBe(0)
  })
})
