// Who a policy names (issue 10, kind 6): rollback.operators and approvers are GitHub logins or
// "@org/team". Anything else would validate and then match nobody, so the emergency lever would
// fail only during an incident: it is a located error with a hint instead.

import { describe, expect, test } from 'vitest'
import { PhasegateError } from '../../../src/errors.js'
import { parsePolicyText } from '../../../src/policy/load.js'

const policyWith = (operators: string, approvers = '[alice]') => `feature: checkout
deployment:
  order: [canary, full]
  phases:
    canary:
      approvers: ${approvers}
    full: {}
rollback:
  operators: ${operators}
`

function errorOf(text: string): PhasegateError {
  try {
    parsePolicyText(text, 'policies/checkout.yaml')
  } catch (error) {
    if (error instanceof PhasegateError) return error
    throw error
  }
  throw new Error('the policy was accepted')
}

describe('rollback.operators', () => {
  test.each([
    '"@sre"',
    '"@alice"',
    '"alice smith"',
    '"-alice"',
    '"@acme/"',
    '"acme/sre"',
    '"@acme/sre/x"'
  ])('%s is refused where it is written, with a hint', entry => {
    const error = errorOf(policyWith(`[bob, ${entry}]`))
    expect(error.location).toMatchObject({ file: 'policies/checkout.yaml', line: 9 })
    expect(error.format()).toContain('a GitHub login')
    expect(error.hint).toMatch(/@org\/team/)
  })

  test.each(['alice', 'Alice-2', '"@acme/sre"', '"@acme/site-reliability.eng"', 'dependabot'])(
    '%s is accepted',
    entry => {
      expect(() => parsePolicyText(policyWith(`[${entry}]`), 'p.yaml')).not.toThrow()
    }
  )
})

describe('approvers', () => {
  test('"@sre" is refused too: it would match nobody', () => {
    const error = errorOf(policyWith('[alice]', '["@sre"]'))
    expect(error.location).toMatchObject({ line: 6 })
  })
})
