import { createServer, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { PhasegateError } from '../../src/errors.js'
import { createProvider, sourceFailuresOf } from '../../src/metrics/index.js'
import { DEFAULT_MAX_RESPONSE_BYTES } from '../../src/metrics/connection.js'
import type { ReadContext } from '../../src/metrics/provider.js'
import { parsePolicyText } from '../../src/policy/load.js'

// A metrics answer larger than the provider's cap (issue 11, kind 7) is no data for the metrics
// it carried, with a reason that repeats none of it, and is read no further than the cap: the
// server here streams its oversized answers from one reused 64 KiB buffer and counts what it
// managed to send before phasegate hung up.

const NOW = new Date('2026-01-05T03:00:00Z')
const NOW_S = NOW.getTime() / 1000
const MARKER = 'SECRET-CONTENT'
const MiB = 1 << 20
const context: ReadContext = {
  feature: 'checkout',
  phase: 'canary',
  now: NOW,
  baseDir: '.',
  window: '5m',
  env: {}
}

/** A valid one-series instant answer (the series labelled with MARKER), then `padding` spaces. */
const answerHead = JSON.stringify({
  status: 'success',
  data: { resultType: 'vector', result: [{ metric: { note: MARKER }, value: [NOW_S, '0.004'] }] }
})

interface Script {
  /** Bytes of padding after the JSON answer. */
  padding: number
  /** Send Content-Length (the whole size) instead of chunked encoding. */
  declared?: boolean
}

let server: Server
let url: string
/** What the next request is answered with, and how many bytes the last answer got out. */
let script: Script = { padding: 0 }
let sent = 0

async function stream(response: ServerResponse, { padding, declared }: Script): Promise<void> {
  const total = answerHead.length + padding
  response.writeHead(200, {
    'Content-Type': 'application/json',
    ...(declared ? { 'Content-Length': String(total) } : {})
  })
  let closed = false
  response.on('close', () => (closed = true))
  response.write(answerHead)
  sent = answerHead.length
  const piece = Buffer.alloc(64 * 1024, ' ')
  for (let left = padding; left > 0 && !closed;) {
    const n = Math.min(left, piece.length)
    const more = response.write(n === piece.length ? piece : piece.subarray(0, n))
    sent += n
    left -= n
    if (!more && !closed)
      await new Promise<void>(resolve => {
        response.once('drain', resolve)
        response.once('close', resolve)
      })
  }
  if (!closed) response.end()
}

beforeAll(async () => {
  server = createServer((request, response) => {
    request.resume()
    request.on('end', () => void stream(response, script))
  })
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
})

afterAll(async () => {
  server.closeAllConnections()
  await new Promise(resolve => server.close(resolve))
})

function prometheus(extra = '') {
  const text = `feature: checkout
deployment: {}
metrics:
  provider: prometheus
  url: ${url}
  timeout_ms: 20000
  retries: 0
${extra}  queries:
    error_rate: app_error_ratio
`
  return createProvider(parsePolicyText(text, 'checkout.yaml').metrics)
}

async function readErrorRate(provider = prometheus()) {
  const [reading] = await provider.read([{ metric: 'error_rate' }], context)
  return { reading: reading!, provider }
}

describe('metrics answers have a size cap', () => {
  it('is 16 MiB unless the provider says otherwise', () => {
    expect(DEFAULT_MAX_RESPONSE_BYTES).toBe(16 * MiB)
  })

  it('a 40 MiB answer is no data (never a pass), its content not repeated, the source not failing', async () => {
    script = { padding: 40 * MiB }
    const { reading, provider } = await readErrorRate()
    expect(reading.value).toBeNull()
    expect(reading.reason).toContain('more than 16 MiB')
    expect(reading.reason).toContain('max_response_bytes')
    expect(reading.reason).not.toContain(MARKER)
    expect(reading.reason!.length).toBeLessThan(400)
    // The server answered: an answer too large is not an unreachable source (system_failure).
    expect(sourceFailuresOf(provider)).toBeUndefined()
    // Read no further than the cap (plus what was already in flight).
    expect(sent).toBeLessThan(40 * MiB)
  })

  it('a declared 600 MB answer is refused from its Content-Length, before the body', async () => {
    script = { padding: 600_000_000, declared: true }
    const started = Date.now()
    const { reading } = await readErrorRate()
    expect(reading.value).toBeNull()
    expect(reading.reason).toMatch(/declared 600000\d+ bytes, more than 16 MiB/)
    expect(reading.reason).not.toContain(MARKER)
    expect(sent).toBeLessThan(64 * MiB)
    expect(Date.now() - started).toBeLessThan(15_000)
  })

  it('an endless 600 MB chunked answer is cut at the cap in bounded memory', async () => {
    script = { padding: 600_000_000 }
    global.gc?.()
    const heapBefore = process.memoryUsage().heapUsed
    const { reading } = await readErrorRate()
    expect(reading.value).toBeNull()
    expect(reading.reason).toContain('more than 16 MiB')
    expect(sent).toBeLessThan(64 * MiB)
    // Well under what reading 600 MB would take (the old code held over 1 GB for less).
    expect(process.memoryUsage().heapUsed - heapBefore).toBeLessThan(200 * MiB)
  })

  it('a policy raises the cap for its provider: the same 40 MiB answer is read', async () => {
    script = { padding: 40 * MiB }
    const { reading } = await readErrorRate(prometheus('  max_response_bytes: 67108864\n'))
    expect(reading.value).toBe(0.004)
  })

  it('a policy lowers it: a 10 KiB answer over a 4 KiB cap is no data', async () => {
    script = { padding: 10 * 1024 }
    const { reading } = await readErrorRate(prometheus('  max_response_bytes: 4096\n'))
    expect(reading.value).toBeNull()
    expect(reading.reason).toContain('more than 4096 bytes')
  })

  it('the http provider has the same cap', async () => {
    script = { padding: 10 * 1024 }
    const text = `feature: checkout
deployment: {}
metrics:
  provider: http
  url: ${url}
  max_response_bytes: 4096
  retries: 0
  value_path: $.data.result[0].value[1]
  queries:
    error_rate: app_error_ratio
`
    const provider = createProvider(parsePolicyText(text, 'checkout.yaml').metrics)
    const [reading] = await provider.read([{ metric: 'error_rate' }], context)
    expect(reading!.value).toBeNull()
    expect(reading!.reason).toContain('more than 4096 bytes')
    expect(reading!.reason).not.toContain(MARKER)
  })

  it('a cap that is not a positive whole number of bytes is a policy error', () => {
    for (const bad of ['0', '-1', '1.5', 'big'])
      expect(() => prometheus(`  max_response_bytes: ${bad}\n`), bad).toThrow(PhasegateError)
  })
})

// The file provider reads snapshots through readYamlFile, which already refuses a file over its
// limit before parsing it: a guard that the refusal repeats none of the file.
describe('metrics snapshot files are capped too', () => {
  it('a 17 MiB snapshot is no data by its size, never read as a value', async () => {
    const { mkdtempSync, openSync, writeSync, closeSync } = await import('node:fs')
    const { tmpdir } = await import('node:os')
    const { join } = await import('node:path')
    const dir = mkdtempSync(join(tmpdir(), 'phasegate-snapshot-cap-'))
    const path = join(dir, 'metrics.yaml')
    const fd = openSync(path, 'w')
    writeSync(fd, `error_rate: 0.004\n# ${MARKER}`)
    const piece = Buffer.alloc(64 * 1024, 'x')
    for (let i = 0; i < (17 * MiB) / piece.length; i++) writeSync(fd, piece)
    closeSync(fd)
    const text = `feature: checkout\ndeployment: {}\nmetrics:\n  provider: file\n  path: metrics.yaml\n`
    const provider = createProvider(parsePolicyText(text, 'checkout.yaml').metrics)
    // Unreadable as a whole: no data for every metric, with why (issue 15, A1), not a refusal
    // that would stop the feature's other rollback paths.
    const [reading] = await provider.read([{ metric: 'error_rate' }], { ...context, baseDir: dir })
    expect(reading!.value).toBeNull()
    expect(reading!.reason).toMatch(/is \d+ bytes, over the \d+-byte limit/)
    expect(reading!.reason).not.toContain(MARKER)
  })
})
