import { readFileSync, statSync } from 'node:fs'
import {
  isMap,
  isPair,
  isScalar,
  isSeq,
  LineCounter,
  parseDocument,
  type Document,
  type Node
} from 'yaml'
import type { z } from 'zod'
import { PhasegateError } from '../errors.js'
import { closest } from './normalize.js'

/** Policy and state files are small; anything larger is a mistake (or an attack). */
export const MAX_FILE_BYTES = 256 * 1024

export interface YamlSource {
  file: string
  text: string
  doc: Document.Parsed
  lines: LineCounter
}

/** Reads a YAML file, refusing huge files, duplicate keys, alias bombs and syntax errors. */
export function readYamlFile(path: string, what: string, file = path): YamlSource {
  let size: number
  try {
    size = statSync(path).size
  } catch {
    throw new PhasegateError(`${what} not found`, { location: { file }, hint: 'check the path' })
  }
  if (size > MAX_FILE_BYTES) {
    throw new PhasegateError(`${what} is ${size} bytes, over the ${MAX_FILE_BYTES}-byte limit`, {
      location: { file, line: 1, col: 1 },
      hint: 'policy and state files are small; check that this is the right file'
    })
  }
  return parseYaml(readFileSync(path, 'utf8'), file, what)
}

export function parseYaml(text: string, file: string, what: string): YamlSource {
  const lines = new LineCounter()
  const doc = parseDocument(text, {
    lineCounter: lines,
    uniqueKeys: true,
    prettyErrors: false,
    strict: true
  })
  const problem = doc.errors[0]
  if (problem) {
    const [line, col] = position(lines, problem.pos[0])
    const sourceLine = text.split(/\r?\n/)[line - 1] ?? ''
    throw new PhasegateError(yamlMessage(problem.code, problem.message), {
      location: { file, line, col },
      hint: yamlHint(problem.code, sourceLine)
    })
  }
  if (doc.contents === null || !isMap(doc.contents)) {
    throw new PhasegateError(`${what} must be a YAML mapping`, {
      location: { file, line: 1, col: 1 },
      hint:
        doc.contents === null ? 'the file is empty' : 'the top level should be "key: value" lines'
    })
  }
  return { file, text, doc, lines }
}

/** The plain value of the document; alias expansion is capped so a "billion laughs" file fails fast. */
export function toPlain(source: YamlSource): unknown {
  try {
    return source.doc.toJS({ maxAliasCount: 100 })
  } catch (error) {
    throw new PhasegateError(`YAML aliases expand too far: ${(error as Error).message}`, {
      location: { file: source.file, line: 1, col: 1 },
      hint: 'remove the alias chain (&anchor / *alias); phasegate files need no aliases'
    })
  }
}

/** Validates with zod; the first issue becomes an error at its YAML position. */
export function validate<T>(schema: z.ZodType<T>, source: YamlSource, value: unknown): T {
  const result = schema.safeParse(value)
  if (result.success) return result.data
  const issue = result.error.issues[0]!
  throw errorAt(source, issue.path as (string | number)[], issueMessage(issue), issueHint(issue))
}

/** An error pointing at the YAML node for `path`, or its nearest existing parent. */
export function errorAt(
  source: YamlSource,
  path: (string | number)[],
  message: string,
  hint?: string
): PhasegateError {
  const where = path.length ? `${path.join('.')}: ` : ''
  const offset = nodeOffset(source.doc, path)
  const [line, col] = position(source.lines, offset)
  return new PhasegateError(`${where}${message}`, {
    location: { file: source.file, line, col },
    hint
  })
}

