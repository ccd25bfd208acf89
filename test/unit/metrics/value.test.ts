import { describe, expect, it } from 'vitest'
import { finiteNumber, numberedSeries, outOfOrder } from '../../../src/metrics/value.js'
import { followJsonPath, parseJsonPath } from '../../../src/metrics/json-path.js'

describe('finiteNumber', () => {
  it('accepts one finite number, as a JSON number or a Prometheus sample string', () => {
    expect(finiteNumber(0.004)).toEqual({ value: 0.004 })
    expect(finiteNumber('0.004')).toEqual({ value: 0.004 })
    expect(finiteNumber('1e-3')).toEqual({ value: 0.001 })
  })

  it('gives a reason for NaN, infinities, lists, nulls and text', () => {
    expect(finiteNumber('NaN')).toEqual({ reason: 'the value is NaN' })
    expect(finiteNumber(Number.NaN)).toEqual({ reason: 'the value is NaN' })
    expect(finiteNumber('+Inf')).toEqual({ reason: 'the value is +Inf' })
    expect(finiteNumber('-Inf')).toEqual({ reason: 'the value is -Inf' })
    expect(finiteNumber([1, 2])).toEqual({ reason: 'several values (2) where one is expected' })
    expect(finiteNumber(null)).toEqual({ reason: 'the value is null' })
    expect(finiteNumber('fast')).toEqual({ reason: 'the value "fast" is not a number' })
    expect(finiteNumber('')).toEqual({ reason: 'the value "" is not a number' })
    expect(finiteNumber(true)).toEqual({ reason: 'the value true is not a number' })
  })
})

describe('JSON paths', () => {
  const answer = {
    series: [
      {
        pointlist: [
          [1000, 0.1],
          [2000, 0.2]
        ]
      }
    ],
    data: { 'odd key': { value: 3 } }
  }
  const at = (path: string) => {
    const parsed = parseJsonPath(path)
    if (!('steps' in parsed)) throw new Error(parsed.error)
    return followJsonPath(answer, parsed.steps)
  }

  it('follows names, indexes, negative indexes and quoted keys', () => {
    expect(at('$.series[0].pointlist[-1][1]')).toEqual({ found: true, value: 0.2 })
    expect(at("$.data['odd key'].value")).toEqual({ found: true, value: 3 })
    expect(at('$["data"]["odd key"]')).toEqual({ found: true, value: { value: 3 } })
  })

  it('says where the path found nothing', () => {
    expect(at('$.series[3]')).toEqual({ found: false, reason: '$.series has 1 items, no [3]' })
    expect(at('$.data.missing')).toEqual({ found: false, reason: '$.data has no "missing"' })
    expect(at('$.series.name')).toEqual({
      found: false,
      reason: '$.series is a list, not an object'
    })
  })

  it('rejects what it does not understand', () => {
    expect(parseJsonPath('series[0]')).toEqual({ error: 'JSON path "series[0]" must start with $' })
    expect(parseJsonPath('$.a[*]')).toEqual({
      error: 'JSON path "$.a[*]" is not understood at "[*]"'
    })
  })
})

describe('range data from a source', () => {
  it('numberedSeries keeps each non-number as written, with why, and makes it a gap', () => {
    const { series, discarded } = numberedSeries([
      [60, '0.5'],
      [120, 'NaN'],
      [180, 'oops'],
      [240, 0.4]
    ])
    expect(series[0]).toEqual([60, 0.5])
    expect(Number.isNaN(series[1]![1])).toBe(true)
    expect(discarded.discarded).toEqual([
      { at: 120, written: 'NaN', why: 'the value is NaN' },
      { at: 180, written: 'oops', why: 'the value "oops" is not a number' }
    ])
    expect(numberedSeries([[60, 1]]).discarded).toEqual({})
  })

  it('outOfOrder names the first point that is not strictly after the one before it', () => {
    expect(outOfOrder([60, 120, 180])).toBeUndefined()
    expect(outOfOrder([1772442600, 1772442000])).toEqual({
      index: 1,
      reason:
        'series points must be oldest first; 2026-03-02T09:00:00.000Z comes after 2026-03-02T09:10:00.000Z'
    })
    expect(outOfOrder([60, 60])?.reason).toMatch(/two points at the same time/)
  })
})
