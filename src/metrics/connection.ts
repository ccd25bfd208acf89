import type { Agent } from 'node:http'
import * as z from 'zod'
import { PhasegateError } from '../errors.js'
import { lazy } from '../lazy.js'
import { limiterFor, type Limiter } from './limit.js'
import type { MetricsProvider } from './provider.js'

// How the prometheus and http providers talk to a metrics server: the URL, headers and auth
// (secrets come from environment variables only, so they never sit in a policy), a timeout per
// attempt, bounded retries, and a shared limit on queries in flight.

/**
 * The largest answer a metrics server may send, in bytes, unless the provider's
 * `max_response_bytes` says otherwise: 16 MiB, hundreds of times a real answer of aggregates.
 * A larger answer is read no further than this and is no data for the queries it carried.
 */
export const DEFAULT_MAX_RESPONSE_BYTES = 16 * 1024 * 1024

/** The options every metrics server provider shares, built on first use (lazy). */
export const connectionShape = lazy(() => {
  const envName = z
    .string()
    .regex(/^[A-Za-z_][A-Za-z0-9_]*$/, { message: 'an environment variable name is expected' })
  const headerValue = z.union([z.string(), z.strictObject({ env: envName })])
  return {
    url: z.url({ protocol: /^https?$/, message: 'url must be an http:// or https:// URL' }),
    headers: z.record(z.string().min(1), headerValue).optional(),
    bearer_token_env: envName.optional(),
    basic_auth: z
      .strictObject({
        username: z.string().optional(),
        username_env: envName.optional(),
        password_env: envName
      })
      .refine(b => (b.username === undefined) !== (b.username_env === undefined), {
        message: 'basic_auth needs exactly one of username or username_env'
      })
      .optional(),
    timeout_ms: z.number().int().positive().max(300_000).default(10_000),
    retries: z.number().int().min(0).max(10).default(2),
    concurrency: z.number().int().positive().max(256).default(8),
    // At most 256 MiB: a JSON text past that cannot be parsed in the memory a runner has to spare.
    max_response_bytes: z
      .number()
      .int()
      .positive()
      .max(256 * 1024 * 1024)
      .default(DEFAULT_MAX_RESPONSE_BYTES)
  }
})

export type ConnectionOptions = z.infer<z.ZodObject<ReturnType<typeof connectionShape>>>

/** Validates a provider's options; a mistake is a PhasegateError naming the option and the fix. */
export function parseOptions<T>(schema: z.ZodType<T>, options: unknown, provider: string): T {
  // Parsed once per run: no JIT (see validate() in policy/yaml.ts).
  const parsed = schema.safeParse(options, { jitless: true })
  if (parsed.success) return parsed.data
  const issue = parsed.error.issues[0]!
  const path = issue.path.length ? `metrics.${issue.path.join('.')}` : 'metrics'
  throw new PhasegateError(`${path}: ${issue.message} (${provider} provider)`, {
    hint: `see docs/metrics.md for the ${provider} provider's options`
  })
}

/** The headers to send, with secrets read from the environment; a missing variable is an error. */
export function requestHeaders(
  options: ConnectionOptions,
  env: Record<string, string | undefined>
): Record<string, string> {
  const fromEnv = (name: string, option: string) => {
    const value = env[name]
    if (value === undefined || value === '') {
      throw new PhasegateError(
        `metrics.${option}: environment variable ${name} is not set, so the metrics server cannot be authenticated`,
        { hint: `set ${name} in the workflow's env (from a secret)` }
      )
    }
    return value
  }
  const headers: Record<string, string> = {}
  for (const [name, value] of Object.entries(options.headers ?? {})) {
    headers[name] = typeof value === 'string' ? value : fromEnv(value.env, `headers.${name}.env`)
  }
  if (options.bearer_token_env) {
    headers.Authorization = `Bearer ${fromEnv(options.bearer_token_env, 'bearer_token_env')}`
  }
  if (options.basic_auth) {
    const { username, username_env, password_env } = options.basic_auth
    const user = username ?? fromEnv(username_env!, 'basic_auth.username_env')
    const password = fromEnv(password_env, 'basic_auth.password_env')
    headers.Authorization = `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`
  }
  return headers
}

export interface JsonRequest {
  method: 'GET' | 'POST'
  url: string
  headers: Record<string, string>
  body?: string
}

export type JsonAnswer =
  | { ok: true; status: number; json: unknown }
  | { ok: false; reason: string; status?: number; json?: unknown; timedOut?: boolean }

