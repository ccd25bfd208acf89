/** "3h 5m", "2d 4h", "40s": a span of time for people, two units at most. */
export function formatSpan(ms: number): string {
  const units: Array<[string, number]> = [
    ['d', 86_400_000],
    ['h', 3_600_000],
    ['m', 60_000],
    ['s', 1000]
  ]
  if (ms < 1000) return `${Math.max(0, Math.round(ms))}ms`
  const parts: string[] = []
  let rest = ms
  for (const [unit, size] of units) {
    if (rest >= size && parts.length < 2) {
      parts.push(`${Math.floor(rest / size)}${unit}`)
      rest %= size
    } else if (parts.length > 0) {
      break
    }
  }
  return parts.join(' ')
}
