import { PhasegateError } from '../errors.js'
import { runGit } from './git.js'

// A rollback restores only phasegate's own files and never changes application files. `git revert`
// is used when the advance being undone touched nothing but phasegate's files and reverts cleanly;
// otherwise the caller writes phasegate's files back on their own, and the commit says which of
// the advance's files it left alone. An emergency never fails for a reason writing one file avoids.

/** How an advance was undone. */
export type Undo =
  /** `git revert --no-commit` staged the inverse of the advance (phasegate's files only). */
  | { by: 'revert' }
  /**
   * Nothing staged: the caller writes phasegate's files back. `leftAlone` lists the advance's
   * other files (repository-relative), which the rollback does not touch.
   */
  | { by: 'write-back'; leftAlone: string[]; why: string }

/** Paths `sha` changed against its first parent (every path, for a root commit). */
async function touchedBy(root: string, sha: string): Promise<string[]> {
  const parent = await runGit(root, ['rev-parse', '--verify', '-q', `${sha}^1`], {
    allowFailure: true
  })
  const args =
    parent.code === 0
      ? ['diff', '--no-renames', '--name-only', '-z', `${sha}^1`, sha]
      : ['ls-tree', '-r', '--name-only', '-z', sha]
  const out = (await runGit(root, args)).stdout
  return out.split('\0').filter(Boolean)
}

async function isMerge(root: string, sha: string): Promise<boolean> {
  const result = await runGit(root, ['rev-parse', '--verify', '-q', `${sha}^2`], {
    allowFailure: true
  })
  return result.code === 0
}

/**
 * Prepares undoing `advance` in `root`: reverts it with `git revert --no-commit` when it is a
 * plain commit that changed only `owned` paths and the revert applies cleanly; otherwise leaves
 * the tree and index as they were and answers `write-back`. Throws only when git cannot put the
 * tree back after a failed revert (never for a conflict).
 */
export async function undoAdvance(
  root: string,
  advance: string,
  owned: string[],
  env: Record<string, string>
): Promise<Undo> {
  const known = await runGit(root, ['cat-file', '-e', `${advance}^{commit}`], {
    allowFailure: true
  })
  if (known.code !== 0)
    return {
      by: 'write-back',
      leftAlone: [],
      why: `commit ${advance.slice(0, 12)} is not in this clone's history`
    }
  const leftAlone = (await touchedBy(root, advance)).filter(path => !owned.includes(path))
  if (leftAlone.length > 0)
    return {
      by: 'write-back',
      leftAlone,
      why: `the advance also changed files that are not phasegate's`
    }
  if (await isMerge(root, advance))
    return { by: 'write-back', leftAlone: [], why: 'the advance is a merge commit' }
  const revert = await runGit(root, ['revert', '--no-commit', advance], {
    allowFailure: true,
    env
  })
  if (revert.code === 0) return { by: 'revert' }
  const abort = await runGit(root, ['revert', '--abort'], { allowFailure: true })
  if (abort.code !== 0) {
    const reset = await runGit(root, ['reset', '-q', '--merge'], { allowFailure: true })
    if (reset.code !== 0)
      throw new PhasegateError(
        `reverting ${advance.slice(0, 12)} failed and git could not put the tree back: ${(reset.stderr || abort.stderr).trim()}`,
        { hint: 'run `git status` and `git revert --abort` by hand, then run phasegate again' }
      )
  }
  return {
    by: 'write-back',
    leftAlone: [],
    why: `git revert did not apply cleanly (${(revert.stderr || revert.stdout).trim().split('\n')[0]})`
  }
}
