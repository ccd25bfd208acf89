import { execFileSync } from 'node:child_process'
import {
  chmodSync,
  chownSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  rmSync,
  statSync,
  symlinkSync
} from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { compileCacheDir } from '../../../src/cli/compile-cache.js'

// The CLI's compile cache (Node 22.1+) holds code the next run executes: it lives in the user's
// cache directory, never in the shared temp dir, and only while no one else can write to it.

const made: string[] = []
afterAll(() => made.forEach(dir => rmSync(dir, { recursive: true, force: true })))
const cacheHome = () => {
  const dir = mkdtempSync(join(tmpdir(), 'phasegate-cache-home-'))
  made.push(dir)
  return dir
}
const ROOT = new URL('../../../', import.meta.url).pathname

describe('the compile cache directory', () => {
  it("is the user's cache directory's phasegate/compile-cache, made private (0700)", () => {
    const home = cacheHome()
    const dir = compileCacheDir({ XDG_CACHE_HOME: home })
    expect(dir).toBe(join(home, 'phasegate', 'compile-cache'))
    expect(statSync(dir!).mode & 0o777).toBe(0o700)
  })

  it('is ~/.cache/phasegate/compile-cache without XDG_CACHE_HOME', () => {
    const home = cacheHome()
    const before = process.env.HOME
    process.env.HOME = home
    try {
      expect(compileCacheDir({})).toBe(join(home, '.cache', 'phasegate', 'compile-cache'))
    } finally {
      process.env.HOME = before
    }
  })

  it('is refused when group or others can write to it, or to its phasegate folder', () => {
    const home = cacheHome()
    mkdirSync(join(home, 'phasegate', 'compile-cache'), { recursive: true })
    chmodSync(join(home, 'phasegate', 'compile-cache'), 0o777)
    expect(compileCacheDir({ XDG_CACHE_HOME: home })).toBeUndefined()
    const other = cacheHome()
    mkdirSync(join(other, 'phasegate'))
    chmodSync(join(other, 'phasegate'), 0o775)
    expect(compileCacheDir({ XDG_CACHE_HOME: other })).toBeUndefined()
  })

  it('is refused when another user owns it, or it is a symlink', () => {
    const home = cacheHome()
    mkdirSync(join(home, 'phasegate', 'compile-cache'), { recursive: true, mode: 0o700 })
    expect(compileCacheDir({ XDG_CACHE_HOME: home }, 12345)).toBeUndefined()
    if (process.getuid?.() === 0) {
      chownSync(join(home, 'phasegate', 'compile-cache'), 65534, 65534)
      expect(compileCacheDir({ XDG_CACHE_HOME: home })).toBeUndefined()
    }
    const linked = cacheHome()
    mkdirSync(join(linked, 'phasegate'), { mode: 0o700 })
    symlinkSync(home, join(linked, 'phasegate', 'compile-cache'))
    expect(compileCacheDir({ XDG_CACHE_HOME: linked })).toBeUndefined()
  })

  it('is no cache at all when it cannot be made (a file stands in the way)', () => {
    const home = cacheHome()
    execFileSync('touch', [join(home, 'phasegate')])
    expect(compileCacheDir({ XDG_CACHE_HOME: home })).toBeUndefined()
  })

  it('the CLI runs with it, and never puts a cache in the shared temp dir', () => {
    const home = cacheHome()
    const shared = join(home, 'tmp')
    mkdirSync(shared)
    const out = execFileSync(process.execPath, [join(ROOT, 'bin/phasegate.js'), '--version'], {
      env: { ...process.env, XDG_CACHE_HOME: home, TMPDIR: shared },
      encoding: 'utf8'
    })
    expect(out).toMatch(/\d+\.\d+\.\d+/)
    expect(existsSync(join(shared, 'node-compile-cache'))).toBe(false)
    // Node 22.1+ keeps its cache under the user's directory (older Node has none to keep).
    const hasCache = process.versions.node.localeCompare('22.1', undefined, { numeric: true }) >= 0
    expect(existsSync(join(home, 'phasegate', 'compile-cache'))).toBe(hasCache)
  })
})
