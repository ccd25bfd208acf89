import { basename, extname } from 'node:path'
import type { Policy } from '../engine/types.js'
import { PhasegateError } from '../errors.js'
import { createProvider } from '../metrics/index.js'
import { normalizePolicy, PolicyIssues } from './normalize.js'
import { policySchema } from './schema.js'
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
  const raw = validate(policySchema, source, toPlain(source))
  let policy: Policy
  try {
    policy = normalizePolicy(raw, fileStem)
  } catch (error) {
    if (!(error instanceof PolicyIssues)) throw error
    const issue = error.issues[0]!
    throw errorAt(source, issue.path, issue.message, issue.hint)
  }
  // The provider checks its own options; a mistake there is still a mistake in this file.
  try {
    createProvider(policy.metrics)
  } catch (error) {
    if (!(error instanceof PhasegateError)) throw error
    throw errorAt(
      source,
      raw.metrics?.provider ? ['metrics', 'provider'] : ['metrics'],
      error.message,
      error.hint
    )
  }
  return policy
}
