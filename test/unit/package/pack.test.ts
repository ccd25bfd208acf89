import { execFileSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { dirname, join, normalize } from 'node:path'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'

// What `npm publish` would upload: what a user of the CLI, the library or the SDK needs, and
// nothing else (no sources, tests, action bundle or CI files). Reads `npm pack --dry-run --json`
// on the built package (npm test builds lib/ first).

const root = fileURLToPath(new URL('../../../', import.meta.url))

/** Top-level folders of the package, and the files npm adds by itself or we ship at the root. */
const FOLDERS = ['bin/', 'lib/', 'schema/', 'docs/', 'examples/', 'policies/']
const ROOT_FILES = ['package.json', 'README.md', 'LICENSE', 'CHANGELOG.md']

describe('npm pack', () => {
  const [pack] = JSON.parse(
    execFileSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], {
      cwd: root,
      encoding: 'utf8'
    })
  ) as Array<{ files: Array<{ path: string }> }>
  const files = pack!.files.map(f => f.path).sort()

  it('holds the CLI, its bundle, the library, the SDK, the schema, docs and examples', () => {
    expect(files).toEqual(
      expect.arrayContaining([
        'bin/phasegate.js',
        'lib/bundle/cli.js',
        'lib/lib.js',
        'lib/lib.d.ts',
        'lib/sdk/index.js',
        'schema/policy.schema.json',
        'docs/github.md',
        'docs/versioning.md',
        'examples/workflows/phasegate-tick.yml',
        'policies/production_deployment.yaml',
        ...ROOT_FILES
      ])
    )
  })

  it('holds nothing else', () => {
    const stray = files.filter(
      path => !ROOT_FILES.includes(path) && !FOLDERS.some(folder => path.startsWith(folder))
    )
    expect(stray).toEqual([])
  })

  it('holds every module its JavaScript imports (the action-only code it leaves out is not needed)', () => {
    const packed = new Set(files)
    const missing: string[] = []
    for (const file of files.filter(f => f.endsWith('.js'))) {
      const text = readFileSync(join(root, file), 'utf8')
      for (const [, specifier] of text.matchAll(/(?:from |import\()['"](\.{1,2}\/[^'"]+)['"]/g)) {
        const target = normalize(join(dirname(file), specifier!))
        if (!packed.has(target)) missing.push(`${file} imports ${specifier}`)
      }
    }
    expect(missing).toEqual([])
    expect(files.filter(f => /^lib\/(action|github)\/|^lib\/(index|main)\./.test(f))).toEqual([])
  })
})
