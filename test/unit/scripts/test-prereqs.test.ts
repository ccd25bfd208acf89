import { spawnSync } from 'node:child_process'
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterEach, describe, expect, it } from 'vitest'

// scripts/test-prereqs runs before `npm test` (npm's pretest). It must install what the tests run
// for real (Prometheus, Chromium) where it can, and elsewhere stop at once with the one command to
// run. Each case runs it with PATH holding only stand-ins: `id` says who we are, `apt-get` and
// `sudo` record how they were called, and "installing" a package puts its programs on PATH.

const script = fileURLToPath(new URL('../../../scripts/test-prereqs', import.meta.url))
const dirs: string[] = []
afterEach(() => dirs.splice(0).forEach(dir => rmSync(dir, { recursive: true, force: true })))

function stub(bin: string, name: string, body: string) {
  writeFileSync(join(bin, name), `#!/bin/bash\n${body}\n`)
  chmodSync(join(bin, name), 0o755)
}

interface Machine {
  uid: number
  installed?: string[]
  apt?: boolean
  sudo?: 'none' | 'passwordless' | 'password'
}

function machine({ uid, installed = [], apt = true, sudo = 'none' }: Machine) {
  const bin = mkdtempSync(join(tmpdir(), 'phasegate-prereqs-'))
  dirs.push(bin)
  const log = join(bin, 'calls.log')
  writeFileSync(log, '')
  for (const program of installed) stub(bin, program, 'exit 0')
  const programs: Record<string, string[]> = {
    prometheus: ['prometheus', 'promtool'],
    chromium: ['chromium']
  }
  if (apt)
    stub(
      bin,
      'apt-get',
      [
        `echo "apt-get $* (uid=$(id -u))" >> ${log}`,
        `[ "$(id -u)" = 0 ] || exit 100`,
        `for arg in "$@"; do case "$arg" in`,
        ...Object.entries(programs).map(
          ([pkg, progs]) =>
            `  ${pkg}) ${progs.map(p => `printf '#!/bin/bash\\n' > ${bin}/${p}; /bin/chmod +x ${bin}/${p}`).join('; ')} ;;`
        ),
        `esac; done`
      ].join('\n')
    )
  if (sudo !== 'none')
    stub(
      bin,
      'sudo',
      [
        `[ "$1" = -n ] && shift`,
        sudo === 'password' ? 'echo "sudo: a password is required" >&2; exit 1' : '',
        `echo "sudo $*" >> ${log}`,
        // What runs under sudo is root.
        `PATH=${bin} ID_ROOT=1 "$@"`
      ].join('\n')
    )
  // Under sudo, `id -u` answers 0.
  stub(bin, 'id', `[ -n "$ID_ROOT" ] && echo 0 || echo ${uid}`)
  const run = () =>
    spawnSync('/bin/bash', [script], { encoding: 'utf8', env: { PATH: bin, HOME: bin } })
  const calls = () => readFileSync(log, 'utf8').trim().split('\n').filter(Boolean)
  return { bin, run, calls }
}

describe('scripts/test-prereqs', () => {
  it('does nothing when everything is installed', () => {
    const m = machine({ uid: 1000, installed: ['prometheus', 'promtool', 'chromium'] })
    const result = m.run()
    expect(result.status).toBe(0)
    expect(m.calls()).toEqual([])
  })

  it('finds Chromium under the name Ubuntu gives it', () => {
    const m = machine({ uid: 1000, installed: ['prometheus', 'promtool', 'chromium-browser'] })
    expect(m.run().status).toBe(0)
    expect(m.calls()).toEqual([])
  })

  it('as root installs only the missing Debian packages', () => {
    const m = machine({ uid: 0, installed: ['chromium'] })
    const result = m.run()
    expect(result.status, result.stderr).toBe(0)
    expect(m.calls()).toEqual([
      'apt-get update -qq (uid=0)',
      'apt-get install -y -qq --no-install-recommends prometheus (uid=0)'
    ])
    expect(existsSync(join(m.bin, 'promtool'))).toBe(true)
  })

  it('installs both when both are missing', () => {
    const m = machine({ uid: 0 })
    expect(m.run().status).toBe(0)
    expect(m.calls()[1]).toBe(
      'apt-get install -y -qq --no-install-recommends prometheus chromium (uid=0)'
    )
  })

  it('uses sudo when it needs no password', () => {
    const m = machine({ uid: 1000, sudo: 'passwordless' })
    const result = m.run()
    expect(result.status, result.stderr).toBe(0)
    expect(m.calls()).toContain(
      'apt-get install -y -qq --no-install-recommends prometheus chromium (uid=0)'
    )
  })

  it('without root or passwordless sudo stops at once with the one command to run', () => {
    for (const sudo of ['none', 'password'] as const) {
      const m = machine({ uid: 1000, sudo, installed: ['chromium'] })
      const result = m.run()
      expect(result.status).toBe(1)
      expect(m.calls()).toEqual([])
      expect(result.stderr).toContain('missing: prometheus')
      expect(result.stderr).toContain(
        'sudo apt-get update && sudo apt-get install -y --no-install-recommends prometheus'
      )
    }
  })

  it('on a machine without apt-get names the programs and stops', () => {
    const m = machine({ uid: 0, apt: false, installed: ['prometheus', 'promtool'] })
    const result = m.run()
    expect(result.status).toBe(1)
    expect(result.stderr).toContain('missing: chromium')
  })
})