export interface SendOptions {
  /** Other connections' health to count each attempt in too (queries that rode along in a batch). */
  alsoFor?: SourceHealth[]
  /**
   * Retry an attempt that got no answer in time or a 5xx (default true). A combined query does
   * not: its queries are then sent singly instead, each with its own retries.
   */
  retrySlowOrFailing?: boolean
}

/**
 * Counts consecutive attempts on which the server could not be reached (no connection, no answer
 * in time, 5xx), for the system_failure trigger. Any answer from the server resets the count.
 */
export class SourceHealth {
  consecutive = 0
  reason = ''

  reached() {
    this.consecutive = 0
    this.reason = ''
  }

  unreachable(reason: string) {
    this.consecutive++
    this.reason = reason
  }

  failures(): { consecutive: number; reason: string } | undefined {
    return this.consecutive > 0 ? { consecutive: this.consecutive, reason: this.reason } : undefined
  }
}

/** A provider that can also say whether its source has been unreachable (system_failure). */
export interface SourceAwareProvider extends MetricsProvider {
  sourceFailures(): { consecutive: number; reason: string } | undefined
}

/** For Observations.sourceFailures: how often in a row the provider's source could not be reached. */
export function sourceFailuresOf(
  provider: MetricsProvider
): { consecutive: number; reason: string } | undefined {
  return 'sourceFailures' in provider
    ? (provider as SourceAwareProvider).sourceFailures()
    : undefined
}

export interface Connection {
  /**
   * `what` names the server in reasons, e.g. "Prometheus at http://host:9090". Each attempt's
   * outcome is counted in this connection's health (and in `options.alsoFor`'s).
   */
  send(request: JsonRequest, what: string, options?: SendOptions): Promise<JsonAnswer>
  readonly health: SourceHealth
  /** Requests through connections with equal keys may be combined: same server, same limits. */
  readonly key: string
}

const RETRY_BASE_MS = 100

export function connect(options: ConnectionOptions): Connection {
  const limit: Limiter = limiterFor(new URL(options.url).origin, options.concurrency)
  const health = new SourceHealth()
  const attempts = options.retries + 1

  async function once(
    request: JsonRequest,
    what: string,
    healths: SourceHealth[]
  ): Promise<JsonAnswer & { retry: boolean }> {
    const reached = () => healths.forEach(h => h.reached())
    const unreachable = (reason: string) => healths.forEach(h => h.unreachable(reason))
    let response: { status: number; text: string }
    try {
      response = await exchange(request, options.timeout_ms, options.max_response_bytes)
    } catch (error) {
      if (error instanceof AnswerTooLarge) {
        // The server answered: too much to read is no data, not an unreachable source.
        reached()
        return { ok: false, status: error.status, reason: error.reason(), retry: false }
      }
      const timedOut = error instanceof AnswerTimeout
      const reason = timedOut
        ? `did not answer within ${options.timeout_ms} ms`
        : `could not be reached (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`
      unreachable(`${what} ${reason}`)
      return { ok: false, reason, retry: true, ...(timedOut ? { timedOut } : {}) }
    }
    const { text } = response
    if (response.status >= 500 || response.status === 429) {
      const reason = `answered HTTP ${response.status}${excerpt(text)}`
      if (response.status >= 500) unreachable(`${what} ${reason}`)
      else reached()
      return { ok: false, status: response.status, reason, retry: true }
    }
    reached()
    let json: unknown
    try {
      json = JSON.parse(text)
    } catch (error) {
      return {
        ok: false,
        status: response.status,
        reason: `answered HTTP ${response.status} with malformed JSON (${(error as Error).message})${excerpt(text)}`,
        retry: false
      }
    }
    if (response.status < 200 || response.status > 299) {
      return {
        ok: false,
        status: response.status,
        json,
        reason: `answered HTTP ${response.status}${excerpt(text)}`,
        retry: false
      }
    }
    return { ok: true, status: response.status, json, retry: false }
  }

  return {
    health,
    key: JSON.stringify([
      options.url,
      options.timeout_ms,
      options.retries,
      options.concurrency,
      options.max_response_bytes
    ]),
    send: (request, what, { alsoFor = [], retrySlowOrFailing = true } = {}) =>
      limit(async () => {
        const healths = [health, ...new Set(alsoFor.filter(h => h !== health))]
        for (let attempt = 1; ; attempt++) {
          const { retry, ...answer } = await once(request, what, healths)
          const slowOrFailing = !answer.ok && (answer.timedOut || (answer.status ?? 0) >= 500)
          const again = retry && (retrySlowOrFailing || !slowOrFailing)
          if (answer.ok || !again || attempt >= attempts) {
            if (!answer.ok && attempt > 1) answer.reason += ` (after ${attempt} attempts)`
            return answer
          }
          await new Promise(resolve => setTimeout(resolve, RETRY_BASE_MS * 2 ** (attempt - 1)))
        }
      })
  }
}

