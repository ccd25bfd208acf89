import { existsSync, readdirSync } from 'node:fs'
import { isAbsolute, join, relative, resolve } from 'node:path'
import type { Policy, State } from '../engine/types.js'
import { PhasegateError } from '../errors.js'
import { datafilePathOf } from '../export/datafile.js'
import { repoRoot } from '../git/git.js'
import { ownFiles, readHistory, transitionsOf } from '../git/transitions.js'
import { loadPolicy } from '../policy/load.js'
import { symlinkEscape } from '../policy/paths.js'
import { initialState, readState } from '../state/file.js'

// Finding and loading rollouts: the policy files of a repository, each with its state file.
// The CLI and the action both start here.

/** One rollout: its policy, where it lives, and its state (null before `phasegate init`). */
export interface Rollout {
  root: string
  policyFile: string
  policy: Policy
  state: State | null
  /**
   * Set when the state file is missing but the history has transitions of this feature (the
   * newest of them): the rollout is lost, not unstarted. It counts as off until a person restores
   * the file or runs `phasegate init` on purpose.
   */
  lost?: { sha: string; phase: string }
}

/** A policy file that could not be loaded: the rest of the run goes on without it. */
export interface RolloutFailure {
  policyFile: string
  /** The feature, when its policy loaded and a later step (its metrics, its state) failed. */
  feature?: string
  /** The located error (file:line:col and hint) a person reads. */
  error: PhasegateError
  /**
   * Set when the policy loaded but its state file is present and does not read (broken YAML, a
   * value its schema refuses): the rollout as a lost one (state null, `lost` from the history's
   * latest transition), so an emergency can still write its datafile off. Nothing else acts on it.
   */
  unreadableState?: Rollout
}

/** Every rollout of a run: those that loaded, and the policy files that did not. */
export interface LoadedRollouts {
  rollouts: Rollout[]
  failures: RolloutFailure[]
}

export const DEFAULT_POLICY_DIR = 'policies'

/** The policy files named, or every *.yaml / *.yml in policies/ at the repository root. */
export function findPolicyFiles(root: string, cwd: string, named: string[]): string[] {
  if (named.length > 0) return named.map(p => (isAbsolute(p) ? p : resolve(cwd, p)))
  const dir = join(root, DEFAULT_POLICY_DIR)
  const files = existsSync(dir)
    ? readdirSync(dir)
        .filter(f => /\.ya?ml$/.test(f))
        .sort()
    : []
  if (files.length === 0) {
    throw new PhasegateError(`no policy files in ${DEFAULT_POLICY_DIR}/`, {
      hint: 'pass --policy FILE, or add a policy under policies/'
    })
  }
  return files.map(f => join(dir, f))
}

/** Loads every policy file; the first one that cannot be loaded is thrown (CLI commands). */
export async function loadRollouts(cwd: string, named: string[]): Promise<Rollout[]> {
  const { rollouts, failures } = await loadRolloutsSettled(cwd, named)
  if (failures[0]) throw failures[0].error
  return rollouts
}

/**
 * Loads every policy file, keeping each one's failure apart (a broken policy or state file, two
 * policies claiming one feature), so the features that did load can still act.
 */
export async function loadRolloutsSettled(cwd: string, named: string[]): Promise<LoadedRollouts> {
  return loadRolloutsIn(await repoRoot(cwd), cwd, named)
}

/** loadRolloutsSettled in the work tree at `root`, known already (no git process asks for it). */
async function loadRolloutsIn(root: string, cwd: string, named: string[]): Promise<LoadedRollouts> {
  const rollouts: Rollout[] = []
  const failures: RolloutFailure[] = []
  for (const policyFile of findPolicyFiles(root, cwd, named)) {
    let policy: Policy | undefined
    try {
      policy = policyAt(root, cwd, policyFile)
      const stateFile = join(root, policy.statePath)
      const state = readState(stateFile, policy, relativeTo(cwd, stateFile))
      rollouts.push({ root, policyFile, policy, state })
    } catch (error) {
      if (!(error instanceof PhasegateError)) throw error
      failures.push({
        policyFile,
        error,
        ...(policy ? { unreadableState: { root, policyFile, policy, state: null } } : {})
      })
    }
  }
  // Neither of two policies that claim one feature, or one of phasegate's own files (a state
  // file, a datafile: x.yaml and x.yml share x.datafile.json), can be trusted to be its owner:
  // both are reported, neither acts.
  const claimed = new Map<string, Rollout>()
  for (const r of rollouts) {
    const claims = [
      { key: `feature ${r.policy.feature}`, what: `roll out feature "${r.policy.feature}"` },
      ...ownFiles(r.policy).map(path => ({ key: `file ${path}`, what: `write ${path}` }))
    ]
    for (const { key, what } of claims) {
      const other = claimed.get(key)
      if (!other) {
        claimed.set(key, r)
        continue
      }
      if (other === r) continue
      const error = new PhasegateError(
        `two policies ${what}: ${relativeTo(cwd, other.policyFile)} and ${relativeTo(cwd, r.policyFile)}`,
        {
          location: { file: relativeTo(cwd, r.policyFile) },
          hint: key.startsWith('feature')
            ? 'give each policy its own feature name'
            : 'give each policy its own state: path (the datafile is named after it, without .yaml or .yml)'
        }
      )
      if (!failures.some(f => f.policyFile === r.policyFile))
        failures.push({ policyFile: r.policyFile, error })
      if (!failures.some(f => f.policyFile === other.policyFile))
        failures.push({ policyFile: other.policyFile, error })
    }
  }
  const failed = new Set(failures.map(f => f.policyFile))
  const unreadable = failures.flatMap(f => (f.unreadableState ? [f.unreadableState] : []))
  const stateless = [...rollouts.filter(r => !r.state), ...unreadable]
  if (stateless.length) {
    const history = transitionsOf(
      await readHistory(
        root,
        [...rollouts, ...unreadable].map(r => r.policy)
      )
    )
    for (const rollout of stateless) {
      const last = history.find(h => h.feature === rollout.policy.feature)
      if (last) rollout.lost = { sha: last.sha, phase: last.to }
    }
  }
  // A state file that does not read stands for an off rollout even with no transition to name.
  for (const rollout of unreadable)
    rollout.lost ??= { sha: '', phase: rollout.policy.phases[0]!.name }
  return { rollouts: rollouts.filter(r => !failed.has(r.policyFile)), failures }
}

