import type { MetricsConfig } from '../engine/types.js'
import { PhasegateError } from '../errors.js'
import { createFileProvider } from './file.js'
import { createHttpProvider } from './http.js'
import { createPrometheusProvider } from './prometheus.js'
import type { MetricsProvider, ProviderFactory } from './provider.js'

const PROVIDERS: Record<string, ProviderFactory> = {
  file: createFileProvider,
  prometheus: createPrometheusProvider,
  http: createHttpProvider
}

export function createProvider(config: MetricsConfig): MetricsProvider {
  const factory = PROVIDERS[config.provider]
  if (!factory) {
    throw new PhasegateError(`unknown metrics provider "${config.provider}"`, {
      hint: `use one of ${Object.keys(PROVIDERS).join(', ')}`
    })
  }
  return factory(config)
}

export type { MetricRequest, MetricsProvider, ReadContext } from './provider.js'
export { sourceFailuresOf } from './connection.js'