class AnswerTimeout extends Error {}

/** An answer over max_response_bytes: by its Content-Length (`declared`), or as it streamed in. */
class AnswerTooLarge extends Error {
  constructor(
    readonly status: number,
    readonly max: number,
    readonly declared?: number
  ) {
    super('answer too large')
  }

  /** Says how large, never what: the content of an oversized answer is not repeated. */
  reason(): string {
    const size = this.declared === undefined ? '' : `of a declared ${this.declared} bytes, `
    return `sent an answer ${size}more than ${bytesText(this.max)} (metrics.max_response_bytes), so it was not read: raise max_response_bytes for this provider if answers this large are expected`
  }
}

function bytesText(bytes: number): string {
  const MiB = 1024 * 1024
  return bytes % MiB === 0 ? `${bytes / MiB} MiB` : `${bytes} bytes`
}

// Keep-alive agents shared by every query of the run. node:http rather than fetch: a tick sends
// hundreds of small queries, and fetch spends several times more CPU on each (measured by
// bench/prometheus-tick.bench.ts); idle keep-alive sockets are unref'd, so they never hold the
// process open. Loaded with the first request: on Node 24 importing node:http loads about a
// hundred modules (http2, zlib, undici ...), a cost every command on the file provider would pay.
let clients:
  | Promise<Record<'http:' | 'https:', { module: typeof import('node:http'); agent: Agent }>>
  | undefined

function clientsLoaded() {
  return (clients ??= Promise.all([import('node:http'), import('node:https')]).then(
    ([http, https]) => ({
      'http:': { module: http.default, agent: new http.default.Agent({ keepAlive: true }) },
      'https:': {
        module: https.default as unknown as typeof import('node:http'),
        agent: new https.default.Agent({ keepAlive: true })
      }
    })
  ))
}

/**
 * One HTTP exchange; rejects with AnswerTimeout when the whole answer takes longer than timeoutMs,
 * and with AnswerTooLarge as soon as its Content-Length or the bytes received pass maxBytes (the
 * connection is then dropped, so the rest is never sent or held).
 */
async function exchange(
  request: JsonRequest,
  timeoutMs: number,
  maxBytes: number
): Promise<{ status: number; text: string }> {
  const url = new URL(request.url)
  const { module: client, agent } = (await clientsLoaded())[
    url.protocol === 'https:' ? 'https:' : 'http:'
  ]
  return new Promise((resolve, reject) => {
    const outgoing = client.request(
      url,
      {
        method: request.method,
        headers: {
          Accept: 'application/json',
          ...request.headers,
          ...(request.body !== undefined
            ? { 'Content-Length': String(Buffer.byteLength(request.body)) }
            : {})
        },
        agent
      },
      incoming => {
        const status = incoming.statusCode ?? 0
        const declared = Number(incoming.headers['content-length'])
        if (declared > maxBytes) return fail(new AnswerTooLarge(status, maxBytes, declared))
        const chunks: Buffer[] = []
        let received = 0
        incoming.on('data', (chunk: Buffer) => {
          received += chunk.length
          if (received > maxBytes) fail(new AnswerTooLarge(status, maxBytes))
          else chunks.push(chunk)
        })
        incoming.on('error', fail)
        incoming.on('end', () => {
          clearTimeout(timer)
          resolve({
            status,
            text: Buffer.concat(chunks).toString('utf8')
          })
        })
      }
    )
    const timer = setTimeout(() => fail(new AnswerTimeout()), timeoutMs)
    function fail(error: Error) {
      clearTimeout(timer)
      outgoing.destroy()
      reject(error)
    }
    outgoing.on('error', fail)
    outgoing.end(request.body)
  })
}

function excerpt(text: string): string {
  const trimmed = text.trim().replace(/\s+/g, ' ')
  if (!trimmed) return ''
  return `: ${trimmed.length > 200 ? `${trimmed.slice(0, 200)}...` : trimmed}`
}
