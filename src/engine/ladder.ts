import type { Phase, Policy } from './types.js'

export function phaseIndex(policy: Policy, name: string): number {
  return policy.phases.findIndex(p => p.name === name)
}

export function phaseNamed(policy: Policy, name: string): Phase {
  const phase = policy.phases.find(p => p.name === name)
  if (!phase) throw new Error(`policy "${policy.feature}" has no phase "${name}"`)
  return phase
}

/** The next phase up the ladder, or undefined at the final phase. */
export function nextPhase(policy: Policy, name: string): Phase | undefined {
  return policy.phases[phaseIndex(policy, name) + 1]
}

/** The phase below, or undefined at the first phase. */
export function previousPhase(policy: Policy, name: string): Phase | undefined {
  const i = phaseIndex(policy, name)
  return i > 0 ? policy.phases[i - 1] : undefined
}
