import type { Comparator, Threshold } from '../engine/types.js'

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

/** "24h" -> 86400000. A bare number is not accepted: a unit says what was meant. */
export function parseDuration(input: unknown): Parsed<number> {
  const hint = 'write a number with a unit: 500ms, 30s, 10m, 24h, 30d or 2w'
  if (typeof input !== 'string')
    return { ok: false, error: `expected a duration, got ${describe(input)}`, hint }
  const match = DURATION_RE.exec(input.trim())
  if (!match) return { ok: false, error: `"${input}" is not a duration`, hint }
  return { ok: true, value: Number(match[1]) * DURATION_UNITS[match[2]!]! }
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

/** "< 0.01" -> { op: '<', value: 0.01 }. A bare number means "at most" (<=), as a limit usually does. */
export function parseThreshold(input: unknown): Parsed<Threshold> {
  const hint = 'write a comparison such as "< 0.01" or "> 0.95" (quote values that start with ">")'
  if (typeof input === 'number') {
    if (!Number.isFinite(input))
      return { ok: false, error: `${input} is not a finite threshold`, hint }
    return { ok: true, value: { op: '<=', value: input, source: `<= ${input}` } }
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
    const plain = parseQuantity(trimmed)
    if (plain.ok)
      return { ok: true, value: { op: '<=', value: plain.value, source: `<= ${trimmed}` } }
    return { ok: false, error: `"${input}" is not a threshold`, hint }
  }
  const value = parseQuantity(match[2])
  if (!value.ok) return { ok: false, error: `"${input}" is not a threshold: ${value.error}`, hint }
  return { ok: true, value: { op: match[1] as Comparator, value: value.value, source: trimmed } }
}

function describe(input: unknown): string {
  if (input === null) return 'null'
  if (Array.isArray(input)) return 'a list'
  if (typeof input === 'object') return 'a mapping'
  return `${typeof input} ${JSON.stringify(input)}`
}
