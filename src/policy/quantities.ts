import type { Comparator, Threshold, Trigger } from '../engine/types.js'

// The seed writes quantities as short strings: "< 0.01", "> 0.95", 5000ms, 24h, 30d, null.
// Each parser returns an error message (not an exception) so the loader can attach file:line:col.

export type Parsed<T> = { ok: true; value: T } | { ok: false; error: string; hint: string }

const DURATION_UNITS: Record<string, number> = {
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
  w: 604_800_000
}

const DURATION_RE = /^(\d+(?:\.\d+)?)\s*(ms|s|m|h|d|w)$/

/** A duration as the policy wrote it ("24h") and in milliseconds, for evidence that quotes it. */
export interface Duration {
  ms: number
  source: string
}

/** "24h" -> { ms: 86400000, source: "24h" }. */
export function parseDurationText(input: unknown): Parsed<Duration> {
  const parsed = parseDuration(input)
  return parsed.ok
    ? { ok: true, value: { ms: parsed.value, source: String(input).trim() } }
    : parsed
}

/** "24h" -> 86400000. A bare number is not accepted: a unit says what was meant. */
export function parseDuration(input: unknown): Parsed<number> {
  const hint = 'write a number with a unit: 500ms, 30s, 10m, 24h, 30d or 2w'
  if (typeof input !== 'string')
    return { ok: false, error: `expected a duration, got ${describe(input)}`, hint }
  const match = DURATION_RE.exec(input.trim())
  if (!match) return { ok: false, error: `"${input}" is not a duration`, hint }
  return { ok: true, value: Number(match[1]) * DURATION_UNITS[match[2]!]! }
}

/** A value as written: a bare number, or a time (`unit: 'ms'`, `value` in milliseconds). */
export interface Measure {
  value: number
  unit?: 'ms'
  /** As written, for messages: "5000ms", "0.02". */
  source: string
}

/** 0.02 -> { value: 0.02 }; "5s" -> { value: 5000, unit: 'ms' }: whether a unit was written. */
export function parseMeasure(input: unknown): Parsed<Measure> {
  const parsed = parseQuantity(input)
  if (!parsed.ok) return parsed
  const source = String(input).trim()
  return {
    ok: true,
    value: DURATION_RE.test(source)
      ? { value: parsed.value, unit: 'ms', source }
      : { value: parsed.value, source }
  }
}

/** A measured value: a number, or a number with a time unit ("5000ms", "5s") read as milliseconds. */
export function parseQuantity(input: unknown): Parsed<number> {
  const hint = 'write a number (0.02) or a time with a unit (5000ms, 5s)'
  if (typeof input === 'number') {
    return Number.isFinite(input)
      ? { ok: true, value: input }
      : { ok: false, error: `${input} is not a finite number`, hint }
  }
  if (typeof input === 'string') {
    const trimmed = input.trim()
    if (/^[-+]?(\d+(\.\d*)?|\.\d+)(e[-+]?\d+)?$/i.test(trimmed)) {
      const value = Number(trimmed)
      return Number.isFinite(value)
        ? { ok: true, value }
        : { ok: false, error: `"${input}" is too large to be a number`, hint }
    }
    const duration = parseDuration(trimmed)
    if (duration.ok) return duration
    return { ok: false, error: `"${input}" is not a number`, hint }
  }
  return { ok: false, error: `expected a number, got ${describe(input)}`, hint }
}

const THRESHOLD_RE = /^(<=|>=|==|<|>)\s*(.+)$/

/**
 * "< 0.01" -> { op: '<', value: 0.01 }. A number without a comparison is refused: `0.95` could be
 * a floor (satisfaction) or a ceiling (error rate), and guessing either way misreads half of them.
 */
export function parseThreshold(input: unknown): Parsed<Threshold> {
  const hint = 'write a comparison such as "< 0.01" or "> 0.95" (quote values that start with ">")'
  if (typeof input === 'number')
    return Number.isFinite(input)
      ? bare(String(input))
      : {
          ok: false,
          error: `${input} is not a finite threshold`,
          hint
        }
  if (typeof input !== 'string')
    return { ok: false, error: `expected a threshold, got ${describe(input)}`, hint }
  const trimmed = input.trim()
  if (trimmed === '') {
    return {
      ok: false,
      error: 'empty threshold',
      hint: 'an unquoted "> 0.95" is a YAML folded scalar; quote it: "> 0.95"'
    }
  }
  const match = THRESHOLD_RE.exec(trimmed)
  if (!match) {
    if (parseQuantity(trimmed).ok) return bare(trimmed)
    return { ok: false, error: `"${input}" is not a threshold`, hint }
  }
  const value = parseMeasure(match[2])
  if (!value.ok) return { ok: false, error: `"${input}" is not a threshold: ${value.error}`, hint }
  const { value: number, unit } = value.value
  return {
    ok: true,
    value: { op: match[1] as Comparator, value: number, source: trimmed, ...(unit ? { unit } : {}) }
  }
}

function bare(text: string): Parsed<never> {
  return {
    ok: false,
    error: `${text} has no comparison: is it the least or the most the metric may be?`,
    hint: `write "> ${text}" when higher is better, or "< ${text}" when lower is better (quoted: an unquoted ">" starts a YAML block)`
  }
}

const TRIGGER_RE = /^([A-Za-z_][A-Za-z0-9_.]*)\s*(<=|>=|==|<|>)\s*(.+)$/

/** "error_rate > 0.02" or "system_failure". */
export function parseTrigger(source: string, forMs = 0): Parsed<Trigger> {
  const text = source.trim()
  if (text === 'system_failure')
    return { ok: true, value: { kind: 'system_failure', source: text } }
  const match = TRIGGER_RE.exec(text)
  if (!match) {
    return {
      ok: false,
      error: `"${source}" is not a rollback trigger`,
      hint: 'write "<metric> > <number>", e.g. "error_rate > 0.02", or "system_failure"'
    }
  }
  const threshold = parseThreshold(`${match[2]} ${match[3]}`)
  if (!threshold.ok) {
    const sustained = /\s+for\s+(\S+)$/.exec(match[3]!)
    return {
      ok: false,
      error: `"${source}": ${threshold.error}`,
      hint: sustained
        ? `write a trigger that must hold for a while as { when: "${match[1]} ${match[2]} ${match[3]!.slice(0, sustained.index)}", for: ${sustained[1]} }`
        : threshold.hint
    }
  }
  return {
    ok: true,
    value: { kind: 'metric', metric: match[1]!, threshold: threshold.value, forMs, source: text }
  }
}

function describe(input: unknown): string {
  if (input === null) return 'null'
  if (Array.isArray(input)) return 'a list'
  if (typeof input === 'object') return 'a mapping'
  return `${typeof input} ${JSON.stringify(input)}`
}
