import type { ChildProcessWithoutNullStreams } from 'node:child_process'
import { createRequire } from 'node:module'
import { PhasegateError } from '../errors.js'
import { discoverRepo, isShallowClone } from './discover.js'

// node:child_process is loaded with the first git process: it brings net, dgram and the stream
// wrappers (~20 modules on Node 24), which a command that discoverRepo() spares every process
// (status, tick --dry-run on the file provider) need not load at all.
const requireBuiltin = createRequire(import.meta.url)
let childProcess: typeof import('node:child_process') | undefined
const processes = () =>
  (childProcess ??= requireBuiltin('node:child_process') as typeof import('node:child_process'))

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
    const child = processes().execFile(
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
 * Starts repoRoot(cwd)'s work now, for the next repoRoot(cwd) to use: the CLI starts it before
 * loading a command's modules, so that a git process (where discoverRepo cannot answer) and the
 * loading overlap.
 */
export function primeRepoRoot(cwd: string): void {
  primed.set(cwd, askForRoot(cwd))
}

/** git's answer to ROOT_ARGS in `cwd`, read from the file system when discoverRepo can. */
function askForRoot(cwd: string): Promise<GitResult> {
  const found = discoverRepo(cwd)
  if (found)
    return Promise.resolve({ stdout: `${found.root}\n${found.commonDir}\n`, stderr: '', code: 0 })
  return runGit(cwd, ROOT_ARGS, { allowFailure: true })
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
  const result = await (pending ?? askForRoot(cwd))
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

/**
 * Whether the repository at `root` is a shallow clone (older commits missing): read from the
 * file system where git's answer cannot differ, else `git rev-parse --is-shallow-repository`.
 */
export async function isShallowRepository(root: string): Promise<boolean> {
  return (
    isShallowClone(root) ?? (await git(root, 'rev-parse', '--is-shallow-repository')) === 'true'
  )
}

export async function headSha(root: string): Promise<string | undefined> {
  const result = await runGit(root, ['rev-parse', '--verify', '-q', 'HEAD'], { allowFailure: true })
  return result.code === 0 ? result.stdout.trim() : undefined
}

/**
 * Runs git in `cwd` and hands its stdout to `onChunk` as it arrives, so that no output is too
 * large (a history of 100,000 commits is tens of MB: runGit's buffer has a limit). Resolves when
 * git exits 0; rejects with a PhasegateError when it does not, or with what `onChunk` throws
 * (git is then stopped).
 */
export function streamGit(
  cwd: string,
  args: string[],
  onChunk: (chunk: Buffer) => void
): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = processes().spawn('git', args, {
      cwd,
      env: { ...process.env, GIT_TERMINAL_PROMPT: '0' },
      stdio: ['ignore', 'pipe', 'pipe']
    })
    let failed: unknown
    let stderr = ''
    child.stdout.on('data', (chunk: Buffer) => {
      if (failed !== undefined) return
      try {
        onChunk(chunk)
      } catch (error) {
        failed = error
        child.kill()
      }
    })
    // Only the end of stderr is reported; keep that much.
    child.stderr.on('data', (chunk: Buffer) => {
      stderr = (stderr + chunk.toString('utf8')).slice(-4096)
    })
    child.on('error', error => {
      failed ??= new PhasegateError(`git ${args[0]} failed: ${error.message}`)
    })
    child.on('close', code => {
      if (failed !== undefined) reject(failed)
      else if (code !== 0)
        reject(
          new PhasegateError(
            `git ${args[0]} failed: ${stderr.trim().split('\n').slice(-3).join(' / ')}`,
            { hint: `ran: git ${args.join(' ')} in ${cwd}` }
          )
        )
      else resolve()
    })
  })
}

/** A `git cat-file --batch` process that answers requests as they are made. */
export interface ObjectReader {
  /**
   * Asks for one object, `rev:path` or an object id; answers arrive through the reader's
   * `onObject` in request order, numbered from 0.
   */
  request(spec: string): void
  /** No more requests: resolves once every answer has arrived; rejects if git failed. */
  done(): Promise<void>
}

