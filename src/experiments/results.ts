import { PhasegateError } from '../errors.js'
import type { GroupStatistic } from '../stats/tests.js'
import { forEachLine, forEachLineRun, lineEnd } from './lines.js'

/** Per-group sufficient statistics for an experiment: all analysis needs, whatever the traffic. */
export interface ExperimentData {
  /**
   * group -> users seen: rows of a per-user file; for an aggregate file, the largest total `count`
   * over the group's metrics (a metric's rows add up first)
   */
  users: Record<string, number>
  /** metric -> group -> statistic; groups with no observation of a metric are absent */
  metrics: Record<string, Record<string, GroupStatistic>>
  /** Doubts about the input that did not stop the read (a guessed kind, lost precision). */
  warnings?: string[]
}

/** What a metric is, when the policy declares it: `count` is a mean of whole numbers ≥ 0. */
export type MetricKind = 'rate' | 'mean' | 'count'

export interface ResultsShape {
  groups: string[]
  metrics: string[]
  /** Declared kinds (an experiment's metric_kinds): values and rows contradicting them are errors. */
  kinds?: Record<string, MetricKind>
}

/**
 * Streams a results file into per-group sufficient statistics, in constant memory. Two layouts,
 * as CSV (with a header line) or NDJSON (one object per line), told apart by the file name:
 *
 * - per user: `user_id`, `group`, and one column per success metric. A metric declared in
 *   `shape.kinds` must fit it (a rate takes 0/1 or true/false, a count whole numbers ≥ 0); an
 *   undeclared metric whose values are all 0/1 is a rate, any other a mean (with a warning when
 *   most values were 0/1). An empty cell or `null` means no value. A user id appears once.
 * - aggregate: `group`, `metric`, `count`, and `successes` (a rate) or `sum` and `sum_squares`
 *   (a mean): rows for the same group and metric add up, e.g. straight from a warehouse query.
 *
 * Numbers are decimal (`0x10`, blanks and `Infinity` are errors). Means are accumulated as
 * shifted sums (per-user) or merged as (count, mean, Σ(x − mean)²) (aggregate rows), so a large
 * common offset keeps its variance. Any bad line stops the whole read with a PhasegateError
 * naming the file, line and column, so no report is ever built from part of a file.
 */
