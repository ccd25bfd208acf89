import { mkdtempSync, readFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { OpenFeature } from '@openfeature/server-sdk'
import { afterAll, describe, expect, it } from 'vitest'
import { recordEvaluations } from '../../src/action/liveness.js'
import { dashboard } from '../../src/commands/dashboard.js'
import { parseDatafile } from '../../src/export/datafile.js'
import { PhasegateProvider } from '../../src/openfeature/index.js'
import { HEALTHY, SEED_POLICY_TEXT } from '../support/policies.js'
import { cli, sh, tempRepo, writeMetrics } from '../support/repo.js'

// The heartbeat record read back by every surface: `status` (text and --json), `export` (the
// datafile's heartbeat), the OpenFeature metadata and the dashboard; on real git repositories
// with a real (bare) remote, as the action writes it.

const FEATURE = 'production_deployment'
const MIN = 60_000

/** A repository at its first phase, with a bare origin the heartbeat record is pushed to. */
async function repoWithOrigin(policy = SEED_POLICY_TEXT): Promise<string> {
  const dir = tempRepo({ 'policies/production_deployment.yaml': policy })
  writeMetrics(dir, HEALTHY)
  const origin = mkdtempSync(join(tmpdir(), 'phasegate-origin-'))
  sh(origin, 'git', 'init', '-q', '--bare')
  sh(dir, 'git', 'remote', 'add', 'origin', origin)
  expect(
    (await cli(dir, 'init', '--now', new Date(Date.now() - 3_600_000).toISOString())).code
  ).toBe(0)
  sh(dir, 'git', 'push', '-q', 'origin', 'main')
  return dir
}

const beat = (feature: string, at: Date, outcome = 'hold') =>
  new Map([[feature, { evaluatedAt: at.toISOString(), outcome }]])

afterAll(async () => {
  await OpenFeature.close()
})

describe('phasegate status', () => {
  it('says when no heartbeat is recorded, as stale, never as fresh', async () => {
    const dir = await repoWithOrigin()
    const json = await cli(dir, 'status', '--json')
    expect(json.code, json.err).toBe(0)
    expect(JSON.parse(json.out)[0].heartbeat).toEqual({
      evaluatedAt: null,
      stale: true,
      intervalMs: 15 * MIN
    })
    const text = await cli(dir, 'status')
    expect(text.out).toContain('heartbeat: STALE: no heartbeat recorded')
  })

  it('reads the record the action pushed, judged by the policy schedule interval', async () => {
    const dir = await repoWithOrigin(
      SEED_POLICY_TEXT.replace(/^monitoring:\n/m, 'monitoring:\n  schedule_interval: 1h\n')
    )
    const at = new Date('2026-03-02T09:00:00Z')
    expect((await recordEvaluations(dir, beat(FEATURE, at), at)).status).toBe('pushed')
    // Another job of a matrix records its own feature: this one's entry stays.
    const pushed = await recordEvaluations(dir, beat('other', new Date(at.getTime() + MIN)), at)
    expect(pushed).toMatchObject({ status: 'pushed', attempts: 1 })
    const status = async (minutes: number) =>
      JSON.parse(
        (
          await cli(
            dir,
            'status',
            '--json',
            '--now',
            new Date(at.getTime() + minutes * MIN).toISOString()
          )
        ).out
      )[0].heartbeat
    expect(await status(180)).toMatchObject({
      evaluatedAt: at.toISOString(),
      outcome: 'hold',
      stale: false,
      staleAfter: '2026-03-02T12:00:00.000Z',
      intervalMs: 60 * MIN
    })
    expect(await status(181)).toMatchObject({ stale: true })
  })
})

describe('the record from parallel jobs', () => {
  it("a job whose view of the record is stale loses the lease, fetches and keeps the other job's entry", async () => {
    const dir = await repoWithOrigin()
    const other = mkdtempSync(join(tmpdir(), 'phasegate-job-'))
    sh(other, 'git', 'clone', '-q', sh(dir, 'git', 'remote', 'get-url', 'origin'), '.')
    const at = new Date('2026-03-02T09:00:00Z')
    expect(await recordEvaluations(dir, beat(FEATURE, at), at)).toMatchObject({
      status: 'pushed',
      attempts: 1
    })
    // The other job cloned before that push: its first push must not overwrite it.
    expect(await recordEvaluations(other, beat('search', at), at)).toMatchObject({
      status: 'pushed',
      attempts: 2
    })
    sh(dir, 'git', 'fetch', '-q', 'origin')
    const record = JSON.parse(sh(dir, 'git', 'show', 'origin/phasegate-heartbeat:heartbeat.json'))
    expect(Object.keys(record.features)).toEqual(['production_deployment', 'search'])
  })
})

describe('the exported datafile and the OpenFeature metadata', () => {
  it("export carries each feature's last evaluation when the clone has the record; the provider flags it stale past stale_after", async () => {
    const dir = await repoWithOrigin()
    const plain = await cli(dir, 'export')
    expect(parseDatafile(plain.out).features[FEATURE]!.heartbeat).toBeUndefined()

    const old = new Date(Date.now() - 50 * MIN)
    await recordEvaluations(dir, beat(FEATURE, old, 'advance'), old)
    const out = join(dir, 'datafile.json')
    expect((await cli(dir, 'export', '--out', out)).code).toBe(0)
    const document = parseDatafile(readFileSync(out, 'utf8'))
    expect(document.features[FEATURE]!.heartbeat).toEqual({
      evaluated_at: old.toISOString(),
      outcome: 'advance',
      stale_after: new Date(old.getTime() + 45 * MIN).toISOString()
    })

    await OpenFeature.setProviderAndWait(
      'heartbeat-stale',
      new PhasegateProvider({ source: out, pollIntervalMs: 0 })
    )
    const stale = await OpenFeature.getClient('heartbeat-stale').getBooleanDetails(FEATURE, false, {
      targetingKey: 'user-1'
    })
    expect(stale.errorCode).toBeUndefined()
    expect(stale.flagMetadata).toMatchObject({
      evaluatedAt: old.toISOString(),
      heartbeatStale: true
    })

    const now = new Date()
    await recordEvaluations(dir, beat(FEATURE, now), now)
    const fresh = join(dir, 'fresh.json')
    await cli(dir, 'export', '--out', fresh)
    await OpenFeature.setProviderAndWait(
      'heartbeat-fresh',
      new PhasegateProvider({ source: fresh, pollIntervalMs: 0 })
    )
    const details = await OpenFeature.getClient('heartbeat-fresh').getBooleanDetails(
      FEATURE,
      false,
      {
        targetingKey: 'user-1'
      }
    )
    expect(details.flagMetadata).toMatchObject({
      evaluatedAt: now.toISOString(),
      heartbeatStale: false
    })
    // Without a heartbeat in the datafile the metadata says nothing of one.
    await OpenFeature.setProviderAndWait(
      'heartbeat-none',
      new PhasegateProvider({
        source: join(dir, '.phasegate/state/production_deployment.datafile.json'),
        pollIntervalMs: 0
      })
    )
    const none = await OpenFeature.getClient('heartbeat-none').getBooleanDetails(FEATURE, false, {
      targetingKey: 'user-1'
    })
    expect(none.errorCode).toBeUndefined()
    expect(none.flagMetadata).not.toHaveProperty('heartbeatStale')
    expect(none.flagMetadata).not.toHaveProperty('evaluatedAt')
  })
})

describe('the dashboard', () => {
  it("shows each feature's last evaluation, with a stale marker past three intervals or none recorded", async () => {
    const dir = await repoWithOrigin()
    const at = new Date('2026-03-02T09:00:00Z')
    const build = async (minutes: number) => {
      const { files } = await dashboard({
        cwd: dir,
        policies: [],
        out: join(dir, `site-${minutes}`),
        now: new Date(at.getTime() + minutes * MIN),
        env: {}
      })
      return {
        index: readFileSync(join(files.dir, 'index.html'), 'utf8'),
        page: readFileSync(join(files.dir, 'features', `${FEATURE}.html`), 'utf8')
      }
    }
    const cell = (html: string) => /<td data-cell="last-evaluation">(.*?)<\/td>/s.exec(html)![1]!

    const none = await build(0)
    expect(cell(none.index)).toContain('no heartbeat recorded')
    expect(cell(none.index)).toContain('class="badge stale"')

    await recordEvaluations(dir, beat(FEATURE, at), at)
    const fresh = await build(30)
    expect(cell(fresh.index)).not.toContain('stale')
    expect(fresh.page).toContain('data-heartbeat="fresh"')

    const stale = await build(46)
    expect(cell(stale.index)).toContain('class="badge stale"')
    expect(stale.page).toContain('data-heartbeat="stale"')
    expect(stale.page).toContain('older than 3 × 15m')
  })
})
