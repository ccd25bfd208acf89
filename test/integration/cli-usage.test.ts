import { spawnSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { main } from '../../src/cli.js'
import { at } from '../support/policies.js'
import { cli, sh, tempRepo } from '../support/repo.js'

// Usage errors a person can act on: one line saying what is wrong (with a did-you-mean), a pointer
// to the command's help, exit 2, and the repository untouched.

const BIN = new URL('../../bin/phasegate.js', import.meta.url).pathname
const VERSION = (
  JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
    version: string
  }
).version

async function phasegate(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = ''
  let err = ''
  const code = await main(argv, { out: t => (out += t + '\n'), err: t => (err += t + '\n') })
  return { code, out, err }
}

/** Runs a command line that must be refused as bad usage, in a repository it must not touch. */
async function refused(...argv: string[]): Promise<string> {
  const dir = tempRepo()
  const head = sh(dir, 'git', 'rev-parse', 'HEAD')
  const run = await cli(dir, ...argv)
  expect(run.code, run.err).toBe(2)
  expect(run.out).toBe('')
  expect(run.err.trim().split('\n')).toHaveLength(1)
  expect(sh(dir, 'git', 'rev-parse', 'HEAD')).toBe(head)
  expect(sh(dir, 'git', 'status', '--porcelain', '--untracked-files=all')).toBe('')
  return run.err
}

describe('usage errors', () => {
  it('a misspelt option gets a did-you-mean and a pointer to the command help, not the whole help', async () => {
    expect(await refused('tick', '--dryrun')).toBe(
      'phasegate: unknown option --dryrun (did you mean --dry-run?) (hint: run `phasegate tick --help` for its options)\n'
    )
    expect(await refused('status', '--approved', 'alice')).toContain(
      'unknown option --approved (did you mean --approved-by?)'
    )
  })

  it('a misspelt command gets a did-you-mean', async () => {
    expect(await refused('stauts')).toContain('unknown command "stauts" (did you mean "status"?)')
  })

  it('an option that does not apply to the command is refused, naming the commands it is for', async () => {
    expect(await refused('status', '--dry-run')).toBe(
      'phasegate: status does not take --dry-run (hint: --dry-run is for tick; run `phasegate status --help` for its options)\n'
    )
    expect(await refused('history', '--now', at(1).toISOString())).toContain(
      'history does not take --now'
    )
    expect(await refused('init', '--reason', 'x')).toContain('init does not take --reason')
  })

  it('an option without its value, a flag with one, and stray arguments are refused', async () => {
    expect(await refused('tick', '--now')).toContain('--now needs a value (--now TIME)')
    expect(await refused('tick', '--json=yes')).toContain('--json takes no value')
    expect(await refused('status', 'production_deployment')).toContain(
      'status takes no arguments, got "production_deployment"'
    )
  })

  it('a missing --experiment exits 2, as documented', async () => {
    expect(await refused('analyze')).toContain('analyze needs --experiment NAME')
    expect(await refused('assign', 'u1')).toContain('assign needs --experiment NAME')
    expect(await refused('rollback')).toContain('rollback needs --reason TEXT')
  })

  it('-C on a missing directory says so', async () => {
    const run = await phasegate('status', '-C', '/nonexistent/phasegate-dir')
    expect(run.code).toBe(2)
    expect(run.err).toBe(
      `phasegate: -C /nonexistent/phasegate-dir: no such directory (hint: paths are relative to ${process.cwd()})\n`
    )
  })

  it('a malformed --check is bad usage', async () => {
    expect(await refused('tick', '--check', 'smoke')).toContain(
      '--check "smoke" is not NAME=RESULT'
    )
  })
})

describe('help and version', () => {
  it('phasegate <command> --help shows that command alone, with its options', async () => {
    const run = await phasegate('tick', '--help')
    expect(run.code).toBe(0)
    expect(run.out).toMatch(/^usage: phasegate tick \[options\]\n/)
    expect(run.out).toContain('--dry-run')
    expect(run.out).toContain('--now TIME')
    expect(run.out).not.toContain('--experiment')
    const analyze = await phasegate('analyze', '-h')
    expect(analyze.out).toMatch(/^usage: phasegate analyze --experiment NAME \[options\]\n/)
  })

  it('phasegate --help lists every command; with no command it is bad usage', async () => {
    const help = await phasegate('--help')
    expect(help.code).toBe(0)
    for (const c of [
      'validate',
      'status',
      'tick',
      'rollback',
      'resume',
      'init',
      'history',
      'demo',
      'assign',
      'analyze'
    ])
      expect(help.out).toContain(`  ${c} `)
    const none = await phasegate()
    expect(none.code).toBe(2)
    expect(none.err).toContain('no command given')
  })

  it('phasegate --version prints the package version, also from the bin', () => {
    const run = spawnSync('node', [BIN, '--version'], { encoding: 'utf8' })
    expect(run.status).toBe(0)
    expect(run.stdout).toBe(`phasegate ${VERSION}\n`)
  })

  it('the bin exits 2 on a misspelt option with one line on stderr', () => {
    const run = spawnSync('node', [BIN, 'tick', '--bogus', '-C', join('/', 'tmp')], {
      encoding: 'utf8'
    })
    expect(run.status).toBe(2)
    expect(run.stderr).toBe(
      'phasegate: unknown option --bogus (hint: run `phasegate tick --help` for its options)\n'
    )
  })
})
