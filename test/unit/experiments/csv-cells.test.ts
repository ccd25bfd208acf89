import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { at, HEALTHY } from '../../support/policies.js'
import { cli, tempRepo, writeMetrics } from '../../support/repo.js'

// CSV that phasegate writes: exact per RFC 4180 for joins, and with formulas made text where the
// output is meant for a spreadsheet.

const IDS = ['=1+1', '@SUM(A1)', '-2', '+3', 'a"b', 'x\ry', 'plain']

/** A repository with the ids in u.txt, one a line (a leading "-" would read as an option). */
function usersIn(ids: string[]): string {
  const dir = tempRepo()
  writeFileSync(join(dir, 'u.txt'), ids.join('\n') + '\n')
  return dir
}

describe('assign writes CSV', () => {
  it('keeps every id exact by default (quoted per RFC 4180), so it joins back', async () => {
    const dir = usersIn(IDS)
    const run = await cli(dir, 'assign', '--experiment', 'dspy_vs_traditional', '--users', 'u.txt')
    expect(run.code, run.err).toBe(0)
    expect(run.out.split('\n').map(l => l.replace(/,(control|treatment)$/, ''))).toEqual([
      '=1+1',
      '@SUM(A1)',
      '-2',
      '+3',
      '"a""b"',
      '"x\ry"',
      'plain',
      ''
    ])
  })

  it('with --spreadsheet, a cell a spreadsheet would run as a formula is text', async () => {
    const dir = usersIn(IDS)
    const run = await cli(
      dir,
      'assign',
      '--experiment',
      'dspy_vs_traditional',
      '--users',
      'u.txt',
      '--spreadsheet'
    )
    expect(run.code, run.err).toBe(0)
    expect(run.out.split('\n').map(l => l.replace(/,(control|treatment)$/, ''))).toEqual([
      "'=1+1",
      "'@SUM(A1)",
      "'-2",
      "'+3",
      '"a""b"',
      '"x\ry"',
      'plain',
      ''
    ])
  })
})

describe("the dashboard's audit-trail CSV (a download for spreadsheets)", () => {
  it('makes a formula in the reason column text (the operator must be a GitHub login)', async () => {
    const dir = tempRepo()
    writeMetrics(dir, HEALTHY)
    await cli(dir, 'init', '--now', at(0).toISOString())
    await cli(dir, 'tick', '--approved-by', 'alice', '--now', at(1).toISOString())
    const formula = '=HYPERLINK("https://evil.example","click")'
    const rolled = await cli(
      dir,
      'rollback',
      '--reason',
      formula,
      '--operator',
      'olga',
      '--now',
      at(2).toISOString()
    )
    expect(rolled.code, rolled.err).toBe(0)
    const site = join(dir, 'site')
    const built = await cli(dir, 'dashboard', '--out', site, '--now', at(3).toISOString())
    expect(built.code, built.err).toBe(0)
    const csv = readFileSync(join(site, 'features', 'production_deployment.history.csv'), 'utf8')
    const row = csv.split('\n').find(l => l.includes('rollback'))!
    // the reason column: text, not a formula
    expect(row).toContain(
      `,"manual rollback by olga: =HYPERLINK(""https://evil.example"",""click"")",`
    )
    expect(row).toContain(',olga,')
    expect(row).not.toMatch(/,=/)
  })
})
