import type { Connection, JsonAnswer, SourceHealth } from './connection.js'

// Every PromQL query of a run that goes to the same server, at the same evaluation time (or over
// the same range), with the same headers, is collected for one turn of the event loop and sent as
// few requests as possible:
//
//   - identical queries (two policies reading the same series) are sent once;
//   - different queries are combined, up to `batch_size` in one request, as
//       label_replace(q0, "phasegate_query", "0", "", "") or label_replace(q1, ...) or ...
//     and each query gets back the series carrying its own marker, with the marker removed.
//
// So a repository with fifty policies makes a few dozen requests per tick instead of hundreds,
// which is what keeps its tick near the time of its slowest query when the server is far away and
// the per-server concurrency limit would otherwise queue the queries.
//
// A combined request that fails (a scalar query cannot be given a label, one query may not parse,
// the answer may be too slow or too large, the server may answer 5xx) is never a lost reading: its
// queries are then sent one by one, each with its own retries, so each gets exactly the answer and
// the reason it would get alone. Only a server that cannot be reached at all, or that answers 429
// (slow down) after the retries, fails the whole batch, as it would have failed each query.

export const BATCH_LABEL = 'phasegate_query'

export interface PromQuery {
  connection: Connection
  /** The server's base URL, without a trailing slash. */
  base: string
  path: '/api/v1/query' | '/api/v1/query_range'
  /** `time`, or `start`, `end` and `step`. */
  params: Record<string, string>
  query: string
  headers: Record<string, string>
  /** Names the server in reasons. */
  server: string
  /** At most this many queries in one request; 1 sends every query on its own. */
  batchSize: number
}

interface Waiter {
  query: PromQuery
  resolve: (answer: JsonAnswer) => void
}

const pending = new Map<string, Waiter[]>()

/** Answers one query as if sent alone, combining it with the run's other queries where it can. */
export function queryPrometheus(query: PromQuery): Promise<JsonAnswer> {
  const key = JSON.stringify([
    query.connection.key,
    query.base,
    query.path,
    Object.entries(query.params).sort(),
    Object.entries(query.headers).sort(),
    query.batchSize
  ])
  return new Promise(resolve => {
    let waiters = pending.get(key)
    if (!waiters) {
      waiters = []
      pending.set(key, waiters)
      setImmediate(() => {
        pending.delete(key)
        void flush(waiters!)
      })
    }
    waiters.push({ query, resolve })
  })
}

async function flush(waiters: Waiter[]): Promise<void> {
  const byText = new Map<string, Waiter[]>()
  for (const waiter of waiters) {
    const same = byText.get(waiter.query.query)
    if (same) same.push(waiter)
    else byText.set(waiter.query.query, [waiter])
  }
  const alone: Waiter[][] = []
  const combinable: Waiter[][] = []
  for (const group of byText.values()) {
    ;(canCombine(group[0]!.query.query) ? combinable : alone).push(group)
  }
  const size = Math.max(1, waiters[0]!.query.batchSize)
  const chunks: Waiter[][][] = alone.map(group => [group])
  for (let i = 0; i < combinable.length; i += size) chunks.push(combinable.slice(i, i + size))
  await Promise.all(
    chunks.map(async chunk => {
      try {
        await (chunk.length === 1 ? sendAlone(chunk[0]!) : sendCombined(chunk))
      } catch (error) {
        // Never leave a reading waiting: a bug here is no data with its reason, not a hang.
        const reason = `failed unexpectedly (${(error as Error).message})`
        for (const waiter of chunk.flat()) waiter.resolve({ ok: false, reason })
      }
    })
  )
}

function healthsOf(waiters: Waiter[]): SourceHealth[] {
  return waiters.map(w => w.query.connection.health)
}

function post(
  first: PromQuery,
  query: string,
  waiters: Waiter[],
  retrySlowOrFailing = true
): Promise<JsonAnswer> {
  const form = new URLSearchParams({ query, ...first.params })
  return first.connection.send(
    {
      method: 'POST',
      url: first.base + first.path,
      headers: { ...first.headers, 'Content-Type': 'application/x-www-form-urlencoded' },
      body: form.toString()
    },
    first.server,
    { alsoFor: healthsOf(waiters), retrySlowOrFailing }
  )
}

