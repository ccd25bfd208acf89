import { PhasegateError } from '../errors.js'
import type { GroupStatistic } from '../stats/tests.js'
import { forEachLine, forEachLineRun, lineEnd } from './lines.js'

/** Per-group sufficient statistics for an experiment: all analysis needs, whatever the traffic. */
export interface ExperimentData {
  /** group -> users seen (rows of a per-user file; largest metric count of an aggregate file) */
  users: Record<string, number>
  /** metric -> group -> statistic; groups with no observation of a metric are absent */
  metrics: Record<string, Record<string, GroupStatistic>>
}

export interface ResultsShape {
  groups: string[]
  metrics: string[]
}

/**
 * Streams a results file into per-group sufficient statistics, in constant memory. Two layouts,
 * as CSV (with a header line) or NDJSON (one object per line), told apart by the file name:
 *
 * - per user: `user_id`, `group`, and one column per success metric. A metric whose values are
 *   all 0/1 (or true/false) is a rate, any other a mean; an empty cell or `null` means the user
 *   has no value for that metric.
 * - aggregate: `group`, `metric`, `count`, and `successes` (a rate) or `sum` and `sum_squares`
 *   (a mean): one row per group and metric, e.g. straight from a warehouse query.
 *
 * Any bad line stops the whole read with a PhasegateError naming the file and line, so no
 * report is ever built from part of a file.
 */
export async function readResults(path: string, shape: ResultsShape): Promise<ExperimentData> {
  const sink = new Accumulator(path, shape)
  if (/\.(nd)?jsonl?$/i.test(path)) {
    let parseLine = (line: string, lineNumber: number): void => {
      parseLine = sink.ndjsonFirst(line, lineNumber)
    }
    await forEachLine(path, (line, lineNumber) => parseLine(line, lineNumber))
  } else {
    await forEachLineRun(path, (bytes, start, end) => sink.csvLines(bytes, start, end))
  }
  if (!sink.sawHeader) {
    throw new PhasegateError('the results file is empty', {
      location: { file: path },
      hint: 'write a header line (CSV) or one JSON object per line (NDJSON)'
    })
  }
  return sink.result()
}

const PER_USER_COLUMNS = ['user_id', 'group']
// Roles of per-user CSV columns; metric columns use their metric's index (0, 1, ...).
const USER = -1
const GROUP = -2
const IGNORED = -3
const AGGREGATE_COLUMNS = ['group', 'metric', 'count']

/** Accumulates rows into flat arrays indexed by metric and group, to stay fast at 10M rows. */
class Accumulator {
  sawHeader = false
  private readonly groupIndex: Map<string, number>
  private readonly metricIndex: Map<string, number>
  private readonly users: Float64Array
  private readonly count: Float64Array
  private readonly sum: Float64Array
  private readonly sumSquares: Float64Array
  /** 1 once a metric/group cell holds a value other than 0 or 1 */
  private readonly nonBinary: Uint8Array
  /** aggregate rows say outright whether a metric is a rate */
  private readonly declaredRate: Int8Array
  private aggregate = false

  constructor(
    private readonly file: string,
    private readonly shape: ResultsShape
  ) {
    this.groupIndex = new Map(shape.groups.map((g, i) => [g, i]))
    this.metricIndex = new Map(shape.metrics.map((m, i) => [m, i]))
    const cells = shape.groups.length * shape.metrics.length
    this.users = new Float64Array(shape.groups.length)
    this.count = new Float64Array(cells)
    this.sum = new Float64Array(cells)
    this.sumSquares = new Float64Array(cells)
    this.nonBinary = new Uint8Array(cells)
    this.declaredRate = new Int8Array(shape.metrics.length).fill(-1)
  }

  private fail(lineNumber: number, message: string, hint?: string): never {
    throw new PhasegateError(message, { location: { file: this.file, line: lineNumber }, hint })
  }

  private group(name: string, lineNumber: number): number {
    const index = this.groupIndex.get(name)
    if (index === undefined) {
      this.fail(
        lineNumber,
        `unknown group '${name}'`,
        `the experiment's groups are ${this.shape.groups.join(', ')}`
      )
    }
    return index
  }

