import { spawn } from 'node:child_process'
import { createHash } from 'node:crypto'
import { existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { afterAll, describe, expect, it } from 'vitest'
import { datafilePathOf } from '../../src/export/datafile.js'
import { readState } from '../../src/state/file.js'
import { Feature } from '../../src/sdk/index.js'
import { startServer, type TestServer } from '../support/http-server.js'
import { seedPolicy } from '../support/policies.js'
import { cli, sh, tempRepo } from '../support/repo.js'

const IDS = new URL('../fixtures/assignment/ids.json', import.meta.url).pathname
const ids = JSON.parse(readFileSync(IDS, 'utf8')) as string[]
const policy = seedPolicy()
const servers: TestServer[] = []
afterAll(() => Promise.all(servers.map(s => s.close())))

describe('from a transition commit to the application', () => {
  it('each transition commit carries the datafile; an app on the OpenFeature provider sees the emergency within one poll', async () => {
    const dir = tempRepo()
    expect((await cli(dir, 'init', '--now', '2026-03-02T09:00:00Z')).code).toBe(0)
    const datafile = join(dir, datafilePathOf(policy))
    expect(sh(dir, 'git', 'show', '--name-only', '--format=', 'HEAD').split('\n').sort()).toEqual(
      [policy.statePath, datafilePathOf(policy)].sort()
    )

    // The raw route: a web server publishing the checked-out file, with ETags.
    const server = await startServer(({ headers }, res) => {
      const text = readFileSync(datafile, 'utf8')
      const etag = `"${createHash('sha256').update(text).digest('hex').slice(0, 16)}"`
      res.setHeader('etag', etag)
      if (headers['if-none-match'] === etag) {
        res.statusCode = 304
        res.end()
      } else res.end(text)
    })
    servers.push(server)

    const app = spawn(
      process.execPath,
      [
        new URL('../support/openfeature-app.mjs', import.meta.url).pathname,
        server.url,
        policy.feature,
        IDS,
        '100'
      ],
      { stdio: ['pipe', 'pipe', 'inherit'] }
    )
    const lines = createInterface({ input: app.stdout! })[Symbol.asyncIterator]()
    const next = async () =>
      JSON.parse(((await lines.next()).value as string) ?? 'null') as {
        event: string
        on: boolean[]
      }
    try {
      const ready = await next()
      expect(ready.event).toBe('ready')
      const started = new Feature(policy, readState(join(dir, policy.statePath), policy))
      expect(ready.on).toEqual(ids.map(id => started.isOn(id)))
      expect(ready.on.filter(Boolean).length).toBeGreaterThan(0)

      const rollback = await cli(
        dir,
        'rollback',
        '--emergency',
        '--reason',
        'pager',
        '--now',
        '2026-03-02T10:00:00Z'
      )
      expect(rollback.code, rollback.err).toBe(0)
      const committed = server.received.length
      const changed = await next()
      expect(changed.event).toBe('changed')
      expect(changed.on.every(on => !on)).toBe(true)
      // Within one poll: at most one request after the commit (none if a poll caught the file
      // between its write and the commit) served the new file.
      expect(server.received.length - committed).toBeLessThanOrEqual(1)
    } finally {
      app.stdin!.end()
    }
    expect(existsSync(datafile)).toBe(true)
  })
})
