import { basename, extname } from 'node:path'
import type { Policy } from '../engine/types.js'
import { normalizePolicy, PolicyIssues } from './normalize.js'
import { policySchema } from './schema.js'
import { errorAt, readYamlFile, toPlain, validate } from './yaml.js'

/** Reads, validates and normalizes a policy file; throws a PhasegateError at file:line:col. */
export function loadPolicy(path: string, file = path): Policy {
  const source = readYamlFile(path, 'policy file', file)
  const raw = validate(policySchema, source, toPlain(source))
  try {
    return normalizePolicy(raw, basename(path, extname(path)))
  } catch (error) {
    if (!(error instanceof PolicyIssues)) throw error
    const issue = error.issues[0]!
    throw errorAt(source, issue.path, issue.message, issue.hint)
  }
}
