import { describe, expect, it } from 'vitest'
import { parseInstant } from '../../../src/engine/time.js'

// A written time means one instant: RFC 3339 with an explicit offset, or it is refused.

const ok = (text: string) => {
  const parsed = parseInstant(text)
  if (!('date' in parsed)) throw new Error(`${text}: ${parsed.reason}`)
  return parsed.date.toISOString()
}
const refused = (text: string) => {
  const parsed = parseInstant(text)
  return 'reason' in parsed ? parsed.reason : `accepted as ${parsed.date.toISOString()}`
}

describe('parseInstant', () => {
  it('reads RFC 3339 times with Z or an offset as the same instant everywhere', () => {
    expect(ok('2026-11-27T09:00:00Z')).toBe('2026-11-27T09:00:00.000Z')
    expect(ok('2026-11-27T10:00:00+01:00')).toBe('2026-11-27T09:00:00.000Z')
    expect(ok('2026-11-27T04:30:00-04:30')).toBe('2026-11-27T09:00:00.000Z')
    expect(ok('2026-11-27t09:00:00.250z')).toBe('2026-11-27T09:00:00.250Z')
    expect(ok('2026-11-27 09:00Z')).toBe('2026-11-27T09:00:00.000Z')
    expect(ok('2028-02-29T00:00:00Z')).toBe('2028-02-29T00:00:00.000Z')
  })

  it('refuses dates that do not exist instead of rolling them over', () => {
    expect(refused('2026-02-30T09:00:00Z')).toBe('2026-02 has no day 30')
    expect(refused('2026-02-29T09:00:00Z')).toBe('2026-02 has no day 29')
    expect(refused('2026-13-01T09:00:00Z')).toBe('month 13 does not exist')
    expect(refused('2026-11-27T24:00:00Z')).toBe('24:00:00 is not a time of day')
    expect(refused('2026-11-27T09:00:00+25:00')).toBe('+25:00 is not an offset')
  })

  it('refuses times without an offset, which would depend on the machine', () => {
    expect(refused('2026-11-27T09:00:00')).toMatch(/no offset/)
    expect(refused('2026-02-30')).toMatch(/no offset/)
    expect(refused('2026-11-27')).toMatch(/no offset/)
  })

  it('refuses what JavaScript would guess at', () => {
    for (const text of ['12', 'tomorrow', 'Fri, 27 Nov 2026 09:00:00 GMT', '1764234000', ''])
      expect(refused(text), text).toBe('it is not a date and time')
  })
})
