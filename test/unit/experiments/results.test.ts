import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { PhasegateError } from '../../../src/errors.js'
import { readResults } from '../../../src/experiments/results.js'

const dir = mkdtempSync(join(tmpdir(), 'phasegate-results-'))
const shape = { groups: ['control', 'treatment'], metrics: ['accuracy', 'response_time'] }

function file(name: string, text: string): string {
  const path = join(dir, name)
  writeFileSync(path, text)
  return path
}

async function failure(path: string): Promise<PhasegateError> {
  const error = await readResults(path, shape).then(
    () => undefined,
    (e: unknown) => e
  )
  expect(error).toBeInstanceOf(PhasegateError)
  return error as PhasegateError
}

describe('per-user results', () => {
  it('sums a CSV file into per-group statistics, rates from 0/1 and means otherwise', async () => {
    const path = file(
      'users.csv',
      [
        'user_id,group,accuracy,response_time',
        'u1,control,1,100',
        'u2,control,0,300',
        '"u,3",treatment,true,250',
        'u4,treatment,1,',
        ''
      ].join('\r\n')
    )
    const data = await readResults(path, shape)
    expect(data.users).toEqual({ control: 2, treatment: 2 })
    expect(data.metrics.accuracy).toEqual({
      control: { kind: 'rate', count: 2, successes: 1 },
      treatment: { kind: 'rate', count: 2, successes: 2 }
    })
    expect(data.metrics.response_time).toEqual({
      control: {
        kind: 'mean',
        count: 2,
        sum: 400,
        sumSquares: 100_000,
        squaredDeviations: 20_000
      },
      treatment: { kind: 'mean', count: 1, sum: 250, sumSquares: 62_500, squaredDeviations: 0 }
    })
  })

  it('reads the same rows from NDJSON, where null means no value', async () => {
    const path = file(
      'users.ndjson',
      [
        '{"user_id":"u1","group":"control","accuracy":1,"response_time":100}',
        '{"user_id":"u2","group":"control","accuracy":0,"response_time":300}',
        '{"user_id":"u,3","group":"treatment","accuracy":true,"response_time":250}',
        '{"user_id":"u4","group":"treatment","accuracy":1,"response_time":null}'
      ].join('\n')
    )
    const data = await readResults(path, shape)
    expect(data.metrics.accuracy!.treatment).toEqual({ kind: 'rate', count: 2, successes: 2 })
    expect(data.metrics.response_time!.treatment).toEqual({
      kind: 'mean',
      count: 1,
      sum: 250,
      sumSquares: 62_500,
      squaredDeviations: 0
    })
  })

  it('names the line of an unknown group and lists the real ones', async () => {
    const error = await failure(
      file('unknown.csv', 'user_id,group,accuracy,response_time\nu1,control,1,5\nu2,treatmnt,1,5\n')
    )
    expect(error.location).toEqual({ file: join(dir, 'unknown.csv'), line: 3, col: 4 })
    expect(error.format()).toMatch(/unknown.csv:3:4: unknown group 'treatmnt'.*control, treatment/)
  })

  it('names the line and column of a value that is not a number', async () => {
    const error = await failure(
      file('nan.ndjson', '{"user_id":"u1","group":"control","accuracy":1,"response_time":"fast"}\n')
    )
    expect(error.format()).toMatch(/nan.ndjson:1:48: response_time: 'fast' is not a number/)
  })

  it('reports a missing column in the CSV header', async () => {
    const error = await failure(file('missing.csv', 'user_id,group,accuracy\nu1,control,1\n'))
    expect(error.format()).toMatch(/missing.csv:1: missing column 'response_time'/)
  })

  it('reports a missing key on the NDJSON line that lacks it', async () => {
    const error = await failure(
      file(
        'missing.ndjson',
        '{"user_id":"u1","group":"control","accuracy":1,"response_time":2}\n{"user_id":"u2","group":"control","accuracy":1}\n'
      )
    )
    expect(error.format()).toMatch(/missing.ndjson:2: missing column 'response_time'/)
  })

  it('rejects a row with the wrong number of fields', async () => {
    const error = await failure(
      file('ragged.csv', 'user_id,group,accuracy,response_time\nu1,control,1\n')
    )
    expect(error.format()).toMatch(/ragged.csv:2: expected 4 fields/)
  })
})