  private requireColumns(
    columns: string[],
    present: (c: string) => boolean,
    lineNumber: number
  ): void {
    const missing = columns.filter(c => !present(c))
    if (missing.length > 0) {
      this.fail(
        lineNumber,
        `missing column${missing.length > 1 ? 's' : ''} ${missing.map(c => `'${c}'`).join(', ')}`,
        this.aggregate
          ? 'aggregate rows need group, metric, count and either successes or sum and sum_squares'
          : `per-user rows need user_id, group and the success metrics (${this.shape.metrics.join(', ')})`
      )
    }
  }

  /** Adds one user's value of metric m in group g. */
  private observe(m: number, g: number, value: number): void {
    const cell = m * this.shape.groups.length + g
    this.count[cell]! += 1
    this.sum[cell]! += value
    this.sumSquares[cell]! += value * value
    if (value !== 0 && value !== 1) this.nonBinary[cell] = 1
  }

  /** Lines read so far, for CSV (NDJSON numbers its lines in forEachLine). */
  private lineNumber = 0
  /** How CSV rows after the header are read. */
  private csvRows?: (bytes: Buffer, start: number, end: number) => void

  /** A run of whole CSV lines (see forEachLineRun): the header first, then rows. */
  csvLines(bytes: Buffer, start: number, end: number): void {
    while (!this.csvRows && start < end) {
      const eol = bytes.indexOf(10, start)
      this.lineNumber++
      const header = bytes.toString('utf8', start, lineEnd(bytes, start, eol))
      start = eol + 1
      if (header.length > 0) this.csvRows = this.csvHeader(header)
    }
    if (this.csvRows && start < end) this.csvRows(bytes, start, end)
  }

  private csvHeader(line: string): (bytes: Buffer, start: number, end: number) => void {
    this.sawHeader = true
    const headerLine = this.lineNumber
    const names = splitCsv(line).map(n => n.trim())
    const column = (name: string): number => names.indexOf(name)
    this.aggregate = !names.includes('user_id') && names.includes('metric')
    if (this.aggregate) {
      this.requireColumns(AGGREGATE_COLUMNS, c => column(c) >= 0, headerLine)
      const field = (cells: string[], name: string): string | undefined => {
        const i = column(name)
        return i >= 0 ? cells[i] : undefined
      }
      return this.textRows(row => {
        const cells = splitCsv(row)
        this.aggregateRow(
          {
            group: field(cells, 'group'),
            metric: field(cells, 'metric'),
            count: field(cells, 'count'),
            successes: field(cells, 'successes'),
            sum: field(cells, 'sum'),
            sum_squares: field(cells, 'sum_squares')
          },
          this.lineNumber
        )
      })
    }
    this.requireColumns(
      [...PER_USER_COLUMNS, ...this.shape.metrics],
      c => column(c) >= 0,
      headerLine
    )
    const roles = names.map(name =>
      name === 'user_id' ? USER : name === 'group' ? GROUP : (this.metricIndex.get(name) ?? IGNORED)
    )
    return this.perUserRows(roles)
  }

  /** Rows decoded to text one at a time: for the few rows of an aggregate file. */
  private textRows(
    onRow: (row: string) => void
  ): (bytes: Buffer, start: number, end: number) => void {
    return (bytes, start, end) => {
      while (start < end) {
        const eol = bytes.indexOf(10, start)
        this.lineNumber++
        const row = bytes.toString('utf8', start, lineEnd(bytes, start, eol))
        if (row.length > 0) onRow(row)
        start = eol + 1
      }
    }
  }

