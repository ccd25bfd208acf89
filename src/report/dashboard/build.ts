import { copyFileSync, mkdirSync, writeFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import { DASHBOARD_CSS, DASHBOARD_JS } from './assets.js'
import type { DashboardModel } from './model.js'
import { renderPages } from './render.js'

export interface DashboardFiles {
  /** The site's root directory (absolute). */
  dir: string
  /** index.html's absolute path. */
  index: string
  /** Every file written, relative to `dir`. */
  files: string[]
}

const require = createRequire(import.meta.url)

/**
 * Writes the site into `dir`: the pages, the stylesheet and script, and uPlot with its licence.
 * Files phasegate wrote before are overwritten; nothing else in `dir` is touched.
 */
export function writeDashboard(model: DashboardModel, dir: string): DashboardFiles {
  const files: string[] = []
  const write = (path: string, text: string) => {
    mkdirSync(dirname(join(dir, path)), { recursive: true })
    writeFileSync(join(dir, path), text)
    files.push(path)
  }
  const uplot = dirname(require.resolve('uplot/package.json'))
  mkdirSync(join(dir, 'assets'), { recursive: true })
  for (const [from, to] of [
    ['dist/uPlot.iife.min.js', 'assets/uPlot.iife.min.js'],
    ['dist/uPlot.min.css', 'assets/uPlot.min.css'],
    ['LICENSE', 'assets/uPlot.LICENSE.txt']
  ] as const) {
    copyFileSync(join(uplot, from), join(dir, to))
    files.push(to)
  }
  write('assets/dashboard.css', DASHBOARD_CSS)
  write('assets/dashboard.js', DASHBOARD_JS)
  // GitHub Pages runs Jekyll over an uploaded site unless told not to.
  write('.nojekyll', '')
  for (const page of renderPages(model)) write(page.path, page.html)
  return { dir, index: join(dir, 'index.html'), files }
}
