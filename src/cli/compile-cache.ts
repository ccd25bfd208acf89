import { lstatSync, mkdirSync } from 'node:fs'
import module from 'node:module'
import { homedir } from 'node:os'
import { join } from 'node:path'

// Node 22.1+ can keep the compiled CLI bundle on disk across runs (module.enableCompileCache), so
// a command starts without compiling a megabyte of JavaScript again. Node's default directory is
// the shared temp dir, where another local user could create the directory first and plant code
// that this user's next run would load. The cache lives in the user's own cache directory instead,
// and only when that directory is this user's alone.

/**
 * The directory for the CLI's compile cache: `$XDG_CACHE_HOME/phasegate/compile-cache`, or
 * `~/.cache/phasegate/compile-cache`, created (mode 0700) when missing. Undefined, and no cache,
 * when it cannot be created, or is a symlink, not a directory, owned by another user, or writable
 * by group or others: a cache someone else can write is code someone else can run.
 */
export function compileCacheDir(
  env: NodeJS.ProcessEnv = process.env,
  uid: number | undefined = process.getuid?.()
): string | undefined {
  try {
    const base = env.XDG_CACHE_HOME || join(homedir(), '.cache')
    const dir = join(base, 'phasegate', 'compile-cache')
    mkdirSync(dir, { recursive: true, mode: 0o700 })
    for (const path of [join(base, 'phasegate'), dir]) {
      const stats = lstatSync(path)
      if (!stats.isDirectory() || (stats.mode & 0o022) !== 0) return undefined
      if (uid !== undefined && stats.uid !== uid) return undefined
    }
    return dir
  } catch {
    return undefined
  }
}

/**
 * Turns the compile cache on in compileCacheDir(), on a Node that has one (22.1+). NODE_COMPILE_CACHE
 * (Node enabled it at start, where the user asked) and NODE_DISABLE_COMPILE_CACHE are left to Node.
 */
export function enableCompileCache(env: NodeJS.ProcessEnv = process.env): void {
  const enable = (module as { enableCompileCache?: (dir: string) => unknown }).enableCompileCache
  if (!enable || env.NODE_COMPILE_CACHE || env.NODE_DISABLE_COMPILE_CACHE) return
  const dir = compileCacheDir(env)
  if (dir) enable(dir)
}
