import { createHash } from 'node:crypto'
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { ErrorCode, OpenFeature, ProviderEvents } from '@openfeature/server-sdk'
import { afterAll, describe, expect, it } from 'vitest'
import type { State } from '../../../src/engine/types.js'
import { combineDatafiles, featureDatafile, renderDatafile } from '../../../src/export/datafile.js'
import { PhasegateProvider } from '../../../src/openfeature/index.js'
import { Feature } from '../../../src/sdk/index.js'
import { startServer, type TestServer } from '../../support/http-server.js'
import { seedPolicy, state } from '../../support/policies.js'

const ids = JSON.parse(
  readFileSync(new URL('../../fixtures/assignment/ids.json', import.meta.url), 'utf8')
) as string[]
const policy = seedPolicy()
const F = policy.feature
const EXPERIMENT = policy.experiments[0]!.name
const running = { experiments: { [EXPERIMENT]: { status: 'running' as const } } }

function documentAt(s: State): string {
  return renderDatafile(combineDatafiles([featureDatafile(policy, s, 'c'.repeat(40))]))
}

/** Serves one changeable text with an ETag, answering 304 to a matching If-None-Match. */
async function datafileServer(initial: string) {
  let text = initial
  const server = await startServer(({ headers }, res) => {
    const etag = `"${createHash('sha256').update(text).digest('hex').slice(0, 16)}"`
    if (headers['if-none-match'] === etag) {
      res.statusCode = 304
      res.end()
      return
    }
    res.setHeader('etag', etag)
    res.setHeader('content-type', 'application/json')
    res.end(text)
  })
  return { server, set: (t: string) => (text = t) }
}

const servers: TestServer[] = []
afterAll(async () => {
  await OpenFeature.close()
  await Promise.all(servers.map(s => s.close()))
})

let domains = 0
async function clientFor(provider: PhasegateProvider) {
  const domain = `phasegate-${++domains}`
  await OpenFeature.setProviderAndWait(domain, provider).catch(() => undefined)
  return OpenFeature.getClient(domain)
}

describe('the OpenFeature provider, through the real SDK', () => {
  it('answers as the SDK and `assign` do, for every held id: in the rollout, group, configuration', async () => {
    const s = state(policy, 'limited_production', running)
    const { server } = await datafileServer(documentAt(s))
    servers.push(server)
    const client = await clientFor(new PhasegateProvider({ source: server.url, pollIntervalMs: 0 }))
    const feature = new Feature(policy, s)
    const on: boolean[] = []
    const groups: Array<string | null> = []
    for (const id of ids) {
      on.push(await client.getBooleanValue(F, false, { targetingKey: id }))
      const group = await client.getStringValue(EXPERIMENT, '(default)', { targetingKey: id })
      groups.push(group === '(default)' ? null : group)
    }
    expect(on).toEqual(ids.map(id => feature.isOn(id)))
    expect(groups).toEqual(ids.map(id => feature.group(EXPERIMENT, id)))
    const inside = ids.find(id => feature.isOn(id))!
    expect(await client.getObjectValue(`${F}/${EXPERIMENT}`, {}, { targetingKey: inside })).toEqual(
      feature.config(EXPERIMENT, inside)
    )
    const details = await client.getBooleanDetails(F, false, { targetingKey: inside })
    expect(details).toMatchObject({
      value: true,
      variant: 'on',
      reason: 'TARGETING_MATCH',
      flagMetadata: { phase: 'limited_production', commit: 'c'.repeat(40) }
    })
  })

  it('says DISABLED and answers off for everyone when the kill switch is off', async () => {
    const { server } = await datafileServer(
      documentAt(state(policy, 'full_production', { ...running, enabled: false }))
    )
    servers.push(server)
    const client = await clientFor(new PhasegateProvider({ source: server.url, pollIntervalMs: 0 }))
    const details = await client.getBooleanDetails(F, true, { targetingKey: 'user-1' })
    expect(details).toMatchObject({ value: false, reason: 'DISABLED', variant: 'off' })
    expect(await client.getStringValue(EXPERIMENT, 'dflt', { targetingKey: 'user-1' })).toBe('dflt')
  })

  it('sees a new datafile within one poll (ETag), and emits configuration-changed', async () => {
    const { server, set } = await datafileServer(
      documentAt(state(policy, 'full_production', running))
    )
    servers.push(server)
    const provider = new PhasegateProvider({ source: server.url, pollIntervalMs: 50 })
    const client = await clientFor(provider)
    expect(await client.getBooleanValue(F, false, { targetingKey: 'user-1' })).toBe(true)
    const changed = new Promise<string[]>(resolve =>
      client.addHandler(ProviderEvents.ConfigurationChanged, e => resolve(e?.flagsChanged ?? []))
    )
    set(documentAt(state(policy, 'full_production', { ...running, enabled: false })))
    expect(await changed).toContain(F)
    expect(await client.getBooleanValue(F, true, { targetingKey: 'user-1' })).toBe(false)
    // Unchanged polls are answered 304 and ask again with the ETag.
    await new Promise(r => setTimeout(r, 150))
    expect(server.received.some(r => r.headers['if-none-match'])).toBe(true)
  })

  it('reads a datafile from a path, and one feature’s own file as well as the combined one', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'phasegate-of-'))
    const file = join(dir, 'feature.json')
    writeFileSync(file, renderDatafile(featureDatafile(policy, state(policy, 'full_production'))))
    const client = await clientFor(new PhasegateProvider({ source: file, pollIntervalMs: 0 }))
    expect(await client.getBooleanValue(F, false, { targetingKey: 'user-1' })).toBe(true)
  })
})