  /**
   * The hot loop of a 10-million-row file: each byte is looked at once, numbers are read while
   * their field is scanned, and a row allocates nothing. Unusual rows (quoted fields, numbers
   * with exponents, bad values) take the general path: decoded and split as RFC 4180 text.
   */
  private perUserRows(roles: number[]): (bytes: Buffer, start: number, end: number) => void {
    const width = roles.length
    const groupBytes = this.shape.groups.map(g => Buffer.from(g))
    const groupCount = groupBytes.length
    const metricCount = this.shape.metrics.length
    const values = new Float64Array(metricCount)
    // seenOn[m] === line number: metric m has a value on this line (no per-row reset needed).
    const seenOn = new Float64Array(metricCount)
    const { count, sum, sumSquares, nonBinary, users } = this
    const general = (bytes: Buffer, lineStart: number, n: number): number => {
      const eol = bytes.indexOf(10, lineStart)
      const cells = splitCsv(bytes.toString('utf8', lineStart, lineEnd(bytes, lineStart, eol)))
      if (cells.length !== width) this.wrongWidth(n, width, cells.length)
      this.userRow(
        n,
        cells.map((cell, c) => [roles[c]!, cell])
      )
      return eol + 1
    }
    return (bytes, start, end) => {
      let i = start
      let n = this.lineNumber
      rows: while (i < end) {
        n++
        const lineStart = i
        if (bytes[i] === 10 || (bytes[i] === 13 && bytes[i + 1] === 10)) {
          i = bytes.indexOf(10, i) + 1
          continue
        }
        let g = -1
        for (let field = 0; ; field++) {
          if (field === width || bytes[i] === 34) {
            i = general(bytes, lineStart, n)
            continue rows
          }
          const role = roles[field]!
          let byte = bytes[i]!
          if (role >= 0) {
            const fieldStart = i
            const negative = byte === 45
            if (negative) byte = bytes[++i]!
            // Digits accumulate into an integer; after the point each one also multiplies the
            // divisor by 10. While both stay exact (< 2^53 and <= 1e22) one division gives
            // exactly what Number() would.
            let mantissa = 0
            let divisor = 1
            let step = 1
            for (;;) {
              const digit = byte - 48
              if (digit >>> 0 <= 9) {
                mantissa = mantissa * 10 + digit
                divisor *= step
              } else if (byte === 46 && step === 1) step = 10
              else break
              byte = bytes[++i]!
            }
            const digits = i - fieldStart - (negative ? 1 : 0) - (step === 10 ? 1 : 0)
            if (byte === 13 && bytes[i + 1] === 10) byte = bytes[++i]!
            if (
              (byte !== 44 && byte !== 10) ||
              (digits === 0 && i > fieldStart) ||
              mantissa > Number.MAX_SAFE_INTEGER ||
              divisor > 1e22
            ) {
              i = general(bytes, lineStart, n)
              continue rows
            }
            if (digits > 0) {
              const magnitude = mantissa / divisor
              values[role] = negative ? -magnitude : magnitude
              seenOn[role] = n
            }
          } else if (role === GROUP) {
            g = groupAt(groupBytes, bytes, i)
            if (g === -1) {
              i = general(bytes, lineStart, n)
              continue rows
            }
            i += groupBytes[g]!.length
            byte = bytes[i]!
            if (byte === 13) byte = bytes[++i]!
          } else {
            if (role === USER && (byte === 44 || byte === 10 || byte === 13)) {
              this.fail(n, 'empty user_id')
            }
            while (byte !== 44 && byte !== 10) byte = bytes[++i]!
          }
          i++
          if (byte === 10) {
            if (field !== width - 1) this.wrongWidth(n, width, field + 1)
            break
          }
        }
        users[g]! += 1
        for (let m = 0; m < metricCount; m++) {
          if (seenOn[m] !== n) continue
          const value = values[m]!
          const cell = m * groupCount + g
          count[cell]! += 1
          sum[cell]! += value
          sumSquares[cell]! += value * value
          if (value !== 0 && value !== 1) nonBinary[cell] = 1
        }
      }
      this.lineNumber = n
    }
  }

  private wrongWidth(lineNumber: number, expected: number, found: number): never {
    return this.fail(lineNumber, `expected ${expected} fields as in the header, found ${found}`)
  }

