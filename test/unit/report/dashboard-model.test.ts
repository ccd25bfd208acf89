import { describe, expect, it } from 'vitest'
import type { HistoryEntry } from '../../../src/git/transitions.js'
import { parsePolicyText } from '../../../src/policy/load.js'
import { timelinePoints } from '../../../src/report/dashboard/charts.js'
import { repositoryUrlFrom } from '../../../src/report/dashboard/model.js'
import { esc, panelsFor } from '../../../src/report/dashboard/render.js'

describe('repositoryUrlFrom', () => {
  it('prefers the Actions environment', () => {
    expect(
      repositoryUrlFrom(
        { GITHUB_SERVER_URL: 'https://ghe.example.com/', GITHUB_REPOSITORY: 'acme/shop' },
        'git@github.com:other/repo.git'
      )
    ).toBe('https://ghe.example.com/acme/shop')
  })

  it.each([
    ['git@github.com:acme/shop.git', 'https://github.com/acme/shop'],
    ['https://github.com/acme/shop.git', 'https://github.com/acme/shop'],
    ['https://x-access-token:secret@github.com/acme/shop', 'https://github.com/acme/shop'],
    ['ssh://git@github.com:2222/acme/shop.git', 'https://github.com/acme/shop'],
    ['http://git.local:8080/acme/shop', 'http://git.local:8080/acme/shop'],
    // git accepts a trailing slash after .git, and .git in any case
    ['https://github.com/acme/shop.git/', 'https://github.com/acme/shop'],
    ['git@github.com:acme/shop.git/', 'https://github.com/acme/shop'],
    ['https://github.com/acme/shop.GIT', 'https://github.com/acme/shop'],
    ['git@github.com:/acme/shop.git', 'https://github.com/acme/shop'],
    [
      'ssh://git@gitlab.example.com:22/group/sub/shop.git/',
      'https://gitlab.example.com/group/sub/shop'
    ],
    ['git://github.com/acme/shop.git', 'https://github.com/acme/shop'],
    ['https://github.com/acme/shop.git?ref=main#readme', 'https://github.com/acme/shop'],
    ['  https://github.com/acme/shop//  ', 'https://github.com/acme/shop']
  ])('reads the origin remote %s', (remote, url) => {
    expect(repositoryUrlFrom({}, remote)).toBe(url)
  })

  it.each([[undefined], ['/srv/git/shop.git'], ['file:///srv/git/shop.git'], ['../shop']])(
    'has no address for %s, so pages show the sha alone',
    remote => {
      expect(repositoryUrlFrom({}, remote)).toBeUndefined()
    }
  )

  it.each([
    'javascript:alert(1)//github.com/a/b',
    'javascript://github.com/%0aalert(1)//a/b',
    'data:text/html,<script>alert(1)</script>/a/b',
    'https://x-access-token:ghs_secret@github.com/acme/shop.git'
  ])('never gives a non-https link nor a credential for %s', remote => {
    const url = repositoryUrlFrom({}, remote)
    if (url !== undefined) expect(url).toMatch(/^https:\/\/[^/@]+\//)
    expect(url ?? '').not.toContain('ghs_secret')
  })
})

describe('timelinePoints', () => {
  const policy = parsePolicyText(
    'deployment:\n  phases:\n    canary:\n      user_percentage: 5\n',
    'p.yaml'
  )
  const entry = (
    kind: HistoryEntry['kind'],
    from: string,
    to: string,
    at: string,
    usersPercent?: number
  ): HistoryEntry => ({
    feature: 'p',
    kind,
    from,
    to,
    reason: '',
    approvers: [],
    evidence: [],
    sha: `${kind}${at}`,
    at,
    author: 'a',
    ...(usersPercent === undefined ? {} : { usersPercent })
  })

  it("steps through phases with each transition's recorded share and reaches now with the share in force", () => {
    const points = timelinePoints(
      policy,
      [
        entry('init', '', 'development', '2026-01-01T00:00:00Z', 100),
        entry('advance', 'development', 'staging', '2026-01-01T01:00:00Z', 100),
        entry('advance', 'staging', 'canary', '2026-01-01T02:00:00Z', 2),
        entry('emergency', 'canary', 'staging', '2026-01-01T03:00:00Z', 0),
        entry('resume', 'staging', 'staging', '2026-01-01T04:00:00Z', 100)
      ],
      new Date('2026-01-01T05:00:00Z'),
      40
    )
    // canary's policy says 5% today; its transition recorded 2%: the record stands.
    expect(points.map(p => [p.phase, p.percent, p.enabled, p.entry?.kind ?? 'now'])).toEqual([
      ['development', 100, true, 'init'],
      ['staging', 100, true, 'advance'],
      ['canary', 2, true, 'advance'],
      ['staging', 0, false, 'emergency'],
      ['staging', 100, true, 'resume'],
      ['staging', 40, true, 'now']
    ])
  })

  it("a transition whose share was not recorded is unknown (null), not today's policy's", () => {
    const points = timelinePoints(
      policy,
      [entry('init', '', 'canary', '2026-01-01T00:00:00Z')],
      new Date('2026-01-01T05:00:00Z'),
      5
    )
    expect(points.map(p => p.percent)).toEqual([null, 5])
  })

  it('a datafile refresh between transitions is a point without a transition; one before the first is not', () => {
    const points = timelinePoints(
      policy,
      [
        entry('init', '', 'canary', '2026-01-01T01:00:00Z', 5),
        entry('pause', 'canary', 'canary', '2026-01-01T03:00:00Z', 8)
      ],
      new Date('2026-01-01T05:00:00Z'),
      9,
      [
        { at: '2026-01-01T04:00:00Z', usersPercent: 9 },
        { at: '2026-01-01T00:00:00Z', usersPercent: 1 },
        { at: '2026-01-01T02:00:00Z', usersPercent: 8 }
      ]
    )
    expect(points.map(p => [p.at / 3_600_000 - 490_896, p.percent, p.entry?.kind ?? '-'])).toEqual([
      [1, 5, 'init'],
      [2, 8, '-'],
      [3, 8, 'pause'],
      [4, 9, '-'],
      [5, 9, '-']
    ])
  })

  it('is empty before the rollout starts', () => {
    expect(timelinePoints(policy, [], new Date(), 0)).toEqual([])
  })
})

describe('panels', () => {
  it('shows every panel when the policy lists none, and always the deployment panel', () => {
    expect(panelsFor([])).toHaveLength(5)
    expect(panelsFor(['alert_summary'])).toEqual(['alert_summary', 'deployment'])
  })

  it('escapes text placed in HTML', () => {
    expect(esc('<script>"&')).toBe('&lt;script&gt;&quot;&amp;')
  })
})