/** One query (asked for by one or more policies), sent on its own. */
async function sendAlone(group: Waiter[]): Promise<void> {
  const first = group[0]!.query
  const answer = await post(first, first.query, group)
  for (const waiter of group) waiter.resolve(answer)
}

async function sendCombined(groups: Waiter[][]): Promise<void> {
  const all = groups.flat()
  const first = all[0]!.query
  const text = groups
    .map(
      (group, i) => `label_replace(\n${group[0]!.query.query}\n, "${BATCH_LABEL}", "${i}", "", "")`
    )
    .join(' or ')
  // A combined query that is too slow or fails is retried as single queries, not as itself.
  const answer = await post(first, text, all, false)
  const split = splitAnswer(answer, groups.length)
  if (split) {
    groups.forEach((group, i) => group.forEach(w => w.resolve(split[i]!)))
    return
  }
  if (!answer.ok && unreachable(answer)) {
    for (const waiter of all) waiter.resolve(answer)
    return
  }
  await Promise.all(groups.map(sendAlone))
}

/** No connection at all, or 429 after the retries: single queries would fare no better. */
function unreachable(answer: { status?: number; timedOut?: boolean }): boolean {
  return (answer.status === undefined && !answer.timedOut) || answer.status === 429
}

interface SeriesJson {
  metric?: Record<string, string>
}

/** Each query's share of a combined answer, shaped as the answer to that query alone. */
function splitAnswer(answer: JsonAnswer, count: number): JsonAnswer[] | undefined {
  if (!answer.ok || answer.json === null || typeof answer.json !== 'object') return undefined
  const json = answer.json as {
    status?: unknown
    data?: { resultType?: unknown; result?: unknown }
  }
  const type = json.data?.resultType
  const result = json.data?.result
  if (json.status !== 'success' || (type !== 'vector' && type !== 'matrix')) return undefined
  if (!Array.isArray(result)) return undefined
  const shares: SeriesJson[][] = Array.from({ length: count }, () => [])
  for (const series of result as SeriesJson[]) {
    const index = Number(series?.metric?.[BATCH_LABEL])
    if (!Number.isInteger(index) || index < 0 || index >= count) return undefined
    const metric = { ...series.metric }
    delete metric[BATCH_LABEL]
    shares[index]!.push({ ...series, metric })
  }
  return shares.map(share => ({
    ok: true,
    status: answer.status,
    json: { status: 'success', data: { resultType: type, result: share } }
  }))
}

/**
 * Whether a query can sit inside label_replace( … ) without changing what the combined query
 * means: its brackets balance outside string literals and comments, and it has no comma at the
 * top level. (The query is also put on lines of its own, so a trailing # comment ends with it.)
 * One that cannot is sent alone, where Prometheus reports its error as usual.
 */
export function canCombine(query: string): boolean {
  const closing: string[] = []
  const pairs: Record<string, string> = { '(': ')', '[': ']', '{': '}' }
  for (let i = 0; i < query.length; i++) {
    const c = query[i]!
    if (c === '"' || c === "'" || c === '`') {
      const end = stringEnd(query, i)
      if (end < 0) return false
      i = end
    } else if (c === '#') {
      const newline = query.indexOf('\n', i)
      if (newline < 0) break
      i = newline
    } else if (c in pairs) {
      closing.push(pairs[c]!)
    } else if (c === ')' || c === ']' || c === '}') {
      if (closing.pop() !== c) return false
    } else if (c === ',' && closing.length === 0) {
      return false
    }
  }
  return closing.length === 0
}

/** The index of the quote closing the string literal opened at `start`, or -1. */
function stringEnd(query: string, start: number): number {
  const quote = query[start]!
  for (let i = start + 1; i < query.length; i++) {
    if (quote !== '`' && query[i] === '\\') i++
    else if (query[i] === quote) return i
  }
  return -1
}
