import { readdirSync } from 'node:fs'
import { join, relative } from 'node:path'
import { phaseNamed } from '../engine/ladder.js'
import type { Phase, State } from '../engine/types.js'
import { PhasegateError } from '../errors.js'
import { runGit } from '../git/git.js'
import type { WantedCheck } from '../github/checks.js'
import { currentState, loadRollouts, type Rollout } from '../commands/workspace.js'

/** Expands the `policies` input: files and globs (`*`, `**`, `?`) relative to the repository. */
export function expandPolicyGlobs(root: string, patterns: string[]): string[] {
  const files: string[] = []
  let all: string[] | undefined
  for (const pattern of patterns) {
    if (!/[*?]/.test(pattern)) {
      files.push(join(root, pattern))
      continue
    }
    all ??= listFiles(root, root)
    const re = globToRegExp(pattern.replace(/^\.\//, ''))
    const matched = all.filter(f => re.test(f))
    if (matched.length === 0)
      throw new PhasegateError(`the policies pattern "${pattern}" matches no file`, {
        hint: 'patterns are relative to the repository root, e.g. policies/*.yaml'
      })
    files.push(...matched.map(f => join(root, f)))
  }
  return [...new Set(files)]
}

function listFiles(root: string, dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap(entry => {
    if (entry.name === '.git' || entry.name === 'node_modules') return []
    const path = join(dir, entry.name)
    return entry.isDirectory() ? listFiles(root, path) : [relative(root, path)]
  })
}

function globToRegExp(glob: string): RegExp {
  let re = ''
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i]!
    if (c === '*' && glob[i + 1] === '*') {
      re += glob[i + 2] === '/' ? '(?:.*/)?' : '.*'
      i += glob[i + 2] === '/' ? 2 : 1
    } else if (c === '*') re += '[^/]*'
    else if (c === '?') re += '[^/]'
    else re += c.replace(/[.+^${}()|[\]\\]/g, '\\$&')
  }
  return new RegExp(`^${re}$`)
}

/** The rollouts this run acts on: every policy, or the one feature asked for. */
export async function selectRollouts(
  root: string,
  patterns: string[],
  feature?: string
): Promise<Rollout[]> {
  const rollouts = await loadRollouts(root, expandPolicyGlobs(root, patterns))
  if (!feature) return rollouts
  const found = rollouts.filter(r => r.policy.feature === feature)
  if (found.length === 0)
    throw new PhasegateError(`no policy rolls out feature "${feature}"`, {
      hint: `the policies found roll out ${rollouts.map(r => r.policy.feature).join(', ')}`
    })
  return found
}

export async function reloadRollout(root: string, rollout: Rollout): Promise<Rollout> {
  const [fresh] = await loadRollouts(root, [rollout.policyFile])
  return fresh!
}

/** The commit that last changed the state file on the current branch's first-parent line. */
export async function landingCommit(
  root: string,
  statePath: string
): Promise<{ sha: string; at: string } | undefined> {
  const result = await runGit(
    root,
    ['log', '-1', '--first-parent', '--format=%H %cI', '--', statePath],
    { allowFailure: true }
  )
  const [sha, at] = result.stdout.trim().split(' ')
  return sha && at ? { sha, at } : undefined
}

/**
 * The state as deployed: a phase counts as entered when its change landed on the default branch.
 * An advance PR is written before it is approved; its entered_at is when the PR was built, but
 * the phase starts, and its duration gate counts, from the merge.
 */
export function deployedState(
  rollout: Rollout,
  now: Date,
  landed: { at: string } | undefined
): State {
  const state = currentState(rollout, now)
  if (!rollout.state || !landed) return state
  return Date.parse(landed.at) > Date.parse(state.enteredAt)
    ? { ...state, enteredAt: new Date(landed.at).toISOString() }
    : state
}

/** Users and teams of the phase's manual approval gates. */
export function approversOf(phase: Phase): string[] {
  return [...new Set(phase.gates.flatMap(g => (g.type === 'manual_approval' ? g.approvers : [])))]
}

/** The checks the phase's automated_test gates wait for, each with the app it trusts. */
export function testsOf(rollout: Rollout, state: State): WantedCheck[] {
  return phaseNamed(rollout.policy, state.phase).gates.flatMap(g =>
    g.type === 'automated_test' ? g.checks.map(name => ({ name, app: g.app })) : []
  )
}
