import { describe, expect, it } from 'vitest'
import { PhasegateError } from '../../../src/errors.js'
import { checkPlaceholders, quoteRegex, renderPromQL } from '../../../src/metrics/template.js'

const values = { feature: 'checkout', phase: 'canary', group: 'treatment', window: '5m' }

describe('renderPromQL', () => {
  it('fills every placeholder of an ordinary query', () => {
    expect(
      renderPromQL(
        'sum(rate(errors_total{feature="{{feature}}",group="{{ group }}"}[{{window}}]))',
        values
      )
    ).toEqual({
      ok: true,
      text: 'sum(rate(errors_total{feature="checkout",group="treatment"}[5m]))'
    })
  })

  it('escapes quotes, backslashes and newlines inside string literals', () => {
    const rendered = renderPromQL('x{g="{{group}}"} + y{g=\'{{group}}\'}', {
      group: 'a"b\'c\\d\ne'
    })
    expect(rendered).toEqual({
      ok: true,
      text: 'x{g="a\\"b\'c\\\\d\\ne"} + y{g=\'a"b\\\'c\\\\d\\ne\'}'
    })
  })

  it('quotes regex metacharacters after =~ and !~, so a value matches only itself', () => {
    expect(renderPromQL('x{g=~"{{group}}", h!~ "{{group}}"}', { group: 'a.b|c' })).toEqual({
      ok: true,
      text: 'x{g=~"a\\\\.b\\\\|c", h!~ "a\\\\.b\\\\|c"}'
    })
    expect(quoteRegex('(a+)?[b]{2}^$')).toBe('\\(a\\+\\)\\?\\[b\\]\\{2\\}\\^\\$')
  })

  it('keeps a quote that the template itself escapes from ending the string early', () => {
    expect(renderPromQL('x{g="say \\"{{group}}\\""}', { group: 'a"' })).toEqual({
      ok: true,
      text: 'x{g="say \\"a\\"\\""}'
    })
  })

  it('allows only identifiers outside quotes, and only durations for {{window}}', () => {
    expect(renderPromQL('{{feature}}_errors_total[{{window}}]', values)).toEqual({
      ok: true,
      text: 'checkout_errors_total[5m]'
    })
    const refused = renderPromQL('{{feature}}_errors_total', { feature: 'a-b or vector(1)' })
    expect(refused.ok).toBe(false)
    expect((refused as { reason: string }).reason).toMatch(
      /cannot stand outside quotes in PromQL; write it inside a label matcher's quotes/
    )
    expect(renderPromQL('x[{{window}}]', { window: '5m] or vector(1) #' }).ok).toBe(false)
    expect(renderPromQL('x[{{window}}]', { window: '1h30m' })).toEqual({
      ok: true,
      text: 'x[1h30m]'
    })
  })

  it('refuses a backtick inside a raw string, which cannot be escaped', () => {
    expect(renderPromQL('x{g=`{{group}}`}', { group: 'ok' })).toEqual({
      ok: true,
      text: 'x{g=`ok`}'
    })
    expect(renderPromQL('x{g=`{{group}}`}', { group: 'a`} or vector(1)' }).ok).toBe(false)
  })

  it('keeps a value in a comment from starting a new line of query', () => {
    expect(renderPromQL('x # {{group}}', { group: 'a\nor vector(1)' })).toEqual({
      ok: true,
      text: 'x # a or vector(1)'
    })
  })

  it('says which placeholder has no value', () => {
    expect(renderPromQL('x{g="{{group}}"}', {})).toEqual({
      ok: false,
      reason: '{{group}} has no value here'
    })
  })
})

describe('checkPlaceholders', () => {
  it('names the query and the placeholders that exist when one is misspelt', () => {
    expect(() =>
      checkPlaceholders('x{g="{{gruop}}"}', ['feature', 'group'], 'metrics.queries.error_rate')
    ).toThrow(PhasegateError)
    try {
      checkPlaceholders('x{g="{{gruop}}"}', ['feature', 'group'], 'metrics.queries.error_rate')
    } catch (error) {
      expect((error as PhasegateError).format()).toBe(
        'metrics.queries.error_rate uses {{gruop}}, which is not a placeholder (hint: the placeholders are {{feature}}, {{group}})'
      )
    }
  })
})