  /** A per-user row as (column role, text) pairs: the general path, for quoted CSV rows. */
  private userRow(lineNumber: number, cells: Array<[number, string]>): void {
    let g = -1
    for (const [role, text] of cells) {
      if (role === GROUP) g = this.group(text, lineNumber)
      if (role === USER && text === '') this.fail(lineNumber, 'empty user_id')
    }
    this.users[g]! += 1
    for (const [role, text] of cells) {
      if (role < 0 || text === '') continue
      const value = parseNumber(text)
      if (Number.isNaN(value)) this.notANumber(lineNumber, role, text)
      this.observe(role, g, value)
    }
  }

  private notANumber(lineNumber: number, m: number, text: string): never {
    return this.fail(
      lineNumber,
      `${this.shape.metrics[m]}: '${text}' is not a number`,
      'metric values are numbers, true/false, or empty for no value'
    )
  }

  ndjsonFirst(line: string, lineNumber: number): (line: string, lineNumber: number) => void {
    this.sawHeader = true
    const first = this.parseObject(line, lineNumber)
    this.aggregate = !('user_id' in first) && 'metric' in first
    const required = this.aggregate
      ? AGGREGATE_COLUMNS
      : [...PER_USER_COLUMNS, ...this.shape.metrics]
    const handle = (row: Record<string, unknown>, n: number): void => {
      this.requireColumns(required, c => c in row, n)
      if (this.aggregate) {
        this.aggregateRow(row, n)
        return
      }
      if (row.user_id === '' || row.user_id === null) this.fail(n, 'empty user_id')
      const g = this.group(String(row.group), n)
      this.users[g]! += 1
      this.shape.metrics.forEach((metric, m) => {
        const value = row[metric]
        if (value === null || value === '') return
        if (typeof value === 'boolean') this.observe(m, g, value ? 1 : 0)
        else if (typeof value === 'number' && Number.isFinite(value)) this.observe(m, g, value)
        else if (typeof value === 'string') {
          const parsed = parseNumber(value)
          if (Number.isNaN(parsed)) this.notANumber(n, m, value)
          this.observe(m, g, parsed)
        } else this.notANumber(n, m, JSON.stringify(value))
      })
    }
    handle(first, lineNumber)
    return (row, n) => handle(this.parseObject(row, n), n)
  }

  private parseObject(line: string, lineNumber: number): Record<string, unknown> {
    let value: unknown
    try {
      value = JSON.parse(line)
    } catch (error) {
      this.fail(
        lineNumber,
        `not valid JSON: ${(error as Error).message}`,
        'write one JSON object per line'
      )
    }
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      this.fail(lineNumber, 'expected a JSON object', 'write one JSON object per line')
    }
    return value as Record<string, unknown>
  }

  private aggregateRow(row: Record<string, unknown>, n: number): void {
    const g = this.group(String(row.group), n)
    const metric = String(row.metric)
    const m = this.metricIndex.get(metric)
    if (m === undefined) return
    const number = (name: string): number | undefined => {
      const value = row[name]
      if (value === undefined || value === null || value === '') return undefined
      const parsed = typeof value === 'number' ? value : Number(value)
      if (!Number.isFinite(parsed)) this.fail(n, `${name}: '${String(value)}' is not a number`)
      return parsed
    }
    const count = number('count')
    if (count === undefined || !Number.isInteger(count) || count < 0) {
      this.fail(n, `count must be a whole number of 0 or more, not '${String(row.count)}'`)
    }
    const successes = number('successes')
    const sum = number('sum')
    const sumSquares = number('sum_squares')
    const isRate = successes !== undefined
    if (isRate) {
      if (successes < 0 || successes > count || !Number.isInteger(successes)) {
        this.fail(
          n,
          `successes must be a whole number from 0 to count (${count}), not ${successes}`
        )
      }
    } else if (sum === undefined || sumSquares === undefined || sumSquares < 0) {
      this.fail(
        n,
        `${metric}: give either successes, or sum and a non-negative sum_squares`,
        'rates need successes; means need sum and sum_squares'
      )
    }
    if (this.declaredRate[m] !== -1 && this.declaredRate[m] !== (isRate ? 1 : 0)) {
      this.fail(n, `${metric} is a rate in one row and a mean in another`)
    }
    this.declaredRate[m] = isRate ? 1 : 0
    const cell = m * this.shape.groups.length + g
    this.count[cell]! += count
    this.sum[cell]! += isRate ? successes : sum!
    this.sumSquares[cell]! += isRate ? successes : sumSquares!
    this.users[g] = Math.max(this.users[g]!, count)
  }

  result(): ExperimentData {
    const groups = this.shape.groups
    const users: Record<string, number> = {}
    groups.forEach((g, i) => (users[g] = this.users[i]!))
    const metrics: Record<string, Record<string, GroupStatistic>> = {}
    this.shape.metrics.forEach((metric, m) => {
      const cells = groups.map((_, g) => m * groups.length + g)
      const isRate =
        this.declaredRate[m] === 1 ||
        (this.declaredRate[m] === -1 && cells.every(c => this.nonBinary[c] === 0))
      const byGroup: Record<string, GroupStatistic> = {}
      groups.forEach((group, g) => {
        const c = cells[g]!
        if (this.count[c] === 0) return
        byGroup[group] = isRate
          ? { kind: 'rate', count: this.count[c]!, successes: this.sum[c]! }
          : {
              kind: 'mean',
              count: this.count[c]!,
              sum: this.sum[c]!,
              sumSquares: this.sumSquares[c]!
            }
      })
      metrics[metric] = byGroup
    })
    return { users, metrics }
  }
}

