import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { createFileProvider } from '../../../src/metrics/file.js'

// docs/metrics.md's snapshot example, as written there, read by the file provider: what the
// documentation says each form means is what the provider reads.

const docs = readFileSync(new URL('../../../docs/metrics.md', import.meta.url), 'utf8')
const section = docs.slice(docs.indexOf('## file'))
const example = /```yaml\n([\s\S]*?)```/.exec(section)![1]!
const dir = mkdtempSync(join(tmpdir(), 'phasegate-file-docs-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

const NOW = new Date('2026-03-02T09:12:00Z')

describe("docs/metrics.md's file snapshot", () => {
  it('reads as documented: values, null, samples, series times, groups', async () => {
    writeFileSync(join(dir, 'snapshot.yaml'), example)
    const provider = createFileProvider({
      provider: 'file',
      queries: {},
      options: { path: 'snapshot.yaml' }
    })
    const readings = await provider.read(
      [
        { metric: 'error_rate' },
        { metric: 'user_satisfaction' },
        { metric: 'response_time' },
        { metric: 'not_listed' },
        { metric: 'accuracy', group: 'treatment' },
        { metric: 'response_time_stddev', group: 'control' }
      ],
      { feature: 'checkout', phase: 'canary', now: NOW, baseDir: dir, window: '5m', env: {} }
    )
    // as_of 09:10 with a 5m window: every value covers 09:05 .. 09:10.
    const windowStart = Date.parse('2026-03-02T09:05:00Z') / 1000
    expect(readings[0]).toEqual({ metric: 'error_rate', value: 0.004, windowStart })
    expect(readings[1]).toMatchObject({ value: null, reason: expect.stringContaining('null') })
    expect(readings[2]).toEqual({
      metric: 'response_time',
      value: 820,
      windowStart,
      samples: 1500,
      series: [
        [Date.parse('2026-03-02T09:00:00Z') / 1000, 810],
        [1772442300, 830]
      ]
    })
    expect(readings[3]).toMatchObject({ value: null, reason: expect.stringContaining('not in') })
    expect(readings[4]).toEqual({
      metric: 'accuracy',
      group: 'treatment',
      value: 0.84,
      windowStart,
      samples: 5000
    })
    expect(readings[5]).toEqual({
      metric: 'response_time_stddev',
      group: 'control',
      value: 150,
      windowStart
    })
  })

  it('reads the example as no data, located at its as_of line, when evaluated well before it was taken', async () => {
    writeFileSync(join(dir, 'snapshot.yaml'), example)
    const provider = createFileProvider({
      provider: 'file',
      queries: {},
      options: { path: 'snapshot.yaml' }
    })
    const context = { feature: 'f', phase: 'a', baseDir: dir, window: '5m', env: {} }
    const [reading] = await provider.read([{ metric: 'error_rate' }], {
      ...context,
      now: new Date(NOW.getTime() - 3600e3)
    })
    expect(reading).toMatchObject({
      value: null,
      reason: expect.stringMatching(/^snapshot\.yaml:\d+:\d+: as_of: .*after the evaluation time/)
    })
  })
})
