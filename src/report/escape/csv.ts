// CSV that phasegate writes (`assign`, the dashboard's audit trail). RFC 4180 quoting keeps each
// value exact, so ids join back to the tables they came from. A spreadsheet, though, runs a cell
// that starts with `=`, `+`, `-` or `@` (or a tab or carriage return before one) as a formula:
// output meant for one is written with such cells made text.

/** What CSV is for: exact values (joins, scripts) or a spreadsheet (formulas neutralised). */
export type CsvFor = 'data' | 'spreadsheet'

const FORMULA = /^[=+\-@\t\r]/

/**
 * One CSV field: quoted (with `"` doubled) when it holds `"`, `,`, CR or LF, per RFC 4180.
 * `for: 'spreadsheet'` also  prefixes `'` to a value a spreadsheet would run as a formula;
 * the value then differs from the input by that one character.
 */
export function csvField(value: string | number, target: CsvFor = 'data'): string {
  let text = String(value)
  if (target === 'spreadsheet' && FORMULA.test(text)) text = `'${text}`
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text
}

/** One CSV record (no line ending). */
export function csvRow(values: Array<string | number>, target: CsvFor = 'data'): string {
  return values.map(v => csvField(v, target)).join(',')
}
