import { mkdirSync, mkdtempSync, realpathSync, rmSync, symlinkSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { discoverRepo, isShallowClone } from '../../../src/git/discover.js'
import { repoRoot } from '../../../src/git/git.js'
import { sh } from '../../support/repo.js'

// discoverRepo() stands in for `git rev-parse --show-toplevel --git-common-dir`: wherever it
// answers, the answer must be git's; wherever git could answer otherwise, it must not answer.

const scratch = realpathSync(mkdtempSync(join(tmpdir(), 'phasegate-discover-')))
afterAll(() => rmSync(scratch, { recursive: true, force: true }))

const env = { PATH: process.env.PATH, HOME: process.env.HOME }
const uid = process.getuid!()

function gitSays(cwd: string): { root: string; commonDir: string } {
  const [root, commonDir] = sh(
    cwd,
    'git',
    'rev-parse',
    '--path-format=absolute',
    '--show-toplevel',
    '--git-common-dir'
  ).split('\n')
  return { root: root!, commonDir: commonDir! }
}

function newRepo(name: string, ...initArgs: string[]): string {
  const dir = join(scratch, name)
  sh(scratch, 'git', 'init', '-q', '-b', 'main', ...initArgs, dir)
  sh(
    dir,
    'git',
    '-c',
    'user.name=T',
    '-c',
    'user.email=t@e',
    'commit',
    '-q',
    '--allow-empty',
    '-m',
    'x'
  )
  mkdirSync(join(dir, 'a', 'b'), { recursive: true })
  return dir
}

describe('discoverRepo', () => {
  it('answers what git answers in a work tree, its subdirectories, a linked worktree and a separate git dir', () => {
    const plain = newRepo('plain')
    const separate = newRepo('separate', `--separate-git-dir=${join(scratch, 'separate.git')}`)
    const linked = join(scratch, 'linked')
    sh(plain, 'git', 'worktree', 'add', '-q', '--detach', linked)
    mkdirSync(join(linked, 'c'))
    const link = join(scratch, 'via-link')
    symlinkSync(join(plain, 'a'), link)
    const places = [
      plain,
      join(plain, 'a', 'b'),
      separate,
      join(separate, 'a'),
      linked,
      join(linked, 'c'),
      link
    ]
    for (const cwd of places) {
      const found = discoverRepo(cwd, env, uid)
      expect(found, cwd).toBeDefined()
      expect(found, cwd).toEqual(gitSays(cwd))
    }
    expect(discoverRepo(linked, env, uid)!.commonDir).toBe(join(plain, '.git'))
  })

  it('leaves to git what git may answer otherwise', async () => {
    const plain = newRepo('others')
    const bare = join(scratch, 'bare.git')
    sh(scratch, 'git', 'init', '-q', '--bare', bare)
    const outside = mkdtempSync(join(tmpdir(), 'phasegate-no-repo-'))
    try {
      // No repository, inside .git, a bare repository.
      expect(discoverRepo(outside, env, uid)).toBeUndefined()
      expect(discoverRepo(join(plain, '.git'), env, uid)).toBeUndefined()
      expect(discoverRepo(join(plain, '.git', 'refs'), env, uid)).toBeUndefined()
      expect(discoverRepo(bare, env, uid)).toBeUndefined()
      // The environment moves discovery.
      for (const name of [
        'GIT_DIR',
        'GIT_WORK_TREE',
        'GIT_CEILING_DIRECTORIES',
        'GIT_CONFIG_COUNT'
      ])
        expect(discoverRepo(plain, { ...env, [name]: scratch }, uid), name).toBeUndefined()
      // Harmless variables do not.
      expect(
        discoverRepo(
          plain,
          { ...env, GIT_TRACE: '1', GIT_SSL_CAINFO: '/x', GIT_CONFIG_NOSYSTEM: '1' },
          uid
        )
      ).toEqual(gitSays(plain))
      // Another owner (safe.directory decides), or root under sudo.
      expect(discoverRepo(plain, env, uid + 1)).toBeUndefined()
      expect(discoverRepo(plain, { ...env, SUDO_UID: '1000' }, 0)).toBeUndefined()
      // The repository's config moves the work tree, makes it bare, or may.
      for (const [key, value] of [
        ['core.worktree', outside],
        ['core.bare', 'true'],
        ['include.path', '/dev/null'],
        ['extensions.worktreeConfig', 'true']
      ] as const) {
        sh(plain, 'git', 'config', key, value)
        expect(discoverRepo(plain, env, uid), key).toBeUndefined()
        sh(plain, 'git', 'config', '--unset', key)
      }
      expect(discoverRepo(plain, env, uid)).toEqual(gitSays(plain))
      // A `.git` that is not a git directory: git walks on up; here git decides.
      const fake = join(plain, 'fake')
      mkdirSync(join(fake, '.git'), { recursive: true })
      expect(discoverRepo(fake, env, uid)).toBeUndefined()
      writeFileSync(join(plain, 'a', '.git'), 'gitdir: /nowhere\n')
      expect(discoverRepo(join(plain, 'a'), env, uid)).toBeUndefined()
    } finally {
      rmSync(outside, { recursive: true, force: true })
    }
  })

  it('tells a shallow clone as git does', () => {
    const origin = newRepo('origin')
    sh(
      origin,
      'git',
      '-c',
      'user.name=T',
      '-c',
      'user.email=t@e',
      'commit',
      '-q',
      '--allow-empty',
      '-m',
      'y'
    )
    const shallow = join(scratch, 'shallow')
    const full = join(scratch, 'full')
    sh(scratch, 'git', 'clone', '-q', '--depth', '1', `file://${origin}`, shallow)
    sh(scratch, 'git', 'clone', '-q', `file://${origin}`, full)
    for (const [dir, expected] of [
      [shallow, true],
      [full, false],
      [origin, false]
    ] as const) {
      expect(sh(dir, 'git', 'rev-parse', '--is-shallow-repository')).toBe(String(expected))
      expect(isShallowClone(dir), dir).toBe(expected)
    }
    sh(shallow, 'git', 'fetch', '-q', '--unshallow')
    expect(isShallowClone(shallow)).toBe(false)
  })

  it("repoRoot keeps git's error outside a repository", async () => {
    const outside = mkdtempSync(join(tmpdir(), 'phasegate-no-repo-'))
    try {
      await expect(repoRoot(outside)).rejects.toThrow(`${outside} is not inside a git repository`)
    } finally {
      rmSync(outside, { recursive: true, force: true })
    }
  })
})
