import { execFileSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { dirname, join, normalize } from 'node:path'
import { fileURLToPath } from 'node:url'
import { builtinModules } from 'node:module'
import semver from 'semver'
import { describe, expect, it } from 'vitest'

// What `npm publish` would upload: what a user of the CLI, the library or the SDK needs, and
// nothing else (no sources, tests, action bundle or CI files). Reads `npm pack --dry-run --json`
// on the built package (npm test builds lib/ first).

const root = fileURLToPath(new URL('../../../', import.meta.url))

/** Top-level folders of the package, and the files npm adds by itself or we ship at the root. */
const FOLDERS = ['bin/', 'lib/', 'schema/', 'docs/', 'examples/', 'policies/']
const ROOT_FILES = ['package.json', 'README.md', 'LICENSE', 'CHANGELOG.md']

/** The modules a compiled file imports: `import ... from 'x'`, `export ... from 'x'`, `import('x')`. */
function importsOf(text: string): string[] {
  return [
    ...text.matchAll(/^\s*(?:import|export)\b[^'"`;]*?\bfrom\s*['"]([^'"]+)['"]/gm),
    ...text.matchAll(/^\s*import\s*['"]([^'"]+)['"]/gm),
    ...text.matchAll(/\bimport\(\s*['"]([^'"]+)['"]\s*\)/g)
  ].map(match => match[1]!)
}

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
      for (const specifier of importsOf(text).filter(s => s.startsWith('.'))) {
        const target = normalize(join(dirname(file), specifier))
        if (!packed.has(target)) missing.push(`${file} imports ${specifier}`)
      }
    }
    expect(missing).toEqual([])
    expect(files.filter(f => /^lib\/(action|github)\/|^lib\/(index|main)\./.test(f))).toEqual([])
  })

  it('needs no package outside its dependencies (the action bundles its own in dist/)', () => {
    const manifest = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as {
      name: string
      dependencies: Record<string, string>
      peerDependencies?: Record<string, string>
    }
    // A peer dependency (the OpenFeature SDK) is one the user's application brings.
    const allowed = new Set([
      manifest.name,
      ...Object.keys(manifest.dependencies),
      ...Object.keys(manifest.peerDependencies ?? {}),
      ...builtinModules
    ])
    const outside: string[] = []
    for (const file of files.filter(f => f.endsWith('.js') && !f.startsWith('lib/bundle/'))) {
      const text = readFileSync(join(root, file), 'utf8')
      for (const specifier of importsOf(text).filter(s => !s.startsWith('.'))) {
        const name = specifier.startsWith('@')
          ? specifier.split('/').slice(0, 2).join('/')
          : specifier.replace(/^node:/, '').split('/')[0]!
        if (!allowed.has(name)) outside.push(`${file} imports ${specifier}`)
      }
    }
    expect(outside).toEqual([])
  })
})

// `npm ci` warns (EBADENGINE) for every installed package whose engines.node excludes the running
// Node. Development is supported from Node 20.19 (vite's floor), 22.13 and 24; the package
// itself (engines in package.json) from Node 20.
describe('package-lock.json', () => {
  const lock = JSON.parse(readFileSync(join(root, 'package-lock.json'), 'utf8')) as {
    packages: Record<string, { engines?: { node?: string }; optional?: boolean; os?: string[] }>
  }
  it.each(['20.19.0', '22.13.0', '24.0.0'])('installs on Node %s without engine warnings', node => {
    const refusing = Object.entries(lock.packages)
      .filter(([, pkg]) => pkg.engines?.node && !pkg.optional)
      .filter(([, pkg]) => !semver.satisfies(node, pkg.engines!.node!))
      .map(([path, pkg]) => `${path} wants node ${pkg.engines!.node}`)
    expect(refusing).toEqual([])
  })
})