/**
 * The number in bytes[start, end), or NaN. Plain decimals of up to 15 digits are read by hand,
 * exactly as Number() would (digits / 10^k is one correctly rounded division); anything else
 * (exponents, longer numbers, true/false) goes through Number().
 */
function parseNumberBytes(bytes: Uint8Array, start: number, end: number): number {
  const negative = bytes[start] === 45
  let mantissa = 0
  let digits = 0
  let fraction = -1
  for (let i = negative ? start + 1 : start; i < end; i++) {
    const code = bytes[i]!
    if (code === 46 && fraction === -1) fraction = 0
    else if (code >= 48 && code <= 57) {
      mantissa = mantissa * 10 + (code - 48)
      digits++
      if (fraction !== -1) fraction++
    } else {
      digits = 16
      break
    }
  }
  if (digits > 0 && digits <= 15) {
    const value = fraction > 0 ? mantissa / POWERS_OF_TEN[fraction]! : mantissa
    return negative ? -value : value
  }
  const field = Buffer.from(bytes.buffer, bytes.byteOffset + start, end - start).toString('utf8')
  if (field === 'true') return 1
  if (field === 'false') return 0
  const parsed = field.trim() === '' ? NaN : Number(field)
  return Number.isFinite(parsed) ? parsed : NaN
}

function parseNumber(text: string): number {
  return parseNumberBytes(Buffer.from(text), 0, Buffer.byteLength(text))
}

/** Which group name starts at bytes[at] and is followed by a comma or a line end, or -1. */
function groupAt(names: Buffer[], bytes: Buffer, at: number): number {
  for (let c = 0; c < names.length; c++) {
    const name = names[c]!
    let i = 0
    while (i < name.length && name[i] === bytes[at + i]) i++
    const next = bytes[at + i]
    if (i === name.length && (next === 44 || next === 10 || next === 13)) return c
  }
  return -1
}

const POWERS_OF_TEN = Array.from({ length: 16 }, (_, k) => 10 ** k)

/** One CSV record (RFC 4180 quoting: "a,b" and doubled quotes), without a line break in it. */
function splitCsv(line: string): string[] {
  const cells: string[] = []
  let cell = ''
  let quoted = false
  for (let i = 0; i < line.length; i++) {
    const ch = line[i]!
    if (quoted) {
      if (ch === '"' && line[i + 1] === '"') {
        cell += '"'
        i++
      } else if (ch === '"') quoted = false
      else cell += ch
    } else if (ch === '"') quoted = true
    else if (ch === ',') {
      cells.push(cell)
      cell = ''
    } else cell += ch
  }
  cells.push(cell)
  return cells
}
