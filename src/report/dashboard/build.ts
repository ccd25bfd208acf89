import {
  copyFileSync,
  existsSync,
  mkdirSync,
  readFileSync,
  readdirSync,
  realpathSync,
  rmdirSync,
  statSync,
  unlinkSync,
  writeFileSync
} from 'node:fs'
import { createRequire } from 'node:module'
import { basename, dirname, isAbsolute, join, relative, resolve, sep } from 'node:path'
import { PhasegateError } from '../../errors.js'
import { DASHBOARD_CSS, DASHBOARD_JS } from './assets.js'
import type { DashboardModel } from './model.js'
import { featurePath, historyPath, renderPages } from './render.js'

export interface DashboardFiles {
  /** The site's root directory (absolute). */
  dir: string
  /** index.html's absolute path. */
  index: string
  /** Every file written, relative to `dir`. */
  files: string[]
}

/**
 * The list of files the last build wrote, kept in the site's directory: a rebuild deletes the ones
 * it does not write again (a feature that now fails to evaluate or was removed), and nothing else.
 */
export const SITE_MANIFEST = '.phasegate-site.json'

const ASSETS = [
  ['dist/uPlot.iife.min.js', 'assets/uPlot.iife.min.js'],
  ['dist/uPlot.min.css', 'assets/uPlot.min.css'],
  ['LICENSE', 'assets/uPlot.LICENSE.txt']
] as const

// Only files of these shapes are ever deleted from a manifest's list, so a hand-edited manifest
// cannot make a rebuild delete anything else.
const OWN_FILE =
  /^(?:index\.html|\.nojekyll|assets\/[\w.-]+|features\/[^/\\]+\.(?:html|history\.csv))$/

const require = createRequire(import.meta.url)

/** Every file a build of `model` writes, relative to the site's root (the manifest included). */
export function sitePaths(model: DashboardModel): string[] {
  return [
    ...ASSETS.map(([, to]) => to),
    'assets/dashboard.css',
    'assets/dashboard.js',
    '.nojekyll',
    'index.html',
    ...model.features.flatMap(f => [featurePath(f.feature), historyPath(f.feature)]),
    SITE_MANIFEST
  ]
}

const outError = (dir: string, problem: string, hint: string) =>
  new PhasegateError(`--out ${dir}: ${problem}`, { hint })

/**
 * The files an earlier build wrote into `dir`, from its manifest ([] for a missing or empty
 * directory). Throws a PhasegateError naming --out when `dir` (or a directory above it) is a
 * file, or holds files this build
 * would overwrite but no manifest says phasegate wrote them.
 */
export function previousSite(model: DashboardModel, dir: string): string[] {
  let existing = resolve(dir)
  while (!existsSync(existing) && dirname(existing) !== existing) existing = dirname(existing)
  if (!statSync(existing).isDirectory()) {
    throw outError(
      dir,
      existing === resolve(dir)
        ? 'is a file, not a directory'
        : `${existing} is a file, not a directory`,
      'name a directory for the site (it is created when missing), e.g. --out _site'
    )
  }
  if (!existsSync(dir)) return []
  const manifest = join(dir, SITE_MANIFEST)
  if (existsSync(manifest)) {
    try {
      const files = (JSON.parse(readFileSync(manifest, 'utf8')) as { files?: unknown }).files
      if (Array.isArray(files))
        return files.filter((f): f is string => typeof f === 'string' && OWN_FILE.test(f))
    } catch {
      // An unreadable manifest is treated as none: nothing is deleted.
    }
    return []
  }
  const clashes = sitePaths(model).filter(path => existsSync(join(dir, path)))
  if (clashes.length > 0) {
    throw outError(
      dir,
      `holds ${clashes.slice(0, 3).join(', ')}${clashes.length > 3 ? ` and ${clashes.length - 3} more` : ''}, which the site would overwrite, and no ${SITE_MANIFEST} says phasegate wrote them`,
      'build into an empty or new directory (e.g. --out _site), or delete that directory first'
    )
  }
  return []
}

/**
 * Writes the site into `dir`: the pages, the stylesheet and script, uPlot with its licence, and
 * the manifest. Files an earlier build listed in its manifest and this one does not write are
 * deleted; nothing else in `dir` is touched. Throws a PhasegateError naming --out for a `dir` that
 * is a file or holds files not written by phasegate that the site would overwrite.
 */
export function writeDashboard(model: DashboardModel, dir: string): DashboardFiles {
  const previous = previousSite(model, dir)
  const files: string[] = []
  const write = (path: string, text: string) => {
    mkdirSync(dirname(join(dir, path)), { recursive: true })
    writeFileSync(join(dir, path), text)
    files.push(path)
  }
  try {
    mkdirSync(join(dir, 'assets'), { recursive: true })
  } catch (error) {
    throw outError(
      dir,
      `cannot be created (${(error as Error).message})`,
      'name a directory you can write, e.g. --out _site'
    )
  }
  const uplot = dirname(require.resolve('uplot/package.json'))
  for (const [from, to] of ASSETS) {
    copyFileSync(join(uplot, from), join(dir, to))
    files.push(to)
  }
  write('assets/dashboard.css', DASHBOARD_CSS)
  write('assets/dashboard.js', DASHBOARD_JS)
  // GitHub Pages runs Jekyll over an uploaded site unless told not to.
  write('.nojekyll', '')
  for (const page of renderPages(model)) write(page.path, page.html)
  const written = new Set(files)
  for (const stale of previous.filter(path => !written.has(path))) {
    const path = join(dir, stale)
    if (existsSync(path)) unlinkSync(path)
    const parent = dirname(path)
    if (parent !== resolve(dir) && existsSync(parent) && readdirSync(parent).length === 0)
      rmdirSync(parent)
  }
  write(SITE_MANIFEST, `${JSON.stringify({ generator: 'phasegate dashboard', files }, null, 2)}\n`)
  return { dir, index: join(dir, 'index.html'), files }
}

/** `path` with symbolic links resolved, also when its last parts do not exist yet. */
export function realPath(path: string): string {
  const absolute = resolve(path)
  if (existsSync(absolute)) return realpathSync(absolute)
  const parent = dirname(absolute)
  return parent === absolute ? absolute : join(realPath(parent), basename(absolute))
}

/**
 * Throws a PhasegateError naming --out when the site in `dir` would be written over the
 * repository's own files: `dir` is the repository's root (or holds it), or a file the build
 * writes or deletes there is tracked by git (`tracked` lists those, relative to `dir`).
 */
export function refuseRepositoryFiles(dir: string, root: string, tracked: string[]): void {
  const out = realPath(dir)
  const top = realPath(root)
  if (out === top || top.startsWith(out + sep)) {
    throw outError(
      dir,
      `is the repository's ${out === top ? 'root' : 'parent directory'} (${top}): the site would be written among its own files`,
      'build into a directory of its own, e.g. --out _site (add it to .gitignore)'
    )
  }
  if (tracked.length > 0) {
    throw outError(
      dir,
      `the site would overwrite files tracked by git: ${tracked.slice(0, 3).join(', ')}${tracked.length > 3 ? ` and ${tracked.length - 3} more` : ''}`,
      'build into a directory of its own, e.g. --out _site (add it to .gitignore)'
    )
  }
}

/** `dir`'s path relative to the repository's root `root` ('' for the root), undefined outside it. */
export function insideRepository(dir: string, root: string): string | undefined {
  const rel = relative(realPath(root), realPath(dir))
  const outside = rel === '..' || rel.startsWith(`..${sep}`) || isAbsolute(rel)
  return outside ? undefined : rel
}
