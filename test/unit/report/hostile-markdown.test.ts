import MarkdownIt from 'markdown-it'
import { describe, expect, it } from 'vitest'
import { alertIssueBody, recoveredComment } from '../../../src/action/alerts.js'
import { emergencyIssueBody, rollbackProposalBody } from '../../../src/action/dispatch-rollback.js'
import { decide } from '../../../src/engine/decide.js'
import type { Decision } from '../../../src/engine/types.js'
import { analyzeExperiment } from '../../../src/experiments/analysis.js'
import { renderAnalysisMarkdown } from '../../../src/experiments/render.js'
import { failedRunsBody, parseFailedRuns } from '../../../src/github/failed-runs-issue.js'
import { warningBanner } from '../../../src/github/pulls.js'
import { digestOf, renderReport } from '../../../src/report/markdown.js'
import { markdownText } from '../../../src/report/escape/markdown.js'
import { at, HEALTHY, observations, seedPolicy, state } from '../../support/policies.js'

// Text phasegate did not write (a reason typed into a dispatch form, a metric label, a value a
// metrics endpoint answered, an error message, a file name in a PR) must render as that text on
// GitHub: rendered here with a CommonMark parser, HTML and autolinks on as GitHub has them.

const md = new MarkdownIt({ html: true, linkify: true })
const render = (markdown: string) => md.render(markdown)

/** Every way a string has tried to become more than text. */
const HOSTILE = [
  'ok',
  '',
  '```',
  '<img src=x onerror=alert(1)> [click](https://evil.example/a) ![i](https://evil.example/i.png)',
  '@mallory and @acme/admins <!-- phasegate:digest=0000000000000000 --> | x | y |',
  '# Approved by @boss',
  '- **Approved** https://evil.example/b www.evil.example/c',
  '<details><summary>x</summary>'
].join('\n')

/** What must never appear in the rendered HTML of a body that carries HOSTILE. */
function expectOnlyText(html: string): void {
  expect(html).not.toMatch(/<a\s/)
  expect(html).not.toMatch(/<img/)
  expect(html).not.toMatch(/<details|<summary|<!--/)
  expect(html).not.toMatch(/<h1|<h2/)
  expect(html).not.toMatch(/<strong>Approved/)
  // A mention is @ directly followed by the login: a zero-width space breaks it.
  expect(html).not.toMatch(/@(mallory|acme\/admins|boss)/)
  expect(html).toContain('mallory')
}

const policy = seedPolicy()
const canary = state(policy, 'canary')

function hostileDecision(): Decision {
  const decision = decide(policy, canary, observations({ ...HEALTHY, error_rate: 0.5 }), at(30))
  return {
    ...decision,
    reason: HOSTILE,
    gates: decision.gates.map(g => ({
      ...g,
      reason: HOSTILE,
      evidence: g.evidence.map(e => ({ ...e, value: HOSTILE, threshold: HOSTILE }))
    })),
    alerts: decision.alerts.map(a => ({ ...a, message: HOSTILE })),
    triggers: decision.triggers.map(t => ({ ...t, reason: HOSTILE }))
  }
}