function nodeOffset(doc: Document.Parsed, path: (string | number)[]): number {
  let node: unknown = doc.contents
  let offset = (doc.contents as Node | null)?.range?.[0] ?? 0
  for (const key of path) {
    if (isMap(node)) {
      const pair = node.items.find(p => isScalar(p.key) && String(p.key.value) === String(key))
      if (!pair) break
      offset = (pair.key as Node).range?.[0] ?? offset
      node = pair.value
      if (node && (node as Node).range && !isMap(node) && !isSeq(node))
        offset = (node as Node).range![0]
    } else if (isSeq(node) && typeof key === 'number') {
      const item = node.items[key]
      if (!item) break
      node = isPair(item) ? item.value : item
      offset = (node as Node | null)?.range?.[0] ?? offset
    } else {
      break
    }
  }
  return offset
}

function position(lines: LineCounter, offset: number): [number, number] {
  const { line, col } = lines.linePos(offset)
  return [line, col]
}

function yamlMessage(code: string, message: string): string {
  const first = message.split('\n')[0]!.replace(/ at line \d+, column \d+:?$/, '')
  if (code === 'DUPLICATE_KEY') return `duplicate key: ${first}`
  return `YAML syntax error: ${first}`
}

function yamlHint(code: string, sourceLine: string): string {
  if (/:\s*>\s*[^\s|>-]/.test(sourceLine) || /:\s*>\s*\d/.test(sourceLine)) {
    return 'an unquoted ">" starts a YAML folded scalar; quote the threshold, e.g. "> 0.95"'
  }
  if (code === 'DUPLICATE_KEY')
    return 'each key may appear once in a mapping; remove or merge the repeated one'
  if (code === 'TAB_AS_INDENT' || /\t/.test(sourceLine)) return 'indent with spaces, not tabs'
  if (code === 'MULTIPLE_DOCS') return 'keep one YAML document per file (no second "---")'
  return 'check indentation, quotes and colons on this line'
}

function issueMessage(issue: z.core.$ZodIssue): string {
  switch (issue.code) {
    case 'unrecognized_keys':
      return `unknown key${issue.keys.length > 1 ? 's' : ''} ${issue.keys.map(k => `"${k}"`).join(', ')}`
    case 'invalid_union':
      if ('discriminator' in issue && issue.discriminator === 'type') {
        return `unknown gate type; expected one of ${(issue as unknown as { options: string[] }).options.join(', ')}`
      }
      return issue.message
    case 'invalid_type':
      return `expected ${issue.expected}${issue.input === undefined ? ' (missing)' : ''}`
    default:
      return issue.message
  }
}

const KNOWN_KEYS = [
  'feature',
  'state',
  'deployment',
  'experiments',
  'monitoring',
  'rollback',
  'metrics',
  'phases',
  'order',
  'enabled',
  'user_percentage',
  'feature_flags',
  'monitoring_level',
  'rollback_threshold',
  'success_criteria',
  'duration',
  'approvers',
  'gates',
  'groups',
  'weight',
  'configuration',
  'success_metrics',
  'minimum_sample_size',
  'seed',
  'hash_version',
  'alerts',
  'dashboards',
  'warning',
  'critical',
  'for',
  'automatic_triggers',
  'manual_approval_required',
  'emergency_contacts',
  'operators',
  'team',
  'user',
  'oncall',
  'thresholds',
  'required',
  'checks',
  'min_samples',
  'group',
  'name',
  'type',
  'when',
  'provider',
  'queries',
  'phase',
  'entered_at',
  'kill_switch',
  'last_transition',
  'status',
  'started_at'
]

function issueHint(issue: z.core.$ZodIssue): string {
  const custom = (issue as { params?: { hint?: string } }).params?.hint
  if (custom) return custom
  if (issue.code === 'unrecognized_keys') {
    const guess = closest(issue.keys[0]!, KNOWN_KEYS)
    return guess ? `did you mean "${guess}"?` : 'remove it, or check its indentation'
  }
  if (issue.code === 'invalid_union')
    return 'use metrics_threshold, manual_approval, automated_test or time_based'
  if (issue.code === 'too_small' || issue.code === 'too_big')
    return 'see the allowed range in schema/policy.schema.json'
  if (issue.code === 'invalid_type') return `write a ${issue.expected} here`
  return 'see schema/policy.schema.json'
}