describe('the OpenFeature provider never throws at the application', () => {
  it('unknown flag: FLAG_NOT_FOUND and the default', async () => {
    const { server } = await datafileServer(documentAt(state(policy, 'canary', running)))
    servers.push(server)
    const client = await clientFor(new PhasegateProvider({ source: server.url, pollIntervalMs: 0 }))
    const d = await client.getBooleanDetails('no_such_feature', true, { targetingKey: 'u' })
    expect(d).toMatchObject({ value: true, errorCode: ErrorCode.FLAG_NOT_FOUND, reason: 'ERROR' })
  })

  it('wrong type: TYPE_MISMATCH and the default', async () => {
    const { server } = await datafileServer(documentAt(state(policy, 'canary', running)))
    servers.push(server)
    const client = await clientFor(new PhasegateProvider({ source: server.url, pollIntervalMs: 0 }))
    expect(await client.getStringDetails(F, 'd', { targetingKey: 'u' })).toMatchObject({
      value: 'd',
      errorCode: ErrorCode.TYPE_MISMATCH
    })
    expect(await client.getBooleanDetails(EXPERIMENT, true, { targetingKey: 'u' })).toMatchObject({
      value: true,
      errorCode: ErrorCode.TYPE_MISMATCH
    })
    expect(await client.getNumberDetails(F, 7, { targetingKey: 'u' })).toMatchObject({
      value: 7,
      errorCode: ErrorCode.TYPE_MISMATCH
    })
  })

  it('no targeting key: TARGETING_KEY_MISSING and the default', async () => {
    const { server } = await datafileServer(documentAt(state(policy, 'canary', running)))
    servers.push(server)
    const client = await clientFor(new PhasegateProvider({ source: server.url, pollIntervalMs: 0 }))
    expect(await client.getBooleanDetails(F, true, {})).toMatchObject({
      value: true,
      errorCode: ErrorCode.TARGETING_KEY_MISSING
    })
  })

  it('malformed datafile: the provider is in error, and evaluations give the default with an error code', async () => {
    const { server } = await datafileServer('{"datafile_version": 1, "features": {"x": 1}}')
    servers.push(server)
    const provider = new PhasegateProvider({ source: server.url, pollIntervalMs: 0 })
    const client = await clientFor(provider)
    const d = await client.getBooleanDetails(F, true, { targetingKey: 'u' })
    expect(d.value).toBe(true)
    expect(d.reason).toBe('ERROR')
    expect(d.errorCode).toBe(ErrorCode.PARSE_ERROR)
    expect(d.errorMessage).toMatch(/features\.x/)
  })

  it('unreachable URL: the default with an error code, no exception', async () => {
    const gone = await startServer((_, res) => {
      res.end()
    })
    const url = gone.url
    await gone.close()
    const client = await clientFor(
      new PhasegateProvider({ source: url, pollIntervalMs: 0, timeoutMs: 500 })
    )
    const d = await client.getBooleanDetails(F, true, { targetingKey: 'u' })
    expect(d).toMatchObject({ value: true, reason: 'ERROR', errorCode: ErrorCode.GENERAL })
    expect(d.errorMessage).toMatch(/datafile unavailable/)
  })

  it('a datafile that breaks after loading keeps serving the last good one, and says it is stale', async () => {
    const { server, set } = await datafileServer(
      documentAt(state(policy, 'full_production', running))
    )
    servers.push(server)
    const provider = new PhasegateProvider({ source: server.url, pollIntervalMs: 0 })
    const client = await clientFor(provider)
    const stale = new Promise<void>(resolve =>
      client.addHandler(ProviderEvents.Stale, () => resolve())
    )
    set('not json')
    await provider.refresh()
    await stale
    expect(await client.getBooleanValue(F, false, { targetingKey: 'user-1' })).toBe(true)
  })
})
