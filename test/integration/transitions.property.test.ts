// Property (issue 10, kind 3): for random histories mixing phasegate's transitions with human
// commits that carry copied or altered trailers, `history` lists exactly the real transitions,
// and a rollback always undoes the latest real advance still in force.

import { appendFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import fc from 'fast-check'
import { expect, test } from 'vitest'
import type { Transition } from '../../src/engine/types.js'
import { advanceToUndo, readHistory, transitionsOf } from '../../src/git/transitions.js'
import { init } from '../../src/commands/init.js'
import { loadRollouts } from '../../src/rollout/load.js'
import { commitTransitionFrom } from '../../src/rollout/write.js'
import { at } from '../support/policies.js'
import { sh, tempRepo } from '../support/repo.js'

type Step =
  | { type: 'advance' }
  | { type: 'rollback' }
  /** Application code, with the trailers of an earlier commit (or the latest), maybe altered. */
  | { type: 'copy'; pick: number; alter: 'none' | 'to' | 'kind' | 'from'; touchState: boolean }

const step: fc.Arbitrary<Step> = fc.oneof(
  fc.constant<Step>({ type: 'advance' }),
  fc.constant<Step>({ type: 'rollback' }),
  fc.record({
    type: fc.constant('copy' as const),
    pick: fc.nat(20),
    alter: fc.constantFrom('none' as const, 'to' as const, 'kind' as const, 'from' as const),
    touchState: fc.boolean()
  })
)

const PHASES = ['development', 'staging', 'canary', 'limited_production', 'full_production']

test('history lists exactly the real transitions; rollback undoes the latest real advance', async () => {
  await fc.assert(
    fc.asyncProperty(fc.array(step, { minLength: 1, maxLength: 6 }), async steps => {
      const dir = tempRepo()
      await init({ cwd: dir, policies: [], now: at(0) })
      const real: string[] = [sh(dir, 'git', 'rev-parse', 'HEAD')]
      const advances: string[] = []
      let hour = 1
      for (const s of steps) {
        const [rollout] = await loadRollouts(dir, [])
        const state = rollout!.state!
        const index = PHASES.indexOf(state.phase)
        const now = at(hour++)
        if (s.type === 'advance' || s.type === 'rollback') {
          const to = PHASES[s.type === 'advance' ? index + 1 : index - 1]
          if (!to) continue
          if (s.type === 'rollback') {
            const undo = advanceToUndo(await readHistory(dir, [rollout!.policy]), state.phase)
            expect(undo?.sha).toBe(advances[advances.length - 1])
          }
          const transition: Transition = {
            kind: s.type,
            from: state.phase,
            to,
            at: now.toISOString(),
            reason: s.type,
            approvers: [],
            evidence: []
          }
          const { sha } = await commitTransitionFrom(rollout!, state, transition, now)
          if (s.type === 'advance') advances.push(sha)
          else advances.pop()
          real.push(sha)
          continue
        }
        const source = real[Math.min(s.pick, real.length - 1)]!
        let message = sh(dir, 'git', 'log', '-1', '--format=%B', source)
        if (s.alter === 'to')
          message = message.replace(/^Phasegate-To: .*$/m, `Phasegate-To: ${state.phase}`)
        if (s.alter === 'from')
          message = message.replace(/^Phasegate-From: .*$/m, `Phasegate-From: ${state.phase}`)
        if (s.alter === 'kind')
          message = message.replace(/^Phasegate-Kind: .*$/m, 'Phasegate-Kind: advance')
        writeFileSync(join(dir, 'app.txt'), `change ${hour}\n`)
        // Touching the state file by hand: a comment, which leaves the rollout where it is.
        if (s.touchState)
          appendFileSync(
            join(dir, '.phasegate/state/production_deployment.yaml'),
            `# note ${hour}\n`
          )
        sh(dir, 'git', 'add', '-A')
        sh(dir, 'git', 'commit', '-q', '-m', message + '\nPhasegate-Approved-By: mallory')
      }
      const history = await readHistory(dir, [(await loadRollouts(dir, []))[0]!.policy])
      expect(transitionsOf(history).map(e => e.sha)).toEqual([...real].reverse())
      const phase = (await loadRollouts(dir, []))[0]!.state!.phase
      expect(advanceToUndo(history, phase)?.sha).toBe(advances[advances.length - 1])
    }),
    { numRuns: 10, seed: 20261130 }
  )
}, 240_000)
