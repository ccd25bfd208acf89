import { lstatSync, readFileSync, realpathSync, statSync, type Stats } from 'node:fs'
import { basename, dirname, isAbsolute, join, resolve } from 'node:path'

// `git rev-parse --show-toplevel --git-common-dir` costs a process (fork, exec, git's own start:
// ~10% of a no-op `phasegate status`). In the plain case (a work tree whose `.git` is a
// directory or a `gitdir:` file, owned by this user, with nothing in the environment or the
// repository's config that moves the work tree) its answer can be read from the file system.
// Everything else (GIT_DIR and friends, core.worktree, bare repositories, another owner's
// repository that safe.directory may or may not allow, a filesystem boundary, Windows paths)
// is left to git, so that its answer and its error stay git's own.

/** Where a work tree's root and its common git directory (refs, packed-refs) are. */
export interface RepoPaths {
  /** Absolute real path of the work tree's top level, as --show-toplevel prints it. */
  root: string
  /** Absolute real path of the common git directory, as --git-common-dir prints it. */
  commonDir: string
}

// Environment variables that can move git's discovery (GIT_DIR, GIT_WORK_TREE,
// GIT_CEILING_DIRECTORIES, GIT_CONFIG_PARAMETERS, ...) mean "ask git"; so does any GIT_ variable
// not known to leave discovery alone: transport, tracing, prompts, identities, and where the
// user's and system's config live (during discovery git reads those only for safe.directory,
// which a repository this user owns does not need).
const HARMLESS_GIT_ENV =
  /^GIT_(TRACE\w*|SSL_\w+|HTTP_\w+|CURL_\w+|PROXY_\w+|SSH\w*|LFS_\w+|TERMINAL_PROMPT|ASKPASS|ALLOW_PROTOCOL|PROTOCOL_FROM_USER|REDACT_COOKIES|PROGRESS_DELAY|FLUSH|EDITOR|SEQUENCE_EDITOR|PAGER|MERGE_\w+|CONFIG_(NOSYSTEM|GLOBAL|SYSTEM)|(AUTHOR|COMMITTER)_(NAME|EMAIL|DATE))$/

/**
 * The work tree root and common git directory git would print for `cwd` (see RepoPaths), read
 * from the file system; undefined whenever git's answer or error could differ from a plain
 * walk up to the nearest `.git` (the caller then asks git). Never throws.
 */
export function discoverRepo(
  cwd: string,
  env: NodeJS.ProcessEnv = process.env,
  uid: number | undefined = process.getuid?.()
): RepoPaths | undefined {
  if (process.platform === 'win32' || uid === undefined) return undefined
  // git checks ownership against SUDO_UID when run as root under sudo.
  if (uid === 0 && env.SUDO_UID !== undefined) return undefined
  if (Object.keys(env).some(name => name.startsWith('GIT_') && !HARMLESS_GIT_ENV.test(name)))
    return undefined
  try {
    let dir = realpathSync(cwd)
    const device = statSync(dir).dev
    for (;;) {
      // Inside a git directory (`.git` itself, or a bare repository) git has no work tree.
      if (basename(dir) === '.git' || looksLikeGitDir(dir)) return undefined
      const dotGit = lstatOrUndefined(join(dir, '.git'))
      if (dotGit) return dotGit.isDirectory() ? plainRepo(dir, uid) : linkedRepo(dir, dotGit, uid)
      const parent = dirname(dir)
      if (parent === dir) return undefined
      // git stops at a filesystem boundary unless told otherwise.
      if (statSync(parent).dev !== device) return undefined
      dir = parent
    }
  } catch {
    return undefined
  }
}

function lstatOrUndefined(path: string): Stats | undefined {
  try {
    return lstatSync(path)
  } catch {
    return undefined
  }
}

/** What git's is_git_directory() asks of a directory: HEAD, objects/ and refs/. */
function looksLikeGitDir(dir: string, commonDir = dir): boolean {
  return (
    lstatOrUndefined(join(dir, 'HEAD'))?.isFile() === true &&
    lstatOrUndefined(join(commonDir, 'objects'))?.isDirectory() === true &&
    lstatOrUndefined(join(commonDir, 'refs'))?.isDirectory() === true
  )
}

/** `root/.git` is a directory: it is the git directory and the common one. */
function plainRepo(root: string, uid: number): RepoPaths | undefined {
  const gitDir = join(root, '.git')
  if (!looksLikeGitDir(gitDir) || !ownedBy(uid, root, gitDir)) return undefined
  return plainConfig(gitDir) ? { root, commonDir: gitDir } : undefined
}

/** `root/.git` is a `gitdir: <path>` file (a linked worktree or a submodule). */
function linkedRepo(root: string, gitFile: Stats, uid: number): RepoPaths | undefined {
  if (!gitFile.isFile()) return undefined
  const match = /^gitdir: (.+)\n?$/.exec(readFileSync(join(root, '.git'), 'utf8'))
  if (!match) return undefined
  const gitDir = realpathSync(resolve(root, match[1]!))
  let commonDir = gitDir
  const common = lstatOrUndefined(join(gitDir, 'commondir'))
  if (common) {
    const path = readFileSync(join(gitDir, 'commondir'), 'utf8').replace(/\n$/, '')
    commonDir = realpathSync(isAbsolute(path) ? path : resolve(gitDir, path))
  }
  if (!looksLikeGitDir(gitDir, commonDir)) return undefined
  if (!ownedBy(uid, root, join(root, '.git'), gitDir)) return undefined
  // A worktree's own config.worktree counts only with extensions.worktreeConfig, which
  // plainConfig refuses anyway.
  return plainConfig(commonDir) ? { root, commonDir } : undefined
}

/** git's safe.directory check passes without any configuration when this user owns them all. */
function ownedBy(uid: number, ...paths: string[]): boolean {
  return paths.every(path => lstatSync(path).uid === uid)
}

/**
 * The repository's config leaves the work tree where `.git` is: no core.worktree, not bare, no
 * includes or extensions (which could say otherwise or make git refuse the repository).
 */
function plainConfig(commonDir: string): boolean {
  let text: string
  try {
    text = readFileSync(join(commonDir, 'config'), 'utf8')
  } catch {
    return false
  }
  if (/^\s*worktree\s*=/im.test(text)) return false
  if (/^\s*\[\s*(include|extensions)/im.test(text)) return false
  for (const [, value] of text.matchAll(/^\s*bare\s*=\s*(.*?)\s*$/gim))
    if (value!.toLowerCase() !== 'false') return false
  return true
}

/**
 * Whether the repository at `root` is a shallow clone, as `git rev-parse
 * --is-shallow-repository` would say (a `shallow` file in the common git directory); undefined
 * where discoverRepo() leaves the repository to git (GIT_SHALLOW_FILE among others).
 */
export function isShallowClone(root: string): boolean | undefined {
  const found = discoverRepo(root)
  return found && lstatOrUndefined(join(found.commonDir, 'shallow')) !== undefined
}
