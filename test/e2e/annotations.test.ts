import { afterEach, expect, test } from 'vitest'
import {
  checkout,
  runPhasegate,
  SEARCH_POLICY,
  searchFiles,
  startRepo,
  writeMetrics,
  type Repo
} from '../support/action-harness.js'

// A policy or state error fails the step and is an annotation on its file, line and column, so
// that GitHub shows it inline on the pull request's Files tab. Read from the runner's command
// output of `node dist/index.js` (`::error file=...,line=...,col=...,title=...::message`).

let repo: Repo | undefined
afterEach(async () => {
  await repo?.cleanup()
  repo = undefined
})

/** The runner's `::error k=v,...::message` lines, as properties and message. */
function errorAnnotations(stdout: string): Array<Record<string, string>> {
  return [...stdout.matchAll(/^::error(?: ([^:]*))?::(.*)$/gm)].map(([, props = '', message]) => ({
    ...Object.fromEntries(
      props
        .split(',')
        .filter(Boolean)
        .map(p => p.split('=') as [string, string])
    ),
    message: message!
  }))
}

/** 1-based line and column of `needle` in `text`. */
function positionOf(text: string, needle: string) {
  const before = text.slice(0, text.indexOf(needle)).split('\n')
  return { line: before.length, col: before.at(-1)!.length + 1 }
}

async function runWith(files: Record<string, string>) {
  repo = await startRepo({ files: { ...searchFiles(), ...files } })
  const workspace = await checkout(repo.gh)
  writeMetrics(workspace, { error_rate: 0.001 }, 'search')
  return runPhasegate(repo.gh, workspace)
}

test('a policy error is an annotation on the policy file, line and column', async () => {
  const broken = SEARCH_POLICY.replace('"< 0.01"', '"about 0.01"')
  const run = await runWith({ 'policies/search.yaml': broken })
  expect(run.exitCode).toBe(1)
  const { line } = positionOf(broken, 'error_rate: "about')
  const [annotation, ...others] = errorAnnotations(run.stdout).sort((a, b) =>
    a.file ? -1 : b.file ? 1 : 0
  )
  expect(annotation, run.stdout).toMatchObject({
    file: 'policies/search.yaml',
    line: String(line),
    title: 'phasegate'
  })
  expect(Number(annotation!.col)).toBeGreaterThan(0)
  expect(annotation!.message).toContain('about 0.01')
  // No second annotation repeats it without its place (a run-level summary may follow).
  expect(others.filter(o => o.message === annotation!.message)).toEqual([])
})
test('a state error is an annotation on the state file', async () => {
  const state = '.phasegate/state/search.yaml'
  const text = searchFiles()[state]!.replace('phase: limited', 'phase: nowhere')
  const run = await runWith({ [state]: text })
  expect(run.exitCode).toBe(1)
  const { line, col } = positionOf(text, 'nowhere')
  expect(errorAnnotations(run.stdout)).toContainEqual(
    expect.objectContaining({
      file: state,
      line: String(line),
      col: String(col),
      title: 'phasegate'
    })
  )
})

test('an error with no place in a file is a plain failure', async () => {
  repo = await startRepo({ files: searchFiles() })
  const workspace = await checkout(repo.gh)
  const run = await runPhasegate(repo.gh, workspace, { inputs: { command: 'nonsense' } })
  expect(run.exitCode).toBe(1)
  expect(run.stdout).toMatch(/^::error::unknown command "nonsense"/m)
})

/** The runner's `::warning k=v,...::message` lines, as properties and message. */
function warningAnnotations(stdout: string): Array<Record<string, string>> {
  return errorAnnotations(stdout.replace(/^::warning/gm, '::error'))
}

test('a policy notice (a warning) is an annotation on its file, line and column, on a tick', async () => {
  const noted = SEARCH_POLICY.replace(
    '    - error_rate > 0.05\n',
    '    - when: error_rate > 0.05\n      for: 10m\n'
  )
  const warnings = (stdout: string) =>
    warningAnnotations(
      stdout
        .split('\n')
        .filter(l => l.startsWith('::warning'))
        .join('\n')
    )
  const run = await runWith({ 'policies/search.yaml': noted })
  expect(run.exitCode, run.stdout).toBe(0)
  const { line, col } = positionOf(noted, '10m')
  expect(warnings(run.stdout), run.stdout).toContainEqual(
    expect.objectContaining({
      file: 'policies/search.yaml',
      line: String(line),
      col: String(col),
      title: 'phasegate'
    })
  )
})
