/**
 * Exactly one finite number, or why the answer is not one. Prometheus writes sample values as
 * strings ("0.004", "NaN", "+Inf"), JSON APIs as numbers; both are accepted.
 */
export function finiteNumber(raw: unknown): { value: number } | { reason: string } {
  if (Array.isArray(raw)) return { reason: `several values (${raw.length}) where one is expected` }
  if (raw === null || raw === undefined) return { reason: 'the value is null' }
  const value =
    typeof raw === 'number' ? raw : typeof raw === 'string' ? parseNumber(raw) : undefined
  if (value === undefined) return { reason: `the value ${JSON.stringify(raw)} is not a number` }
  if (Number.isNaN(value)) return { reason: 'the value is NaN' }
  if (!Number.isFinite(value)) return { reason: `the value is ${value > 0 ? '+Inf' : '-Inf'}` }
  return { value }
}

function parseNumber(text: string): number | undefined {
  const trimmed = text.trim()
  if (/^[+-]?nan$/i.test(trimmed)) return NaN
  if (/^[+-]?inf(inity)?$/i.test(trimmed)) return trimmed.startsWith('-') ? -Infinity : Infinity
  const value = trimmed === '' ? NaN : Number(trimmed)
  return Number.isNaN(value) ? undefined : value
}