export async function readResults(path: string, shape: ResultsShape): Promise<ExperimentData> {
  const sink = new Accumulator(path, shape)
  const ndjson = /\.(nd)?jsonl?$/i.test(path)
  try {
    if (ndjson) {
      let parseLine = (line: string, lineNumber: number): void => {
        parseLine = sink.ndjsonFirst(line, lineNumber)
      }
      await forEachLine(path, (line, lineNumber) => parseLine(line, lineNumber))
    } else {
      await forEachLineRun(path, (bytes, start, end) => sink.csvLines(bytes, start, end))
    }
  } catch (error) {
    if (error instanceof RepeatedUser) throw await repeatedUserError(path, ndjson, error)
    throw error
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
const KIND_CODE: Record<MetricKind, number> = { rate: 1, mean: 2, count: 3 }
/**
 * An aggregate row whose sum of squares is this many times its Σ(x − mean)² has lost about
 * log10 of it of a double's 16 digits to cancellation: past 1e10, fewer than 6 remain.
 */
const CANCELLATION_WARNING = 1e10

/** Accumulates rows into flat arrays indexed by metric and group, to stay fast at 10M rows. */
class Accumulator {
  sawHeader = false
  private readonly groupIndex: Map<string, number>
  private readonly metricIndex: Map<string, number>
  private readonly users: Float64Array
  /** Per metric and group cell: observations, then Σ(x − shift) and Σ(x − shift)². */
  private readonly count: Float64Array
  private readonly shift: Float64Array
  private readonly shiftedSum: Float64Array
  private readonly shiftedSquares: Float64Array
  /** Per metric: values other than 0 or 1, and the first line with one. */
  private readonly nonBinary: Float64Array
  private readonly firstNonBinary: Float64Array
  /** Per metric: 0 undeclared, else KIND_CODE of the declared kind. */
  private readonly declared: Int8Array
  /** aggregate rows say outright whether a metric is a rate */
  private readonly declaredRate: Int8Array
  private readonly seenUsers = new UserSet()
  private readonly warnings: string[] = []
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
    this.shift = new Float64Array(cells)
    this.shiftedSum = new Float64Array(cells)
    this.shiftedSquares = new Float64Array(cells)
    this.nonBinary = new Float64Array(shape.metrics.length)
    this.firstNonBinary = new Float64Array(shape.metrics.length)
    this.declared = Int8Array.from(shape.metrics, m => {
      const kind = shape.kinds?.[m]
      return kind ? KIND_CODE[kind] : 0
    })
    this.declaredRate = new Int8Array(shape.metrics.length).fill(-1)
  }

  private fail(lineNumber: number, message: string, hint?: string, col?: number): never {
    throw new PhasegateError(message, {
      location: { file: this.file, line: lineNumber, ...(col !== undefined ? { col } : {}) },
      hint
    })
  }

  private group(name: string, lineNumber: number, col?: number): number {
    const index = this.groupIndex.get(name)
    if (index === undefined) {
      this.fail(
        lineNumber,
        `unknown group '${name}'`,
        `the experiment's groups are ${this.shape.groups.join(', ')}`,
        col
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

  /** Why a value contradicts metric m's declared kind, or undefined when it fits. */
  private misfit(m: number, value: number): string | undefined {
    const kind = this.declared[m]
    const metric = this.shape.metrics[m]
    if (kind === 1 && value !== 0 && value !== 1) {
      return `${metric} is declared a rate: ${value} is not 0 or 1`
    }
    if (kind === 3 && !(Number.isInteger(value) && value >= 0)) {
      return `${metric} is declared a count: ${value} is not a whole number of 0 or more`
    }
    return undefined
  }

  /** Adds one user's value of metric m in group g, read on line `lineNumber`. */
  private observe(m: number, g: number, value: number, lineNumber: number, col?: number): void {
    const misfit = this.misfit(m, value)
    if (misfit) this.fail(lineNumber, misfit, 'fix the value or the metric_kinds declaration', col)
    const cell = m * this.shape.groups.length + g
    if (this.count[cell] === 0) this.shift[cell] = value
    const deviation = value - this.shift[cell]!
    this.count[cell]! += 1
    this.shiftedSum[cell]! += deviation
    this.shiftedSquares[cell]! += deviation * deviation
    if (value !== 0 && value !== 1) this.countNonBinary(m, lineNumber)
  }

  private countNonBinary(m: number, lineNumber: number): void {
    if (this.nonBinary[m] === 0) this.firstNonBinary[m] = lineNumber
    this.nonBinary[m]! += 1
  }

  /** Records a user (its id hashed as UTF-8 bytes) in group g: -1, or the group it was already in. */
  private seeUser(hash: UserHash, g: number): number {
    return this.seenUsers.add(hash.a, hash.b, g)
  }

  private repeatedUser(
    id: string,
    g: number,
    before: number,
    lineNumber: number,
    col: number
  ): never {
    throw new RepeatedUser(id, lineNumber, col, this.shape.groups[g]!, this.shape.groups[before]!)
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
    const names = splitCsv(line).cells.map(n => n.trim())
    const column = (name: string): number => names.indexOf(name)
    this.aggregate = !names.includes('user_id') && names.includes('metric')
    if (this.aggregate) {
      this.requireColumns(AGGREGATE_COLUMNS, c => column(c) >= 0, headerLine)
      const fields = ['group', 'metric', 'count', 'successes', 'sum', 'sum_squares']
      return this.textRows(row => {
        const { cells, cols } = splitCsv(row)
        const values: Record<string, string | undefined> = {}
        for (const name of fields) {
          const i = column(name)
          if (i >= 0) values[name] = cells[i]
        }
        this.aggregateRow(values, this.lineNumber, name => {
          const i = column(name)
          return i >= 0 ? cols[i] : undefined
        })
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
   * their field is scanned, the user id is hashed while it is skipped, and a row allocates
   * nothing. Unusual rows (quoted fields, numbers with exponents, values that misfit a declared
   * kind, bad values) take the general path: decoded and split as RFC 4180 text, which also
   * finds the column of any error.
   */
  private perUserRows(roles: number[]): (bytes: Buffer, start: number, end: number) => void {
    const width = roles.length
    const groupBytes = this.shape.groups.map(g => Buffer.from(g))
    const groupCount = groupBytes.length
    const metricCount = this.shape.metrics.length
    const values = new Float64Array(metricCount)
    // seenOn[m] === line number: metric m has a value on this line (no per-row reset needed).
    const seenOn = new Float64Array(metricCount)
    const { count, shift, shiftedSum, shiftedSquares, users, declared } = this
    const hash: UserHash = { a: 0, b: 0 }
    const general = (bytes: Buffer, lineStart: number, n: number): number => {
      const eol = bytes.indexOf(10, lineStart)
      const { cells, cols } = splitCsv(
        bytes.toString('utf8', lineStart, lineEnd(bytes, lineStart, eol))
      )
      if (cells.length !== width) this.wrongWidth(n, width, cells.length)
      this.userRow(
        n,
        cells.map((cell, c) => [roles[c]!, cell, cols[c]!])
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
        let userCol = 0
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
              const value = negative ? -magnitude : magnitude
              const kind = declared[role]
              if (
                (kind === 1 && value !== 0 && value !== 1) ||
                (kind === 3 && (negative || divisor !== 1))
              ) {
                i = general(bytes, lineStart, n)
                continue rows
              }
              values[role] = value
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
          } else if (role === USER) {
            if (byte === 44 || byte === 10 || byte === 13) {
              i = general(bytes, lineStart, n)
              continue rows
            }
            userCol = i - lineStart + 1
            let a = HASH_SEED_A
            let b = HASH_SEED_B
            while (byte !== 44 && byte !== 10 && byte !== 13) {
              a = hashStepA(a, byte)
              b = hashStepB(b, byte)
              byte = bytes[++i]!
            }
            if (byte === 13) {
              byte = bytes[++i]!
              if (byte !== 10) {
                i = general(bytes, lineStart, n)
                continue rows
              }
            }
            hash.a = a
            hash.b = b
          } else {
            while (byte !== 44 && byte !== 10) byte = bytes[++i]!
          }
          i++
          if (byte === 10) {
            if (field !== width - 1) this.wrongWidth(n, width, field + 1)
            break
          }
        }
        const before = this.seeUser(hash, g)
        if (before !== -1) {
          const eol = bytes.indexOf(10, lineStart)
          const text = bytes.toString('utf8', lineStart, lineEnd(bytes, lineStart, eol))
          this.repeatedUser(splitCsv(text).cells[roles.indexOf(USER)]!, g, before, n, userCol)
        }
        users[g]! += 1
        for (let m = 0; m < metricCount; m++) {
          if (seenOn[m] !== n) continue
          const value = values[m]!
          const cell = m * groupCount + g
          if (count[cell] === 0) shift[cell] = value
          const deviation = value - shift[cell]!
          count[cell]! += 1
          shiftedSum[cell]! += deviation
          shiftedSquares[cell]! += deviation * deviation
          if (value !== 0 && value !== 1) this.countNonBinary(m, n)
        }
      }
      this.lineNumber = n
    }
  }

  private wrongWidth(lineNumber: number, expected: number, found: number): never {
    return this.fail(lineNumber, `expected ${expected} fields as in the header, found ${found}`)
  }

  /** A per-user row as (column role, text, column) triples: the general path. */
  private userRow(lineNumber: number, cells: Array<[number, string, number]>): void {
    let g = -1
    let user: [string, number] | undefined
    for (const [role, text, col] of cells) {
      if (role === GROUP) g = this.group(text, lineNumber, col)
      if (role === USER) {
        if (text === '') this.fail(lineNumber, 'empty user_id', undefined, col)
        user = [text, col]
      }
    }
    const values: Array<[number, number, number]> = []
    for (const [role, text, col] of cells) {
      if (role < 0 || text === '') continue
      const value = parseNumber(text)
      if (Number.isNaN(value)) this.notANumber(lineNumber, role, text, col)
      const misfit = this.misfit(role, value)
      if (misfit)
        this.fail(lineNumber, misfit, 'fix the value or the metric_kinds declaration', col)
      values.push([role, value, col])
    }
    const before = this.seeUser(hashString(user![0]), g)
    if (before !== -1) this.repeatedUser(user![0], g, before, lineNumber, user![1])
    this.users[g]! += 1
    for (const [m, value, col] of values) this.observe(m, g, value, lineNumber, col)
  }

  private notANumber(lineNumber: number, m: number, text: string, col?: number): never {
    return this.fail(
      lineNumber,
      `${this.shape.metrics[m]}: '${text}' is not a number`,
      'metric values are decimal numbers, true/false, or empty for no value',
      col
    )
  }

  ndjsonFirst(line: string, lineNumber: number): (line: string, lineNumber: number) => void {
    this.sawHeader = true
    const first = this.parseObject(line, lineNumber)
    this.aggregate = !('user_id' in first) && 'metric' in first
    const required = this.aggregate
      ? AGGREGATE_COLUMNS
      : [...PER_USER_COLUMNS, ...this.shape.metrics]
    const handle = (row: Record<string, unknown>, text: string, n: number): void => {
      this.requireColumns(required, c => c in row, n)
      const col = (key: string): number | undefined => keyColumn(text, key)
      if (this.aggregate) {
        this.aggregateRow(row, n, col)
        return
      }
      if (row.user_id === '' || row.user_id === null) {
        this.fail(n, 'empty user_id', undefined, col('user_id'))
      }
      const g = this.group(String(row.group), n, col('group'))
      const values: Array<[number, number]> = []
      this.shape.metrics.forEach((metric, m) => {
        const value = row[metric]
        if (value === null || value === '') return
        let parsed: number
        if (typeof value === 'boolean') parsed = value ? 1 : 0
        else if (typeof value === 'number' && Number.isFinite(value)) parsed = value
        else if (typeof value === 'string') parsed = parseNumber(value)
        else parsed = NaN
        if (Number.isNaN(parsed)) {
          this.notANumber(
            n,
            m,
            typeof value === 'string' ? value : JSON.stringify(value),
            col(metric)
          )
        }
        const misfit = this.misfit(m, parsed)
        if (misfit) {
          this.fail(n, misfit, 'fix the value or the metric_kinds declaration', col(metric))
        }
        values.push([m, parsed])
      })
      const id = String(row.user_id)
      const before = this.seeUser(hashString(id), g)
      if (before !== -1) this.repeatedUser(id, g, before, n, col('user_id') ?? 1)
      this.users[g]! += 1
      for (const [m, value] of values) this.observe(m, g, value, n, col(this.shape.metrics[m]!))
    }
    handle(first, line, lineNumber)
    return (text, n) => handle(this.parseObject(text, n), text, n)
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

  /**
   * One aggregate row, merged into its cell: rates add counts and successes; means merge
   * (count, mean, Σ(x − mean)²) into the cell's shifted sums, so rows add up without cancelling.
   */
  private aggregateRow(
    row: Record<string, unknown>,
    n: number,
    col: (name: string) => number | undefined
  ): void {
    const g = this.group(String(row.group), n, col('group'))
    const metric = String(row.metric)
    const m = this.metricIndex.get(metric)
    if (m === undefined) return
    const number = (name: string): number | undefined => {
      const value = row[name]
      if (value === undefined || value === null || value === '') return undefined
      const parsed = typeof value === 'number' ? value : parseNumber(String(value))
      if (!Number.isFinite(parsed)) {
        this.fail(
          n,
          `${name}: '${String(value)}' is not a number`,
          'aggregate cells are decimal numbers, or empty when the column does not apply',
          col(name)
        )
      }
      return parsed
    }
    const count = number('count')
    if (count === undefined || !Number.isInteger(count) || count < 0) {
      this.fail(
        n,
        `count must be a whole number of 0 or more, not '${String(row.count)}'`,
        undefined,
        col('count')
      )
    }
    const successes = number('successes')
    const sum = number('sum')
    const sumSquares = number('sum_squares')
    const isRate = successes !== undefined
    const kind = this.declared[m]
    if (kind === 1 && !isRate) {
      this.fail(
        n,
        `${metric} is declared a rate: give successes, not sum and sum_squares`,
        undefined,
        col('successes')
      )
    }
    if ((kind === 2 || kind === 3) && isRate) {
      this.fail(
        n,
        `${metric} is declared a ${kind === 2 ? 'mean' : 'count'}: give sum and sum_squares, not successes`,
        undefined,
        col('successes')
      )
    }
    if (isRate) {
      if (successes < 0 || successes > count || !Number.isInteger(successes)) {
        this.fail(
          n,
          `successes must be a whole number from 0 to count (${count}), not ${successes}`,
          undefined,
          col('successes')
        )
      }
    } else if (sum === undefined || sumSquares === undefined || sumSquares < 0) {
      this.fail(
        n,
        `${metric}: give either successes, or sum and a non-negative sum_squares`,
        'rates need successes; means need sum and sum_squares',
        col(sum === undefined ? 'sum' : 'sum_squares')
      )
    }
    if (this.declaredRate[m] !== -1 && this.declaredRate[m] !== (isRate ? 1 : 0)) {
      this.fail(n, `${metric} is a rate in one row and a mean in another`)
    }
    this.declaredRate[m] = isRate ? 1 : 0
    const cell = m * this.shape.groups.length + g
    if (isRate) {
      this.count[cell]! += count
      this.shiftedSum[cell]! += successes
      return
    }
    if (count === 0) {
      if (sum !== 0 || sumSquares !== 0) {
        this.fail(
          n,
          `${metric}: count 0 with a sum of ${sum} and sum_squares of ${sumSquares}`,
          'a row without observations sums to 0',
          col('count')
        )
      }
      return
    }
    const rowMean = sum! / count
    const floor = (sum! * sum!) / count
    // Rounding may leave a constant metric's sum of squares a few ulps below sum²/count.
    if (sumSquares! < floor * (1 - 1e-9)) {
      this.fail(
        n,
        `${metric}: sum_squares ${sumSquares} is below sum²/count = ${floor}, impossible for real values`,
        'sum_squares is the sum of each value squared, not the square of the sum',
        col('sum_squares')
      )
    }
    const deviations = Math.max(0, sumSquares! - floor)
    if (
      sumSquares! > CANCELLATION_WARNING * deviations &&
      !(deviations === 0 && Number.isSafeInteger(sumSquares))
    ) {
      this.warnings.push(
        `${metric}: the sums in group ${this.shape.groups[g]} cannot carry its variance (line ${n}: sum_squares is ${(sumSquares! / deviations).toPrecision(2)} times the squared deviations, so most of a double's 16 digits cancel); export per-user rows, or sums of values minus a constant near their mean`
      )
    }
    if (this.count[cell] === 0) this.shift[cell] = rowMean
    const offset = rowMean - this.shift[cell]!
    this.count[cell]! += count
    this.shiftedSum[cell]! += count * offset
    this.shiftedSquares[cell]! += deviations + count * offset * offset
  }

  result(): ExperimentData {
    const groups = this.shape.groups
    const users: Record<string, number> = {}
    const metrics: Record<string, Record<string, GroupStatistic>> = {}
    const warnings = [...this.warnings]
    this.shape.metrics.forEach((metric, m) => {
      const cells = groups.map((_, g) => m * groups.length + g)
      const declared = this.declared[m]!
      const isRate = declared
        ? declared === 1
        : this.declaredRate[m] === 1 || (this.declaredRate[m] === -1 && this.nonBinary[m] === 0)
      const values = cells.reduce((sum, c) => sum + this.count[c]!, 0)
      if (
        !declared &&
        this.declaredRate[m] === -1 &&
        this.nonBinary[m]! > 0 &&
        this.nonBinary[m]! <= values / 10
      ) {
        warnings.push(
          `${metric}: read as a mean because ${this.nonBinary[m]} of ${values} values ${this.nonBinary[m] === 1 ? 'is' : 'are'} not 0 or 1 (first on line ${this.firstNonBinary[m]}); declare its kind (metric_kinds) to make such values errors`
        )
      }
      const byGroup: Record<string, GroupStatistic> = {}
      groups.forEach((group, g) => {
        const c = cells[g]!
        const count = this.count[c]!
        if (count === 0) return
        const shiftedSum = this.shiftedSum[c]!
        const sum = this.shift[c]! * count + shiftedSum
        if (isRate) {
          byGroup[group] = { kind: 'rate', count, successes: sum }
          return
        }
        const squaredDeviations = Math.max(
          0,
          this.shiftedSquares[c]! - (shiftedSum * shiftedSum) / count
        )
        byGroup[group] = {
          kind: 'mean',
          count,
          sum,
          sumSquares: squaredDeviations + (sum * sum) / count,
          squaredDeviations
        }
      })
      metrics[metric] = byGroup
    })
    groups.forEach((group, g) => {
      users[group] = this.aggregate
        ? Math.max(0, ...this.shape.metrics.map((_, m) => this.count[m * groups.length + g]!))
        : this.users[g]!
    })
    return { users, metrics, ...(warnings.length > 0 ? { warnings } : {}) }
  }
}

/** Two 32-bit hashes of a user id's UTF-8 bytes: a 64-bit fingerprint for UserSet. */
interface UserHash {
  a: number
  b: number
}

const HASH_SEED_A = 0x811c9dc5
const HASH_SEED_B = 0x9747b28c

/** FNV-1a. */
function hashStepA(hash: number, byte: number): number {
  return Math.imul(hash ^ byte, 0x01000193)
}

/** A multiply-xorshift step with MurmurHash2's constant: independent of FNV-1a. */
function hashStepB(hash: number, byte: number): number {
  const h = Math.imul(hash ^ byte, 0x5bd1e995)
  return h ^ (h >>> 13)
}

function hashString(id: string): UserHash {
  const bytes = Buffer.from(id)
  let a = HASH_SEED_A
  let b = HASH_SEED_B
  for (const byte of bytes) {
    a = hashStepA(a, byte)
    b = hashStepB(b, byte)
  }
  return { a, b }
}

/** MurmurHash3's finaliser: spreads every input bit over the result. */
function mix(h: number): number {
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b)
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35)
  return h ^ (h >>> 16)
}

/**
 * The users seen so far, as 64-bit fingerprints of their ids with their group: 9 bytes a slot,
 * open addressing at most 3/4 full, so 10 million users take 2^24 slots (150 MB). Memory grows
 * with distinct users, the price of telling a repeated user from a new one. Two different ids
 * share a fingerprint with probability about users² / 2^65 (3e-6 at 10 million).
 */
class UserSet {
  /** Slot i's fingerprint at 2i and 2i + 1 (one cache line per probe); 0 at 2i + 1: empty. */
  private keys = new Int32Array(2 << 10)
  private groups = new Uint8Array(1 << 10)
  private mask = (1 << 10) - 1
  private size = 0

  /** Adds a user of group g; returns -1, or the group it was already seen in. */
  add(a: number, b: number, g: number): number {
    const keyA = mix(a)
    // The low bit marks a used slot.
    const keyB = mix(b ^ 0x5f3759df) | 1
    const { keys, mask } = this
    for (let slot = keyA & mask; ; slot = (slot + 1) & mask) {
      const stored = keys[2 * slot + 1]!
      if (stored === 0) {
        keys[2 * slot] = keyA
        keys[2 * slot + 1] = keyB
        this.groups[slot] = g
        if (++this.size * 4 > mask * 3) this.grow()
        return -1
      }
      if (stored === keyB && keys[2 * slot] === keyA) return this.groups[slot]!
    }
  }

  private grow(): void {
    const { keys, groups } = this
    const capacity = (this.mask + 1) * 2
    const mask = capacity - 1
    const next = new Int32Array(2 * capacity)
    const nextGroups = new Uint8Array(capacity)
    for (let i = 0; i <= this.mask; i++) {
      const keyB = keys[2 * i + 1]!
      if (keyB === 0) continue
      let slot = keys[2 * i]! & mask
      while (next[2 * slot + 1] !== 0) slot = (slot + 1) & mask
      next[2 * slot] = keys[2 * i]!
      next[2 * slot + 1] = keyB
      nextGroups[slot] = groups[i]!
    }
    this.keys = next
    this.groups = nextGroups
    this.mask = mask
  }
}

/**
 * A user id seen twice; readResults turns it into the PhasegateError it reports, naming the
 * first line too. A PhasegateError itself so the line reader passes it through unwrapped.
 */
class RepeatedUser extends PhasegateError {
  constructor(
    readonly id: string,
    readonly line: number,
    readonly col: number,
    readonly group: string,
    readonly firstGroup: string
  ) {
    super(`user '${id}' repeated`)
  }
}

/** Finds the line where a repeated user first appeared (a second read, only on this error). */
async function repeatedUserError(
  path: string,
  ndjson: boolean,
  repeat: RepeatedUser
): Promise<PhasegateError> {
  let first: number | undefined
  let userColumn = -1
  await forEachLine(path, (line, lineNumber) => {
    if (first !== undefined || lineNumber >= repeat.line) return
    if (ndjson) {
      try {
        const row = JSON.parse(line) as Record<string, unknown>
        if (String(row.user_id) === repeat.id) first = lineNumber
      } catch {
        // Lines before the repeat parsed once already; nothing else can be here.
      }
      return
    }
    const { cells } = splitCsv(line)
    if (userColumn === -1) userColumn = cells.map(c => c.trim()).indexOf('user_id')
    else if (cells[userColumn] === repeat.id) first = lineNumber
  })
  const where = first !== undefined ? ` on line ${first}` : ''
  const message =
    repeat.group === repeat.firstGroup
      ? `user '${repeat.id}' appears again (first${where})`
      : `user '${repeat.id}' is in ${repeat.group} here and in ${repeat.firstGroup}${where}`
  return new PhasegateError(message, {
    location: { file: path, line: repeat.line, col: repeat.col },
    hint:
      repeat.group === repeat.firstGroup
        ? 'a per-user file has one row per user; aggregate repeated rows before exporting'
        : 'a user belongs to one group; check assignment and logging (exposures after a reassignment?)'
  })
}

/** Where `"key"` starts in an NDJSON line (1-based), to locate an error in it. */
function keyColumn(line: string, key: string): number | undefined {
  const at = line.indexOf(JSON.stringify(key))
  return at >= 0 ? at + 1 : undefined
}

/** Decimal numbers only: no hex, binary, octal, `Infinity`, blanks or underscores. */
const DECIMAL = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/

/**
 * The number in bytes[start, end), or NaN. Plain decimals of up to 15 digits are read by hand,
 * exactly as Number() would (digits / 10^k is one correctly rounded division); other decimals
 * (exponents, longer numbers) go through Number(), and true/false are 1/0.
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
  if (!DECIMAL.test(field)) return NaN
  const parsed = Number(field)
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

/**
 * One CSV record (RFC 4180 quoting: "a,b" and doubled quotes), without a line break in it: its
 * cells and the 1-based column where each starts.
 */
function splitCsv(line: string): { cells: string[]; cols: number[] } {
  const cells: string[] = []
  const cols: number[] = [1]
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
      cols.push(i + 2)
      cell = ''
    } else cell += ch
  }
  cells.push(cell)
  return { cells, cols }
}
