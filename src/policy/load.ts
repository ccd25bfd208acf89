import { basename, extname } from 'node:path'
import type { Policy } from '../engine/types.js'
import { PhasegateError } from '../errors.js'
import { createProvider, type MetricsProvider } from '../metrics/index.js'
import { namedMetrics } from './metric-names.js'
import { closest } from './closest.js'
import { metricsConfigOf, normalizePolicy, PolicyIssues, type PolicyIssue } from './normalize.js'
import { fixedZoneNotices } from './operate-schema.js'
import { policySchema, type RawPolicy } from './schema.js'
import { errorAt, parseYaml, readYamlFile, toPlain, validate, type YamlSource } from './yaml.js'

/** Reads, validates and normalizes a policy file; throws a PhasegateError at file:line:col. */
export function loadPolicy(path: string, file = path): Policy {
  return fromSource(readYamlFile(path, 'policy file', file), basename(path, extname(path)))
}

/** The same for policy text already in memory (e.g. a file at another commit). */
export function parsePolicyText(text: string, file: string): Policy {
  return fromSource(parseYaml(text, file, 'policy file'), basename(file, extname(file)))
}

function fromSource(source: YamlSource, fileStem: string): Policy {
  const plain = toPlain(source)
  const raw = validate(policySchema, source, plain)
  try {
    checkMetricsProvider(source, raw)
    const normalized = normalizePolicy(raw, fileStem)
    const { policy } = normalized
    // Time zones as written: the schema keeps only each window's zone, not where it was written.
    const notices = [...normalized.notices, ...fixedZoneNotices(plain)]
    if (notices.length === 0) return policy
    const errors = notices.map(n => located(source, n))
    return {
      ...policy,
      notices: errors.map(e => e.format()),
      noticeLocations: errors.map(e => e.location)
    }
  } catch (error) {
    if (!(error instanceof PolicyIssues)) throw error
    throw located(source, error.issues[0]!)
  }
}

function located(source: YamlSource, issue: PolicyIssue): PhasegateError {
  if (!issue.atKey) return errorAt(source, issue.path, issue.message, issue.hint)
  const key = String(issue.path[issue.path.length - 1])
  return errorAt(source, issue.path.slice(0, -1), issue.message, issue.hint, key)
}

/**
 * Builds the policy's metrics provider once, so that an unknown provider, a bad provider option
 * or a metric no query can produce is reported by `validate` at its line rather than by the first
 * `tick` without one. Providers that know which option is wrong throw PolicyIssues with its path.
 */
function checkMetricsProvider(source: YamlSource, raw: RawPolicy): void {
  let provider: MetricsProvider
  try {
    provider = createProvider(metricsConfigOf(raw))
  } catch (error) {
    if (error instanceof PolicyIssues || !(error instanceof PhasegateError)) throw error
    const where = raw.metrics?.provider ? ['metrics', 'provider'] : ['metrics']
    throw errorAt(source, where, error.message, error.hint)
  }
  const known = provider.metricNames
  if (!known) return
  const unknown = namedMetrics(raw).find(m => !known.has(m.metric) && m.metric !== 'system_failure')
  if (!unknown) return
  const guess = closest(unknown.metric, [...known])
  throw new PolicyIssues([
    {
      path: unknown.path,
      atKey: unknown.atKey,
      message: `${unknown.metric} has no query in metrics.queries${guess ? ` (did you mean "${guess}"?)` : ''}, so it could never be read`,
      hint: `fix the name, or add "${unknown.metric}: <query>" under metrics.queries`
    }
  ])
}
