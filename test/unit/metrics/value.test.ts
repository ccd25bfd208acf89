import { describe, expect, it } from 'vitest'
import { finiteNumber } from '../../../src/metrics/value.js'
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
