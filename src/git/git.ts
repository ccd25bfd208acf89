import { execFile } from 'node:child_process'
import { PhasegateError } from '../errors.js'

export interface GitResult {
  stdout: string
  stderr: string
  code: number
}

/** Runs git in `cwd`. Shelling out keeps git's own behaviour (hooks, config, credentials). */
export function runGit(
  cwd: string,
  args: string[],
  options: { input?: string; env?: Record<string, string>; allowFailure?: boolean } = {}
): Promise<GitResult> {
  return new Promise((resolve, reject) => {
    const child = execFile(
      'git',
      args,
      {
        cwd,
        env: { ...process.env, GIT_TERMINAL_PROMPT: '0', ...options.env },
        maxBuffer: 64 * 1024 * 1024
      },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0
        if (code !== 0 && !options.allowFailure) {
          reject(
            new PhasegateError(
              `git ${args[0]} failed: ${(stderr || stdout || String(error)).trim().split('\n').slice(-3).join(' / ')}`,
              { hint: `ran: git ${args.join(' ')} in ${cwd}` }
            )
          )
          return
        }
        resolve({ stdout, stderr, code })
      }
    )
    if (options.input !== undefined) child.stdin?.end(options.input)
  })
}

export async function git(cwd: string, ...args: string[]): Promise<string> {
  return (await runGit(cwd, args)).stdout.trimEnd()
}

const primed = new Map<string, Promise<GitResult>>()

/**
 * Starts repoRoot(cwd)'s git process now, for the next repoRoot(cwd) to use: the CLI starts it
 * before loading a command's modules, so the process and the loading overlap.
 */
export function primeRepoRoot(cwd: string): void {
  primed.set(cwd, runGit(cwd, ROOT_ARGS, { allowFailure: true }))
}

// One process answers both: the work tree's root, and the common git directory (where refs and
// packed-refs live, shared by linked worktrees) that knownGitDir() hands to cheap ref probes.
const ROOT_ARGS = ['rev-parse', '--path-format=absolute', '--show-toplevel', '--git-common-dir']
const commonDirs = new Map<string, string>()

/**
 * The absolute common git directory of the work tree at `root`, when repoRoot() has asked git
 * for it in this process; undefined otherwise (callers then ask git themselves).
 */
export function knownGitDir(root: string): string | undefined {
  return commonDirs.get(root)
}

export async function repoRoot(cwd: string): Promise<string> {
  const pending = primed.get(cwd)
  primed.delete(cwd)
  const result = await (pending ?? runGit(cwd, ROOT_ARGS, { allowFailure: true }))
  if (result.code !== 0) {
    throw new PhasegateError(`${cwd} is not inside a git repository`, {
      hint: 'phasegate keeps its audit trail in git: run it inside your repository (git init to start one)'
    })
  }
  const [root = '', commonDir] = result.stdout.trim().split('\n')
  if (commonDir) commonDirs.set(root, commonDir)
  return root
}

/** Paths with uncommitted changes (staged or not), relative to the root. */
export async function changedPaths(root: string, paths: string[] = []): Promise<string[]> {
  const out = await git(root, 'status', '--porcelain', '--untracked-files=all', '--', ...paths)
  return out ? out.split('\n').map(line => line.slice(3)) : []
}

export async function headSha(root: string): Promise<string | undefined> {
  const result = await runGit(root, ['rev-parse', '--verify', '-q', 'HEAD'], { allowFailure: true })
  return result.code === 0 ? result.stdout.trim() : undefined
}

/**
 * The contents of many `rev:path` objects in one `git cat-file --batch` process, in order;
 * undefined where the object does not exist (a path absent at that commit, a root commit's
 * parent).
 */
export async function readObjects(
  root: string,
  specs: string[]
): Promise<Array<string | undefined>> {
  return (await readObjectsWithIds(root, specs)).map(object => object?.text)
}

/**
 * Like readObjects, with each object's id: a ref's tip and a file on it, say, in one process.
 * Sizes are bytes, so the output is read as a buffer.
 */
export function readObjectsWithIds(
  root: string,
  specs: string[]
): Promise<Array<{ sha: string; text: string } | undefined>> {
  if (specs.length === 0) return Promise.resolve([])
  return new Promise((resolve, reject) => {
    const child = execFile(
      'git',
      ['cat-file', '--batch'],
      { cwd: root, encoding: 'buffer', maxBuffer: 256 * 1024 * 1024 },
      (error, stdout) => {
        if (error) {
          reject(new PhasegateError(`git cat-file failed: ${String(error)}`))
          return
        }
        const out: Array<{ sha: string; text: string } | undefined> = []
        let at = 0
        for (let i = 0; i < specs.length; i++) {
          const eol = stdout.indexOf(10, at)
          const header = stdout.subarray(at, eol).toString('utf8')
          at = eol + 1
          const found = /^([0-9a-f]+) \S+ (\d+)$/.exec(header)
          if (!found) {
            out.push(undefined)
            continue
          }
          const length = Number(found[2])
          out.push({ sha: found[1]!, text: stdout.subarray(at, at + length).toString('utf8') })
          at += length + 1
        }
        resolve(out)
      }
    )
    // A spec with a newline would desynchronise the batch; paths with one never name a state file.
    child.stdin?.end(specs.map(s => s.replace(/\n/g, ' ')).join('\n') + '\n')
  })
}
