import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { PhasegateError } from '../../../src/errors.js'
import { readResults, type ResultsShape } from '../../../src/experiments/results.js'

const dir = mkdtempSync(join(tmpdir(), 'phasegate-results-validation-'))
const shape: ResultsShape = { groups: ['control', 'treatment'], metrics: ['accuracy'] }
const declared: ResultsShape = { ...shape, kinds: { accuracy: 'rate' } }

function file(name: string, lines: string[]): string {
  const path = join(dir, name)
  writeFileSync(path, lines.join('\n') + '\n')
  return path
}

async function failure(path: string, s: ResultsShape = shape): Promise<PhasegateError> {
  const error = await readResults(path, s).then(
    () => undefined,
    (e: unknown) => e
  )
  expect(error).toBeInstanceOf(PhasegateError)
  return error as PhasegateError
}

describe('a declared metric kind', () => {
  it('a value other than 0/1 in a declared rate is an error at its line and column', async () => {
    const path = file('stray.csv', ['user_id,group,accuracy', 'u1,control,1', 'u2,control,2'])
    const error = await failure(path, declared)
    expect(error.location).toEqual({ file: path, line: 3, col: 12 })
    expect(error.message).toMatch(/accuracy is declared a rate: 2 is not 0 or 1/)
  })

  it('the same in NDJSON', async () => {
    const path = file('stray.ndjson', [
      '{"user_id":"u1","group":"control","accuracy":1}',
      '{"user_id":"u2","group":"control","accuracy":2}'
    ])
    const error = await failure(path, declared)
    expect(error.location).toMatchObject({ file: path, line: 2 })
    expect(error.message).toMatch(/accuracy is declared a rate/)
  })

  it('a declared count takes whole numbers of 0 or more', async () => {
    const path = file('count.csv', ['user_id,group,accuracy', 'u1,control,3', 'u2,control,2.5'])
    const error = await failure(path, { ...shape, kinds: { accuracy: 'count' } })
    expect(error.location).toEqual({ file: path, line: 3, col: 12 })
  })

  it('an aggregate row of the other kind is an error', async () => {
    const path = file('agg-kind.csv', [
      'group,metric,count,successes,sum,sum_squares',
      'control,accuracy,100,,80,80'
    ])
    const error = await failure(path, declared)
    expect(error.location).toMatchObject({ file: path, line: 2 })
    expect(error.message).toMatch(/accuracy is declared a rate/)
  })

  it('undeclared, one stray value reads the metric as a mean and says so', async () => {
    const lines = ['user_id,group,accuracy']
    for (let i = 0; i < 50; i++)
      lines.push(`u${i},${i % 2 ? 'control' : 'treatment'},${i % 3 ? 1 : 0}`)
    lines.push('stray,control,2')
    const data = await readResults(file('guess.csv', lines), shape)
    expect(data.metrics.accuracy!.control!.kind).toBe('mean')
    expect(data.warnings?.join('\n')).toMatch(
      /accuracy: read as a mean because 1 of 51 values is not 0 or 1 \(first on line 52\); declare its kind/
    )
  })
})

describe('users', () => {
  it('a duplicate user id is an error naming both lines', async () => {
    const path = file('dup.csv', [
      'user_id,group,accuracy',
      'u1,control,1',
      'u2,control,0',
      'u1,control,1'
    ])
    const error = await failure(path)
    expect(error.location).toEqual({ file: path, line: 4, col: 1 })
    expect(error.message).toMatch(/user 'u1' appears again \(first on line 2\)/)
  })

  it('a user in two groups is an error', async () => {
    const path = file('two.csv', ['user_id,group,accuracy', 'u1,control,1', 'u1,treatment,1'])
    const error = await failure(path)
    expect(error.location).toEqual({ file: path, line: 3, col: 1 })
    expect(error.message).toMatch(/user 'u1' is in treatment here and in control on line 2/)
  })

  it('duplicates are found on the quoted (general) path and in NDJSON too', async () => {
    const csv = file('dup-quoted.csv', [
      'user_id,group,accuracy',
      '"a,b",control,1',
      '"a,b",control,1'
    ])
    expect((await failure(csv)).message).toMatch(/user 'a,b' appears again/)
    const ndjson = file('dup.ndjson', [
      '{"user_id":"u1","group":"control","accuracy":1}',
      '{"user_id":"u1","group":"treatment","accuracy":1}'
    ])
    expect((await failure(ndjson)).message).toMatch(/user 'u1' is in treatment here/)
  })
})

describe('numbers are decimal only', () => {
  it.each(['0x10', '0b1', '1_000', 'Infinity', ' 5'])('per-user %s is not a number', async text => {
    const path = file('hex.csv', ['user_id,group,accuracy', 'u1,control,1', `u2,control,${text}`])
    const error = await failure(path)
    expect(error.location).toEqual({ file: path, line: 3, col: 12 })
  })

  it('exponents and leading signs are decimal', async () => {
    const path = file('exp.csv', ['user_id,group,accuracy', 'u1,control,1e0', 'u2,control,+0'])
    const data = await readResults(path, shape)
    expect(data.metrics.accuracy!.control).toMatchObject({ kind: 'rate', count: 2, successes: 1 })
  })

  it.each(['0x10', ' ', '1e'])('aggregate cell %j is an error, never 0', async text => {
    const path = file('agg-hex.csv', [
      'group,metric,count,successes',
      `control,accuracy,100,${text}`
    ])
    const error = await failure(path)
    expect(error.location).toMatchObject({ file: path, line: 2, col: 22 })
  })
})

describe('impossible aggregates', () => {
  it('a sum of squares below sum²/count is an error', async () => {
    const path = file('impossible.csv', [
      'group,metric,count,sum,sum_squares',
      'control,accuracy,10,100,999'
    ])
    const error = await failure(path)
    expect(error.location).toMatchObject({ file: path, line: 2 })
    expect(error.message).toMatch(/sum_squares 999 is below sum²\/count = 1000/)
  })

  it('a mean row with no users but a sum is an error', async () => {
    const path = file('empty.csv', [
      'group,metric,count,sum,sum_squares',
      'control,accuracy,0,5,25'
    ])
    expect((await failure(path)).message).toMatch(/count 0/)
  })
})