/**
 * The error for a lost rollout (see Rollout.lost): where its state file was last seen and the two
 * deliberate ways out.
 */
export function lostStateError(rollout: Rollout): PhasegateError {
  const { statePath, feature } = rollout.policy
  const sha = rollout.lost!.sha
  return new PhasegateError(
    `the state file of "${feature}" (${statePath}) is missing, but its history has transitions (the last: ${sha.slice(0, 12)}, to ${rollout.lost!.phase}); phasegate treats the feature as off everywhere (tick rewrites its datafile off) and commits no transition for it`,
    {
      location: { file: statePath },
      hint: `restore it: \`git checkout ${sha} -- ${statePath}\` (or \`git revert\` the commit that deleted it) and commit, then \`phasegate tick\` rewrites the datafile; or start over on purpose with \`phasegate init\``
    }
  )
}

/** The policy in `policyFile`, with its own files held inside the work tree. */
function policyAt(root: string, cwd: string, policyFile: string): Policy {
  const policy = loadPolicy(policyFile, relativeTo(cwd, policyFile))
  // Every file phasegate reads and writes beside the state (its datafile too) is held inside the
  // work tree: a committed symlink must not make a tick overwrite, or an error echo, another file.
  for (const [what, path] of [
    ['state file', policy.statePath],
    ['datafile', datafilePathOf(policy)]
  ] as const) {
    const escape = symlinkEscape(root, path)
    if (escape)
      throw new PhasegateError(`the ${what} ${escape}`, {
        location: { file: relativeTo(cwd, policyFile) },
        hint: `${what}s live inside the repository: replace the symlink with a directory or a file`
      })
  }
  return policy
}

/** The rollout as its files stand now (after a commit or a sync moved them). */
export async function reloadRollout(rollout: Rollout): Promise<Rollout> {
  // rollout.root is the work tree's root as git named it: asking git again would say the same.
  const { rollouts, failures } = await loadRolloutsIn(rollout.root, rollout.root, [
    rollout.policyFile
  ])
  if (failures[0]) throw failures[0].error
  return rollouts[0]!
}

/** Paths in messages are shown relative to where the user stands. */
export function relativeTo(cwd: string, file: string): string {
  const rel = relative(cwd, file)
  return rel.startsWith('..') || isAbsolute(rel) ? file : rel
}

/**
 * The state to decide from: the file's, or the first phase entered now when there is none. A lost
 * rollout (its state file deleted after transitions) is off and marked `lost`: the kill switch
 * never turns back on because a file went missing, and every surface says why it is off.
 */
export function currentState(rollout: Rollout, now: Date): State {
  if (rollout.state) return rollout.state
  const fresh = initialState(rollout.policy, now)
  if (!rollout.lost) return fresh
  const known = rollout.policy.phases.some(p => p.name === rollout.lost!.phase)
  return {
    ...fresh,
    phase: known ? rollout.lost.phase : fresh.phase,
    enabled: false,
    lost: { sha: rollout.lost.sha }
  }
}

/** Expands the action's `policies` input: files and globs (`*`, `**`, `?`) relative to the repository. */
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

/** What a run asked for: the features named and, of those, the ones no policy rolls out. */
export interface Selection extends LoadedRollouts {
  /** Features asked for by name that no loaded policy rolls out. */
  unknown: string[]
}

/**
 * The rollouts the action acts on: every policy, or the features asked for. A broken policy
 * file is a failure of its own; a feature named but not found is reported in `unknown`.
 */
export async function selectRollouts(
  root: string,
  patterns: string[],
  features: string[] = []
): Promise<Selection> {
  const loaded = await loadRolloutsSettled(root, expandPolicyGlobs(root, patterns))
  if (features.length === 0) return { ...loaded, unknown: [] }
  const unknown = features.filter(f => !loaded.rollouts.some(r => r.policy.feature === f))
  return {
    rollouts: loaded.rollouts.filter(r => features.includes(r.policy.feature)),
    // A broken policy file might be the feature asked for: it matters only when one is missing.
    failures: unknown.length > 0 ? loaded.failures : [],
    unknown
  }
}

/** The error for features no policy rolls out, naming the ones that exist. */
export function unknownFeatures(unknown: string[], known: Rollout[]): PhasegateError {
  return new PhasegateError(
    `no policy rolls out feature${unknown.length > 1 ? 's' : ''} ${unknown.map(f => `"${f}"`).join(', ')}`,
    {
      hint: `the policies found roll out ${known.map(r => r.policy.feature).join(', ') || 'nothing'}`
    }
  )
}
