import MarkdownIt from 'markdown-it'
import { describe, expect, it } from 'vitest'
import { alertIssueBody, recoveredComment } from '../../../src/action/alerts.js'
import { emergencyIssueBody, rollbackProposalBody } from '../../../src/action/dispatch-rollback.js'
import { decide } from '../../../src/engine/decide.js'
import { markdownCell, markdownText } from '../../../src/report/escape/markdown.js'
import { renderReport } from '../../../src/report/markdown.js'
import { at, HEALTHY, observations, seedPolicy, state } from '../../support/policies.js'

// GitHub turns references in rendered text into links, and a link to an issue or a commit
// elsewhere puts a "mentioned this" event on it (a notification to everyone watching it):
// #123, GH-123, owner/repo#123 and commit SHAs (issue 10, kind 7). Untrusted text must reach
// GitHub unable to form one; phasegate's own references (its run link, its commit) stay.

const md = new MarkdownIt({ html: true, linkify: true })
/** The text GitHub would scan for references: the rendered HTML without tags, entities decoded. */
const visible = (markdown: string) =>
  md
    .render(markdown)
    .replace(/<[^>]*>/g, '')
    .replace(/&amp;/g, '&')
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&quot;/g, '"')

/** The references GitHub autolinks (its own patterns, simplified to be stricter, not looser). */
const REFERENCES = [
  /#\d/, // #123, owner/repo#123
  /\bGH-\d+/i,
  /(?<![\w])[0-9a-f]{7,40}(?![\w])/i // a commit SHA (or a prefix of one)
]
function expectNoReference(text: string): void {
  for (const pattern of REFERENCES) expect(text, `${pattern} in ${text}`).not.toMatch(pattern)
}

const HOSTILE =
  'see #1 and acme/other#42, GH-7 or gh-8, fixed in 4b825dc642cb6eb9a060e54bf8d69288fbee4904 and deadbeef1'

describe('references in untrusted text do not autolink', () => {
  it.each([
    ['#1'],
    ['issue #12345'],
    ['acme/other#42'],
    ['GH-7'],
    ['see gh-8.'],
    ['4b825dc642cb6eb9a060e54bf8d69288fbee4904'],
    ['abcdef0'],
    ['(deadbeef1)'],
    [HOSTILE]
  ])('%s', input => {
    for (const escape of [markdownText, markdownCell]) {
      const shown = visible(escape(input))
      expectNoReference(shown)
      // ... and it still reads as written (the breaks are zero-width).
      expect(shown.replace(/\u200b/g, '').trim()).toBe(input)
    }
  })

  it('numbers, thresholds and words stay as written', () => {
    for (const input of ['0.0123456', '1234567', '< 0.01', 'full_production', 'p = 0.0000001'])
      expect(markdownCell(input)).toBe(markdownCell(input).replace(/&#8203;/g, ''))
  })

  it('in the bodies phasegate writes: alert issue, recovery comment, rollback PR, emergency issue', () => {
    const policy = seedPolicy()
    const decision = decide(
      policy,
      state(policy, 'canary'),
      observations({ ...HEALTHY, error_rate: 0.5 }),
      at(30)
    )
    const alert = { ...decision.alerts[0]!, message: HOSTILE }
    expectNoReference(visible(alertIssueBody(alert, { ...decision, reason: HOSTILE }, undefined)))
    expectNoReference(visible(recoveredComment(HOSTILE, 0.01, HOSTILE)))
    expectNoReference(visible(rollbackProposalBody('Merge this now.', HOSTILE, 'alice')))
    const sha = 'c0ffee0123456789abcdef0123456789abcdef01'
    const body = emergencyIssueBody({
      feature: 'checkout',
      actor: 'alice',
      transition: { from: 'canary', to: 'internal' },
      reason: HOSTILE,
      mentions: ['@acme/sre', '@dana'],
      landed: { sha }
    })
    const shown = visible(body)
    // The reason line links nothing; phasegate's own commit stays a reference, on-call a mention.
    expectNoReference(shown.split('\n').find(l => l.startsWith('Reason:'))!)
    expect(shown).toContain(`Commit: ${sha}`)
    expect(shown).toContain('On call: @acme/sre @dana')
    expect(
      visible(
        emergencyIssueBody({
          ...{ feature: 'x', actor: 'a', transition: { from: 'a', to: 'b' } },
          reason: 'r',
          mentions: [],
          landed: { pr: 12 }
        })
      )
    ).toContain('PR #12')
  })

  it("the report's action lines link phasegate's own PR and issue, nothing else", () => {
    const policy = seedPolicy()
    const canary = state(policy, 'canary')
    const decision = decide(policy, canary, observations(HEALTHY), at(30))
    const shown = visible(
      renderReport({
        policy,
        state: canary,
        decision,
        actions: [`opened advance PR #12 (x)`, `alert issue #3 opened`, `closed: ${HOSTILE}`]
      })
    )
    expect(shown).toContain('opened advance PR #12')
    expect(shown).toContain('alert issue #3 opened')
    expectNoReference(shown.split('\n').find(l => l.startsWith('closed:'))!)
  })
})