/**
 * Starts a `git cat-file --batch` in `root` on the first request. Each answer is handed to
 * `onObject(index, text)` as soon as it is read (text undefined where the object does not exist:
 * a path absent at that commit, a root commit's parent), so a caller that asks while reading
 * something else (readHistory asks while `git log` runs) keeps both processes busy. The output
 * is read as a stream of buffers (sizes are bytes), without a size limit.
 */
export function objectReader(
  root: string,
  onObject: (index: number, text: string | undefined) => void
): ObjectReader {
  let child: ChildProcessWithoutNullStreams | undefined
  let finished: Promise<void> = Promise.resolve()
  let pending: string[] = []
  let asked = 0
  let answered = 0
  let failed: unknown
  // Unparsed output (a header, or an object's contents, not yet complete) and how many bytes
  // of it the next answer needs: a large object arrives over many chunks, joined once.
  let held: Buffer[] = []
  let heldBytes = 0
  let need = 0
  const parse = (chunk: Buffer) => {
    held.push(chunk)
    heldBytes += chunk.length
    if (heldBytes < need) return
    const buf = held.length === 1 ? held[0]! : Buffer.concat(held)
    let at = 0
    need = 0
    for (;;) {
      const eol = buf.indexOf(10, at)
      if (eol < 0) break
      const header = buf.toString('latin1', at, eol)
      const size = / (\d+)$/.exec(header)
      if (header.endsWith(' missing') || header.endsWith(' ambiguous') || !size) {
        onObject(answered++, undefined)
        at = eol + 1
        continue
      }
      const end = eol + 1 + Number(size[1])
      // The contents and the line feed after them.
      if (end + 1 > buf.length) {
        need = end + 1 - at
        break
      }
      onObject(answered++, buf.toString('utf8', eol + 1, end))
      at = end + 1
    }
    held = at < buf.length ? [buf.subarray(at)] : []
    heldBytes = buf.length - at
  }
  const start = () => {
    const c = processes().spawn('git', ['cat-file', '--batch', '--buffer'], {
      cwd: root,
      env: { ...process.env, GIT_TERMINAL_PROMPT: '0' }
    })
    child = c
    finished = new Promise((resolve, reject) => {
      c.stdout.on('data', (chunk: Buffer) => {
        if (failed !== undefined) return
        try {
          parse(chunk)
        } catch (error) {
          failed = error
          c.kill()
        }
      })
      c.stderr.resume()
      // A request written after git failed would raise EPIPE: the close reports the failure.
      c.stdin.on('error', () => {})
      c.on('error', error => {
        failed ??= error
      })
      c.on('close', code => {
        if (failed === undefined && (code !== 0 || answered !== asked))
          failed = `exit code ${code}, ${answered} of ${asked} objects read`
        if (failed === undefined) resolve()
        else
          reject(
            failed instanceof PhasegateError
              ? failed
              : new PhasegateError(`git cat-file failed: ${String(failed)}`)
          )
      })
    })
  }
  const flush = () => {
    if (pending.length === 0) return
    if (!child) start()
    child!.stdin.write(pending.join('\n') + '\n')
    pending = []
  }
  return {
    request(spec) {
      asked++
      // A spec with a newline would desynchronise the batch; paths with one never name a state file.
      pending.push(spec.replace(/\n/g, ' '))
      // Written in batches: one write per request would cost a system call each.
      if (pending.length >= 512) flush()
    },
    done() {
      flush()
      child?.stdin.end()
      return finished
    }
  }
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
  const out: Array<string | undefined> = new Array<string | undefined>(specs.length)
  const reader = objectReader(root, (i, text) => {
    out[i] = text
  })
  for (const spec of specs) reader.request(spec)
  await reader.done()
  return out
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
    const child = processes().execFile(
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
