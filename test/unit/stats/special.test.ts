import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { chiSquareSf, normalSf, studentTSf } from '../../../src/stats/special.js'

const reference = JSON.parse(
  readFileSync(new URL('../../fixtures/stats/reference.json', import.meta.url), 'utf8')
)

function relativeError(actual: number, expected: number): number {
  return Math.abs(actual - expected) / Math.abs(expected)
}

describe('far tails against scipy.stats', () => {
  it.each(reference.tails.normalSf as Array<{ z: number; sf: number }>)(
    'normal tail beyond z = $z',
    ({ z, sf }) => {
      expect(relativeError(normalSf(z), sf)).toBeLessThan(1e-12)
    }
  )

  it.each(reference.tails.studentTSf as Array<{ t: number; df: number; sf: number }>)(
    "Student's t tail beyond t = $t with $df degrees of freedom",
    ({ t, df, sf }) => {
      expect(relativeError(studentTSf(t, df), sf)).toBeLessThan(1e-9)
    }
  )

  it.each(reference.tails.chiSquareSf as Array<{ x: number; k: number; sf: number }>)(
    'chi-square tail beyond $x with $k degrees of freedom',
    ({ x, k, sf }) => {
      expect(relativeError(chiSquareSf(x, k), sf)).toBeLessThan(1e-12)
    }
  )
})
