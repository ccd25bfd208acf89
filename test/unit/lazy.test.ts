import { describe, expect, it } from 'vitest'
import { lazy } from '../../src/lazy.js'

describe('lazy', () => {
  it('builds nothing until the first call, then the same value every call', () => {
    let builds = 0
    const value = lazy(() => ({ built: ++builds }))
    expect(builds).toBe(0)
    const first = value()
    expect(value()).toBe(first)
    expect(builds).toBe(1)
  })

  it('remembers an undefined value too', () => {
    let builds = 0
    const value = lazy(() => {
      builds++
      return undefined
    })
    expect(value()).toBeUndefined()
    expect(value()).toBeUndefined()
    expect(builds).toBe(1)
  })
})