describe('aggregate results', () => {
  it('adds up count/successes and count/sum/sum_squares rows', async () => {
    const path = file(
      'aggregate.csv',
      [
        'group,metric,count,successes,sum,sum_squares',
        'control,accuracy,1000,900,,',
        'treatment,accuracy,1010,950,,',
        'control,response_time,1000,,200000,41000000',
        'treatment,response_time,1010,,190000,37000000',
        'control,other_metric,5,1,,'
      ].join('\n')
    )
    const data = await readResults(path, shape)
    expect(data.users).toEqual({ control: 1000, treatment: 1010 })
    expect(data.metrics.accuracy!.treatment).toEqual({ kind: 'rate', count: 1010, successes: 950 })
    expect(data.metrics.response_time!.control).toEqual({
      kind: 'mean',
      count: 1000,
      sum: 200_000,
      sumSquares: 41_000_000,
      squaredDeviations: 1_000_000
    })
  })

  it('rejects a negative count with its line number', async () => {
    const error = await failure(
      file(
        'negative.ndjson',
        '{"group":"control","metric":"accuracy","count":10,"successes":5}\n{"group":"treatment","metric":"accuracy","count":-3,"successes":0}\n'
      )
    )
    expect(error.format()).toMatch(
      /negative.ndjson:2:42: count must be a whole number of 0 or more/
    )
  })

  it('rejects more successes than users', async () => {
    const error = await failure(
      file('successes.csv', 'group,metric,count,successes\ncontrol,accuracy,10,11\n')
    )
    expect(error.format()).toMatch(
      /successes.csv:2:21: successes must be a whole number from 0 to count \(10\)/
    )
  })
})

it('says so when the results file does not exist', async () => {
  const error = await failure(join(dir, 'nope.csv'))
  expect(error.format()).toMatch(/nope.csv: cannot read .*nope.csv: ENOENT/)
})

it('reads every decimal number exactly as Number() does', async () => {
  const texts = [
    '0.1',
    '-12.345',
    '1e-3',
    '007',
    '123456789012345',
    '1234567890123456789',
    '.5',
    '+2',
    '0.00001234'
  ]
  // One user per file: the mean is then the value itself, bit for bit.
  for (const [i, text] of texts.entries()) {
    const path = file(
      `number-${i}.csv`,
      `user_id,group,accuracy,response_time\nu1,control,${text},1\n`
    )
    const stat = (await readResults(path, shape)).metrics.accuracy!.control!
    expect(stat.kind === 'mean' ? stat.sum : stat.successes).toBe(Number(text))
  }
})

it('calls a file with nothing but blank lines empty', async () => {
  const error = await failure(file('blank.csv', '\n\r\n\n'))
  expect(error.format()).toMatch(
    /blank\.csv: the results file is empty \(hint: write a header line/
  )
})

it('counts lines across read chunks, CRLF or not', async () => {
  const rows = Array.from(
    { length: 60_000 },
    (_, i) =>
      `user-${i},${i % 2 ? 'treatment' : 'control'},${i % 3 === 0 ? 1 : 0},${100 + (i % 50)}`
  )
  const good = ['user_id,group,accuracy,response_time', ...rows].join('\r\n')
  const data = await readResults(file('big.csv', good), shape)
  expect(data.users).toEqual({ control: 30_000, treatment: 30_000 })
  expect(data.metrics.accuracy!.control).toEqual({ kind: 'rate', count: 30_000, successes: 10_000 })
  rows[50_000] = 'user-x,treatmnt,1,100'
  const error = await failure(
    file('late.csv', ['user_id,group,accuracy,response_time', ...rows].join('\n'))
  )
  expect(error.location?.line).toBe(50_002)
})
