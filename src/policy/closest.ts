// "Did you mean": its own module, so that the CLI's front door (usage errors) does not load the
// policy schema (zod) with normalize.ts.

/**
 * The candidate within edit distance 2 of `word`, or else one that `word` abbreviates
 * ("user_percent" for "user_percentage"), for "did you mean". Never `word` itself.
 */
export function closest(word: string, candidates: string[]): string | undefined {
  let best: string | undefined
  let bestDistance = 3
  for (const candidate of candidates) {
    if (candidate === word) continue
    const d = editDistance(word, candidate)
    // A one- or two-letter word is within distance 2 of every short key: no guess from nothing.
    if (d < bestDistance && d < word.length) {
      best = candidate
      bestDistance = d
    }
  }
  if (best || word.length < 4) return best
  return candidates.find(c => c !== word && c.startsWith(word))
}

function editDistance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, j) => j)
  for (let i = 1; i <= a.length; i++) {
    let previous = row[0]!
    row[0] = i
    for (let j = 1; j <= b.length; j++) {
      const current = row[j]!
      row[j] = Math.min(row[j]! + 1, row[j - 1]! + 1, previous + (a[i - 1] === b[j - 1] ? 0 : 1))
      previous = current
    }
  }
  return row[b.length]!
}
