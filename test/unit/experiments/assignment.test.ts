import { readFileSync } from 'node:fs'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import type { Experiment } from '../../../src/engine/types.js'
import {
  assignGroup,
  bucketOf,
  createAssigner,
  isInRollout
} from '../../../src/experiments/assignment.js'

const reference = JSON.parse(
  readFileSync(new URL('../../fixtures/stats/reference.json', import.meta.url), 'utf8')
)

function experiment(
  groups: Array<[string, number]>,
  hashVersion: 1 | 2,
  seed = 'dspy_vs_traditional'
): Experiment {
  return {
    name: 'dspy_vs_traditional',
    enabled: true,
    groups: groups.map(([name, weight]) => ({ name, weight, configuration: {} })),
    successMetrics: [],
    durationMs: null,
    minimumSampleSize: 1000,
    seed,
    hashVersion
  }
}

interface AssignmentVector {
  userId: string
  seed: string
  groups: Array<[string, number]>
  group: string
  bucket?: number
}

describe('hash version 1 (the seed’s Elixir algorithm)', () => {
  it.each(reference.assignmentV1 as AssignmentVector[])(
    'puts "$userId" with seed $seed where python hashlib does',
    v => {
      expect(assignGroup(experiment(v.groups, 1, v.seed), v.userId)).toBe(v.group)
    }
  )

  it('refuses fractional weights, which the seed’s integer modulo cannot express', () => {
    expect(() =>
      assignGroup(
        experiment(
          [
            ['a', 33.3],
            ['b', 66.7]
          ],
          1
        ),
        'u'
      )
    ).toThrow(/hash_version 1 needs whole numbers/)
  })
})

describe('hash version 2', () => {
  it.each(reference.assignmentV2 as AssignmentVector[])(
    'puts "$userId" with seed $seed in bucket $bucket as docs/assignment.md says',
    v => {
      expect(bucketOf(v.seed, v.userId)).toBe(v.bucket)
      expect(assignGroup(experiment(v.groups, 2, v.seed), v.userId)).toBe(v.group)
    }
  )

  it('separates seed and user id, so ("ab", "c") and ("a", "bc") differ', () => {
    const pairs = Array.from({ length: 50 }, (_, i) => [`seed${i}`, `${i}user`] as const)
    const differing = pairs.filter(
      ([seed, user]) => bucketOf(seed + user[0], user.slice(1)) !== bucketOf(seed, user)
    )
    expect(differing.length).toBeGreaterThan(45)
  })

  it('moves only the users between the old and new boundary when a weight changes', () => {
    const before = createAssigner(
      experiment(
        [
          ['control', 50],
          ['treatment', 50]
        ],
        2
      )
    )
    const after = createAssigner(
      experiment(
        [
          ['control', 60],
          ['treatment', 40]
        ],
        2
      )
    )
    let moved = 0
    for (let i = 0; i < 20_000; i++) {
      const user = `user-${i}`
      const [was, now] = [before(user), after(user)]
      if (was !== now) {
        moved++
        expect([was, now]).toEqual(['treatment', 'control'])
      }
    }
    expect(moved / 20_000).toBeGreaterThan(0.09)
    expect(moved / 20_000).toBeLessThan(0.11)
  })
})

describe.each([1, 2] as const)('both versions (hash_version %i)', version => {
  it('gives the same user the same group every time', () => {
    const policy = experiment(
      [
        ['control', 50],
        ['treatment', 50]
      ],
      version
    )
    for (const user of ['a', 'b', 'user-99', '']) {
      const first = assignGroup(policy, user)
      for (let i = 0; i < 5; i++) expect(assignGroup(policy, user)).toBe(first)
    }
  })

  it('splits 100,000 users within 1% of the weights', () => {
    const groups: Array<[string, number]> = [
      ['control', 50],
      ['treatment_a', 30],
      ['treatment_b', 20]
    ]
    const assign = createAssigner(experiment(groups, version))
    const counts = new Map<string, number>()
    for (let i = 0; i < 100_000; i++) {
      const group = assign(`user-${i}`)
      counts.set(group, (counts.get(group) ?? 0) + 1)
    }
    for (const [name, weight] of groups) {
      expect(Math.abs((counts.get(name) ?? 0) / 100_000 - weight / 100)).toBeLessThan(0.01)
    }
  })

  it('never assigns a zero-weight group', () => {
    const assign = createAssigner(
      experiment(
        [
          ['off', 0],
          ['control', 1],
          ['treatment', 1]
        ],
        version
      )
    )
    for (let i = 0; i < 2000; i++) expect(assign(`u${i}`)).not.toBe('off')
  })
})

describe('rollout percentage', () => {
  it.each(reference.rollout as Array<{ feature: string; userId: string; bucket: number }>)(
    'puts "$userId" in rollout bucket $bucket',
    v => {
      expect(bucketOf(`rollout:${v.feature}`, v.userId)).toBe(v.bucket)
      expect(isInRollout(v.feature, v.userId, (v.bucket + 1) / 100)).toBe(true)
      expect(isInRollout(v.feature, v.userId, v.bucket / 100)).toBe(false)
    }
  )

  it('only adds users as the percentage ramps up', () => {
    fc.assert(
      fc.property(
        fc.string(),
        fc.string(),
        fc.double({ min: 0, max: 100, noNaN: true }),
        fc.double({ min: 0, max: 100, noNaN: true }),
        (feature, user, a, b) => {
          const [low, high] = a <= b ? [a, b] : [b, a]
          if (isInRollout(feature, user, low)) expect(isInRollout(feature, user, high)).toBe(true)
        }
      ),
      { numRuns: 2000 }
    )
  })

  it('keeps everyone inside the 1% canary when it widens to 10%', () => {
    const canary = Array.from({ length: 50_000 }, (_, i) => `user-${i}`).filter(u =>
      isInRollout('dspy', u, 1)
    )
    expect(canary.length / 50_000).toBeGreaterThan(0.008)
    expect(canary.length / 50_000).toBeLessThan(0.012)
    expect(canary.every(u => isInRollout('dspy', u, 10))).toBe(true)
  })

  it('is independent of experiment assignment, so the canary is not all control', () => {
    const assign = createAssigner(
      experiment(
        [
          ['control', 50],
          ['treatment', 50]
        ],
        2,
        'dspy'
      )
    )
    const canary = Array.from({ length: 100_000 }, (_, i) => `user-${i}`).filter(u =>
      isInRollout('dspy', u, 2)
    )
    const control = canary.filter(u => assign(u) === 'control').length
    expect(control / canary.length).toBeGreaterThan(0.4)
    expect(control / canary.length).toBeLessThan(0.6)
  })
})
