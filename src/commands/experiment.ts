import type { Experiment } from '../engine/types.js'
import { PhasegateError, UsageError } from '../errors.js'
import { loadRollouts, type Rollout } from '../rollout/load.js'

/** The rollout whose policy defines the named experiment; exactly one must. */
export async function findExperiment(
  cwd: string,
  policies: string[],
  name: string | undefined
): Promise<{ rollout: Rollout; experiment: Experiment }> {
  const rollouts = await loadRollouts(cwd, policies)
  const all = rollouts.flatMap(rollout =>
    rollout.policy.experiments.map(experiment => ({ rollout, experiment }))
  )
  const known = all.map(a => a.experiment.name).join(', ') || 'none'
  if (!name) {
    throw new UsageError('which experiment? --experiment is missing', {
      hint: `experiments in these policies: ${known}`
    })
  }
  const matches = all.filter(a => a.experiment.name === name)
  if (matches.length === 0) {
    throw new PhasegateError(`no experiment named '${name}'`, {
      hint: `experiments in these policies: ${known}`
    })
  }
  if (matches.length > 1) {
    throw new PhasegateError(`${matches.length} policies define an experiment named '${name}'`, {
      hint: 'pick one with --policy FILE'
    })
  }
  return matches[0]!
}
