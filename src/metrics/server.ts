import type { MetricReading } from '../engine/types.js'
import {
  connect,
  requestHeaders,
  type Connection,
  type ConnectionOptions,
  type SourceAwareProvider
} from './connection.js'
import { PERFORMANCE_DEGRADATION, readWithDerived, type DegradationOptions } from './derived.js'
import type { MetricRequest, ReadContext } from './provider.js'

export type ReadOne = (
  connection: Connection,
  request: MetricRequest,
  context: ReadContext,
  headers: Record<string, string>
) => Promise<MetricReading>

/**
 * A provider backed by a metrics server: one connection, opened on the first read (validating a
 * policy opens none), whose health answers system_failure, and performance_degradation derived
 * around `readOne` where the policy gives no query for it.
 */
export function serverProvider(
  name: string,
  options: ConnectionOptions & { performance_degradation?: DegradationOptions },
  hasQuery: (request: MetricRequest) => boolean,
  readOne: ReadOne,
  queried: string[]
): SourceAwareProvider {
  let connection: Connection | undefined
  const derived = options.performance_degradation ? [PERFORMANCE_DEGRADATION] : []
  return {
    name,
    metricNames: new Set([...queried, ...derived]),
    sourceFailures: () => connection?.health.failures(),
    async read(requests, context) {
      const headers = requestHeaders(options, context.env)
      const open = (connection ??= connect(options))
      return readWithDerived(
        requests,
        context,
        options.performance_degradation,
        hasQuery,
        (wanted, at) => Promise.all(wanted.map(r => readOne(open, r, at, headers)))
      )
    }
  }
}
