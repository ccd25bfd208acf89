import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { exposureOf } from '../../../src/engine/exposure.js'
import {
  datafilePathOf,
  featureDatafile,
  renderDatafile,
  type FeatureDatafile
} from '../../../src/export/datafile.js'
import { datafileDrift } from '../../../src/rollout/datafile.js'
import { currentState, type Rollout } from '../../../src/rollout/load.js'
import { seedPolicy, state } from '../../support/policies.js'

const policy = seedPolicy()

/** A rollout in a fresh directory whose committed datafile is `text` (absent: undefined). */
function rolloutWith(text: string | undefined, over: Partial<Rollout> = {}): Rollout {
  const root = mkdtempSync(join(tmpdir(), 'phasegate-drift-'))
  if (text !== undefined) {
    const file = join(root, datafilePathOf(policy))
    mkdirSync(dirname(file), { recursive: true })
    writeFileSync(file, text)
  }
  return { root, policyFile: join(root, 'p.yaml'), policy, state: state(policy, 'canary'), ...over }
}

const right = featureDatafile(policy, state(policy, 'canary'), 'a'.repeat(40))
const as = (edit: Partial<FeatureDatafile>) => renderDatafile({ ...right, ...edit })

describe('a committed datafile against what its rollout exposes', () => {
  it('agrees whatever commit it says its transition was made on (a file cannot know)', () => {
    expect(datafileDrift(rolloutWith(renderDatafile(right)))).toBeNull()
    const other = { ...right, transition: { ...right.transition!, made_on: 'b'.repeat(40) } }
    expect(datafileDrift(rolloutWith(renderDatafile(other)))).toBeNull()
  })

  it('names each differing field with both values, at the datafile, with the fix', () => {
    const drift = datafileDrift(rolloutWith(as({ enabled: false, phase: 'staging' })))
    expect(drift).toEqual({
      path: '.phasegate/state/production_deployment.datafile.json',
      reason:
        'says phase: "staging", enabled: false where the policy and state say phase: "canary", enabled: true',
      fix: 'phasegate tick'
    })
    const groups = datafileDrift(rolloutWith(as({ experiments: [] })))
    expect(groups?.reason).toBe('differs in experiments from what the policy and state say')
    const transition = datafileDrift(
      rolloutWith(as({ transition: { ...right.transition!, kind: 'advance' } }))
    )
    expect(transition?.reason).toBe('differs in transition from what the policy and state say')
  })

  it('reports a file that is not JSON or not a datafile, without reading it', () => {
    expect(datafileDrift(rolloutWith('{"enabled": tru'))?.reason).toMatch(/^is not JSON/)
    expect(datafileDrift(rolloutWith('{"enabled": true}\n'))?.reason).toMatch(
      /^is not a phasegate datafile \(/
    )
  })

  it('an absent datafile is no drift (the next transition writes it)', () => {
    expect(datafileDrift(rolloutWith(undefined))).toBeNull()
    expect(datafileDrift(rolloutWith(undefined, { state: null }))).toBeNull()
  })

  it('a lost rollout must be off: an on datafile drifts, any off one will do', () => {
    const lost = { state: null, lost: { sha: 'c'.repeat(40), phase: 'canary' } }
    expect(datafileDrift(rolloutWith(renderDatafile(right), lost))?.reason).toMatch(
      /says enabled: true, user_percentage: 1 where the policy and state say enabled: false, user_percentage: 0/
    )
    expect(datafileDrift(rolloutWith(as({ enabled: false }), lost))).toBeNull()
  })

  it('a lost rollout exposes nothing, and says why, at the phase it was lost in', () => {
    const rollout = rolloutWith(undefined, {
      state: null,
      lost: { sha: 'c'.repeat(40), phase: 'canary' }
    })
    const exposure = exposureOf(policy, currentState(rollout, new Date(0)))
    expect(exposure).toMatchObject({
      phase: 'canary',
      enabled: false,
      off: 'state file lost',
      userPercentage: 0,
      featureFlags: []
    })
  })
})
