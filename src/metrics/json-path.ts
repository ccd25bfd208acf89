// A small JSON path: `$`, then `.name`, `['any name']` or `[index]` steps, where a negative index
// counts from the end (`[-1]` is the last point of a time series). Enough to pick one number out of
// Datadog's, New Relic's or any JSON answer, without a query language of its own.

export type PathStep = string | number

const STEP =
  /^(?:\.([A-Za-z_$][\w$-]*)|\[(-?\d+)\]|\['((?:[^'\\]|\\.)*)'\]|\["((?:[^"\\]|\\.)*)"\])/

/** Parses a path, or returns why it is not one. */
export function parseJsonPath(path: string): { steps: PathStep[] } | { error: string } {
  if (!path.startsWith('$')) return { error: `JSON path "${path}" must start with $` }
  const steps: PathStep[] = []
  let rest = path.slice(1)
  while (rest.length > 0) {
    const match = STEP.exec(rest)
    if (!match) return { error: `JSON path "${path}" is not understood at "${rest}"` }
    if (match[1] !== undefined) steps.push(match[1])
    else if (match[2] !== undefined) steps.push(Number(match[2]))
    else steps.push((match[3] ?? match[4]!).replace(/\\(.)/g, '$1'))
    rest = rest.slice(match[0].length)
  }
  return { steps }
}

/** Follows the steps; `found: false` says which step found nothing. */
export function followJsonPath(
  json: unknown,
  steps: PathStep[]
): { found: true; value: unknown } | { found: false; reason: string } {
  let current = json
  let walked = '$'
  for (const step of steps) {
    if (typeof step === 'number') {
      if (!Array.isArray(current))
        return { found: false, reason: `${walked} is ${kind(current)}, not a list` }
      const index = step < 0 ? current.length + step : step
      if (index < 0 || index >= current.length)
        return { found: false, reason: `${walked} has ${current.length} items, no [${step}]` }
      current = current[index]
      walked += `[${step}]`
    } else {
      if (current === null || typeof current !== 'object' || Array.isArray(current))
        return { found: false, reason: `${walked} is ${kind(current)}, not an object` }
      if (!Object.hasOwn(current, step))
        return { found: false, reason: `${walked} has no "${step}"` }
      current = (current as Record<string, unknown>)[step]
      walked += `.${step}`
    }
  }
  return { found: true, value: current }
}

function kind(value: unknown): string {
  if (value === null) return 'null'
  if (Array.isArray(value)) return 'a list'
  return typeof value === 'object' ? 'an object' : `a ${typeof value}`
}
