import { copyFileSync, mkdirSync, mkdtempSync, readFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { describe, expect, it } from 'vitest'
import type { State } from '../../../src/engine/types.js'
import { Feature, isInRollout } from '../../../src/sdk/index.js'
import { writeState } from '../../../src/state/file.js'
import { SEED_POLICY_PATH, seedPolicy } from '../../support/policies.js'

const policy = seedPolicy()
const users = Array.from({ length: 20_000 }, (_, i) => `user-${i}`)

function stateAt(phase: string, overrides: Partial<State> = {}): State {
  return {
    feature: policy.feature,
    phase,
    enteredAt: '2026-11-01T00:00:00Z',
    enabled: true,
    experiments: { dspy_vs_traditional: { status: 'running', startedAt: '2026-11-01T00:00:00Z' } },
    ...overrides
  }
}

describe('the SDK', () => {
  it('turns the feature on for the canary’s 1% of users, and only them', () => {
    const feature = new Feature(policy, stateAt('canary'))
    const on = users.filter(u => feature.isOn(u))
    expect(on.length / users.length).toBeGreaterThan(0.007)
    expect(on.length / users.length).toBeLessThan(0.013)
    expect(on.every(u => isInRollout(policy.feature, u, 1))).toBe(true)
    expect(feature.phase()).toMatchObject({ name: 'canary', enabled: true, userPercentage: 1 })
  })

  it('turns it off for everyone when the kill switch is off', () => {
    const feature = new Feature(policy, stateAt('full_production', { enabled: false }))
    expect(users.some(u => feature.isOn(u))).toBe(false)
    expect(feature.phase().enabled).toBe(false)
  })

  it('routes users in the rollout to a group and its configuration, others to the default', () => {
    const feature = new Feature(policy, stateAt('limited_production'))
    const routed = users.map(u => ({
      on: feature.isOn(u),
      group: feature.group('dspy_vs_traditional', u)
    }))
    expect(routed.every(r => (r.group !== null) === r.on)).toBe(true)
    const treatment = users.find(u => feature.group('dspy_vs_traditional', u) === 'treatment')!
    expect(feature.config('dspy_vs_traditional', treatment)).toEqual({ dspy_enabled: true })
    const outside = users.find(u => !feature.isOn(u))!
    expect(feature.config('dspy_vs_traditional', outside)).toBeNull()
  })

  it('stops assigning when the experiment is stopped', () => {
    const stopped = stateAt('full_production', {
      experiments: { dspy_vs_traditional: { status: 'stopped' } }
    })
    const feature = new Feature(policy, stopped)
    expect(users.slice(0, 100).map(u => feature.group('dspy_vs_traditional', u))).toEqual(
      new Array(100).fill(null)
    )
  })

  it('says which experiments exist when asked for another', () => {
    const feature = new Feature(policy, stateAt('canary'))
    expect(() => feature.group('nope', 'u1')).toThrow(
      expect.objectContaining({
        message: "feature production_deployment has no experiment named 'nope'",
        hint: 'its experiments: dspy_vs_traditional'
      })
    )
  })

  it('loads the policy and the state file from a repository', () => {
    const root = mkdtempSync(join(tmpdir(), 'phasegate-sdk-'))
    mkdirSync(join(root, 'policies'))
    copyFileSync(SEED_POLICY_PATH, join(root, 'policies', 'production_deployment.yaml'))
    const statePath = join(root, policy.statePath)
    mkdirSync(dirname(statePath), { recursive: true })
    writeState(statePath, stateAt('full_production'))
    const feature = Feature.load({
      policy: join(root, 'policies', 'production_deployment.yaml'),
      root
    })
    expect(feature.phase().name).toBe('full_production')
    expect(feature.isOn('anyone')).toBe(true)
    expect(feature.group('dspy_vs_traditional', 'user-2')).toBe('treatment')
  })

  it('resolves a relative policy path against root, wherever the process stands', () => {
    const root = mkdtempSync(join(tmpdir(), 'phasegate-sdk-'))
    mkdirSync(join(root, 'rollouts'))
    copyFileSync(SEED_POLICY_PATH, join(root, 'rollouts', 'production_deployment.yaml'))
    const statePath = join(root, policy.statePath)
    mkdirSync(dirname(statePath), { recursive: true })
    writeState(statePath, stateAt('canary'))
    // The documented call, from a process whose working directory is elsewhere.
    const feature = Feature.load({ policy: 'rollouts/production_deployment.yaml', root })
    expect(feature.phase().name).toBe('canary')
  })

  it('is off before the rollout has a state file', () => {
    const root = mkdtempSync(join(tmpdir(), 'phasegate-sdk-'))
    const feature = Feature.load({ policy: SEED_POLICY_PATH.pathname, root })
    expect(feature.state).toBeNull()
    expect(feature.isOn('anyone')).toBe(false)
  })
})

describe('phasegate/sdk stays dependency-light', () => {
  it('imports nothing from @actions, @octokit or the git adapter, however deep', () => {
    const seen = new Set<string>()
    const packages = new Set<string>()
    const visit = (file: string): void => {
      if (seen.has(file)) return
      seen.add(file)
      const source = readFileSync(file, 'utf8')
      for (const [, specifier] of source.matchAll(/^(?:import|export)[^'"]*from '([^']+)'/gm)) {
        if (specifier!.startsWith('.'))
          visit(resolve(dirname(file), specifier!.replace(/\.js$/, '.ts')))
        else packages.add(specifier!)
      }
    }
    visit(new URL('../../../src/sdk/index.ts', import.meta.url).pathname)
    expect([...seen].some(f => f.includes('/src/state/'))).toBe(true)
    expect([...packages].filter(p => /^@actions|^@octokit/.test(p))).toEqual([])
    expect([...seen].filter(f => /\/src\/(git|github|commands)\//.test(f))).toEqual([])
  })
})