describe('markdown phasegate writes keeps untrusted text as text', () => {
  it('the report (job summary, PR bodies): no link, mention, HTML, fence, fake digest or broken table', () => {
    const decision = hostileDecision()
    const report = renderReport({
      policy,
      state: canary,
      decision,
      actions: [`advance PR #3 could not be merged: ${HOSTILE}`]
    })
    const html = render(report)
    expectOnlyText(html)
    // phasegate's own fence (the metrics chart) is the only one
    expect(html.match(/<pre>/g) ?? []).toHaveLength(report.includes('```mermaid') ? 1 : 0)
    expect(digestOf(report)).toBeUndefined()
    // every row of the gate table keeps its five cells
    const table = html.slice(html.indexOf('<table>'), html.indexOf('</table>'))
    for (const row of table.match(/<tr>[\s\S]*?<\/tr>/g) ?? [])
      expect(row.match(/<t[hd]>/g)).toHaveLength(5)
  })

  it('the emergency issue: the on-call mention below a hostile reason still renders as a mention', () => {
    const body = emergencyIssueBody({
      feature: 'checkout',
      actor: 'alice',
      transition: { from: 'canary', to: 'internal' },
      reason: HOSTILE,
      mentions: ['@acme/sre', '@dana'],
      landed: { sha: 'a'.repeat(40) }
    })
    const html = render(body)
    expectOnlyText(html)
    expect(html).not.toMatch(/<pre>|<code>/)
    expect(html).toContain('<p>On call: @acme/sre @dana</p>')
    expect(html).toContain('by @alice')
  })

  it('a dispatched rollback PR: the reason is text, the operator is a mention', () => {
    const html = render(rollbackProposalBody('Merge this now.', HOSTILE, 'alice'))
    expectOnlyText(html)
    expect(html).toContain('Operator: @alice')
    // a login GitHub would never issue is not made into a mention either
    expect(render(rollbackProposalBody('x', 'y', 'acme/admins\n\n@mallory'))).not.toMatch(
      /@acme\/admins|@mallory/
    )
  })

  it('an alert issue and its recovery comment', () => {
    const decision = hostileDecision()
    const alert = { ...decision.alerts[0]!, message: HOSTILE }
    expectOnlyText(render(alertIssueBody(alert, decision, undefined)))
    // the run's own link is phasegate's and stays one
    expect(
      render(alertIssueBody(alert, decision, 'https://github.com/o/r/actions/runs/1'))
    ).toMatch(/<a href="https:\/\/github.com\/o\/r\/actions\/runs\/1">/)
    expectOnlyText(render(recoveredComment(HOSTILE, 0.01, 'canary')))
  })

  it('the warning banner on a PR that changes foreign files (file names are the PR author’s)', () => {
    const banner = warningBanner(`phasegate will not merge this: ${HOSTILE}`)
    const html = render(banner + 'the rest of the body')
    expectOnlyText(html)
    expect(html.match(/<blockquote>/g)).toHaveLength(1)
    expect(html).toContain('<p>the rest of the body</p>')
  })

  it('the failed-runs ledger: an error message cannot end its marker comment or forge one', () => {
    const reason = `-->${HOSTILE}<!-- phasegate:failed-runs {"runs":["2026-01-01T00:00:00Z"],"reason":"x"} -->`
    const runs = { runs: ['2026-03-02T09:00:00.000Z', '2026-03-02T09:05:00.000Z'], reason }
    const body = failedRunsBody(runs)
    expect(parseFailedRuns(body)).toEqual(runs)
    const html = render(body)
    expect(html).not.toMatch(/<img|<a\s|<details/)
    // (the marker comment holds the reason verbatim: comments do not render)
    expect(html.replace(/<!-- phasegate:failed-runs .*? -->/, '')).not.toMatch(/@(mallory|acme)/)
    // the only comment is phasegate's marker, whole
    expect(html.match(/<!--/g)).toHaveLength(1)
  })

  it('an experiment section: metric names and reasons are text', () => {
    const analysis = analyzeExperiment(policy.experiments[0]!, {
      users: { control: 10, treatment: 12 },
      metrics: {}
    })
    const hostile = {
      ...analysis,
      reasons: [HOSTILE],
      warnings: [HOSTILE],
      metrics: analysis.metrics.map(m => ({ ...m, metric: HOSTILE, missing: HOSTILE }))
    }
    const html = render(renderAnalysisMarkdown(hostile))
    expectOnlyText(html)
    const table = html.slice(html.indexOf('<table>'), html.indexOf('</table>'))
    for (const row of table.match(/<tr>[\s\S]*?<\/tr>/g) ?? [])
      expect(row.match(/<t[hd]>/g)).toHaveLength(5)
  })

  it('a bot login reads as written; a reference definition at the start of a list item defines nothing', () => {
    expect(markdownText('dependabot[bot] (a bot)')).toBe('dependabot[bot] (a bot)')
    const html = render(`- ${markdownText('[ref]: https://evil.example/r\n[ref] and [x][ref]')}`)
    expect(html).not.toMatch(/<a\s/)
  })
})
