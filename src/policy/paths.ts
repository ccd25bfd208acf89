// Where a policy may make phasegate read and write: inside the repository's work tree. A policy
// arrives by pull request, so a path in it must not reach the runner's other files, git's own
// (.git/: config, hooks), or, through a symlink, anything outside the checkout.

import { existsSync, realpathSync } from 'node:fs'
import { dirname, isAbsolute, join, relative, sep } from 'node:path'

/**
 * Why `path` (as written in a policy, relative to the repository root) is not a path inside the
 * work tree, or undefined when it is: absolute, climbing out with "..", or under .git/.
 */
export function workTreePathProblem(path: string): string | undefined {
  if (isAbsolute(path) || /^[A-Za-z]:[\\/]/.test(path))
    return 'must be inside the repository: write it relative to the repository root'
  const segments = path.split(/[\\/]+/)
  if (segments.includes('..')) return 'must be inside the repository: ".." would leave it'
  if (segments.some(s => s.toLowerCase() === '.git'))
    return "must be inside the repository's work tree, not git's own .git directory"
  return undefined
}

/**
 * Why `path` (relative to `root`) leaves the work tree through a symlink, or undefined: the
 * deepest part of it that exists is resolved and must stay under the resolved root. Says where
 * the link is, never what the file it reaches holds.
 */
export function symlinkEscape(root: string, path: string): string | undefined {
  const realRoot = realpathSync(root)
  let probe = join(root, path)
  while (!existsSync(probe) && dirname(probe) !== probe) probe = dirname(probe)
  const real = realpathSync(probe)
  const inside = relative(realRoot, real)
  if (inside === '' || (!inside.startsWith('..') && !isAbsolute(inside) && !inside.startsWith(sep)))
    return undefined
  return `${path} leaves the repository through a symlink (${relative(root, probe) || '.'})`
}
