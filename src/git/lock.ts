import { closeSync, openSync, readFileSync, unlinkSync, writeSync } from 'node:fs'
import { hostname } from 'node:os'
import { isAbsolute, join } from 'node:path'
import { PhasegateError } from '../errors.js'
import { git } from './git.js'

// Two phasegate runs in one checkout must not interleave their read-decide-commit: both could
// advance from one approval, or one could commit while the other's state file is half written.
// A lock file in git's own directory (never in the work tree, never committed) keeps them apart;
// the compare-and-swap on HEAD (commitTransition's expectedHead) catches anyone else who commits
// meanwhile. A lock whose process is gone is broken at once, so an emergency never waits on it.

interface LockHolder {
  pid: number
  host: string
  command: string
  since: string
}

/** The lock's path: `git rev-parse --git-path phasegate.lock`, made absolute. */
export async function lockPath(root: string): Promise<string> {
  const path = await git(root, 'rev-parse', '--git-path', 'phasegate.lock')
  return isAbsolute(path) ? path : join(root, path)
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (error) {
    // EPERM: the process exists but belongs to someone else.
    return (error as NodeJS.ErrnoException).code === 'EPERM'
  }
}

function readHolder(path: string): LockHolder | undefined {
  try {
    const holder = JSON.parse(readFileSync(path, 'utf8')) as Partial<LockHolder>
    return typeof holder.pid === 'number' && typeof holder.host === 'string'
      ? (holder as LockHolder)
      : undefined
  } catch {
    return undefined
  }
}

function tryCreate(path: string, holder: LockHolder): boolean {
  let fd: number
  try {
    fd = openSync(path, 'wx')
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false
    throw new PhasegateError(`cannot create the lock ${path}: ${(error as Error).message}`, {
      hint: "phasegate needs to write in the repository's .git directory"
    })
  }
  try {
    writeSync(fd, JSON.stringify(holder) + '\n')
  } finally {
    closeSync(fd)
  }
  return true
}

/**
 * Runs `fn` holding the checkout's phasegate lock. A lock left by a process that no longer runs
 * on this host (or an unreadable one) is broken and taken. A lock held by a live run is waited on
 * for up to `waitMs` (an emergency waits for a tick to finish; default 0), then throws a
 * PhasegateError naming it, before `fn` touches anything. The lock is released when `fn` settles.
 */
export async function withCheckoutLock<T>(
  root: string,
  command: string,
  fn: () => Promise<T>,
  { waitMs = 0 }: { waitMs?: number } = {}
): Promise<T> {
  const deadline = Date.now() + waitMs
  for (;;) {
    try {
      return await holdingLock(root, command, fn)
    } catch (error) {
      if (!(error instanceof LockHeld) || Date.now() >= deadline) throw error
      await new Promise(resolve => setTimeout(resolve, 200))
    }
  }
}

class LockHeld extends PhasegateError {}

async function holdingLock<T>(root: string, command: string, fn: () => Promise<T>): Promise<T> {
  const path = await lockPath(root)
  const me: LockHolder = {
    pid: process.pid,
    host: hostname(),
    command,
    since: new Date().toISOString()
  }
  // A token tells this acquisition apart from another in the same process (in-process runs).
  const token = `${me.pid}:${me.since}:${Math.random()}`
  const mine = { ...me, token }
  if (!tryCreate(path, mine)) {
    const holder = readHolder(path)
    const stale = !holder || (holder.host === me.host && !alive(holder.pid))
    if (!stale)
      throw new LockHeld(
        `another phasegate run holds this checkout (${holder.command}, pid ${holder.pid} on ${holder.host}, since ${holder.since}); this run changed nothing`,
        {
          hint: `run it again when that run is done; if no phasegate runs, delete ${path}`
        }
      )
    // Remove the stale lock and take it; if another run broke it first, that run won.
    try {
      unlinkSync(path)
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error
    }
    if (!tryCreate(path, mine))
      throw new PhasegateError(
        'another phasegate run took over a stale lock on this checkout first; this run changed nothing',
        { hint: 'run it again when that run is done' }
      )
  }
  try {
    return await fn()
  } finally {
    if ((readHolder(path) as (LockHolder & { token?: string }) | undefined)?.token === token) {
      try {
        unlinkSync(path)
      } catch {
        // Already gone: nothing to release.
      }
    }
  }
}
