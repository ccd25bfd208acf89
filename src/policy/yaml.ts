import { readFileSync, statSync } from 'node:fs'
import {
  isCollection,
  isMap,
  isPair,
  isScalar,
  isSeq,
  LineCounter,
  parseDocument,
  visit,
  type Document,
  type Node,
  type YAMLError
} from 'yaml'
import type { z } from 'zod'
import { PhasegateError } from '../errors.js'
import { closest } from './closest.js'

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
    const stats = statSync(path)
    if (!stats.isFile()) {
      throw new PhasegateError(`${what} is a directory, not a file`, {
        location: { file },
        hint: 'point at the YAML file itself'
      })
    }
    size = stats.size
  } catch (error) {
    if (error instanceof PhasegateError) throw error
    throw new PhasegateError(`${what} not found`, { location: { file }, hint: 'check the path' })
  }
  if (size > MAX_FILE_BYTES) {
    throw new PhasegateError(`${what} is ${size} bytes, over the ${MAX_FILE_BYTES}-byte limit`, {
      location: { file, line: 1, col: 1 },
      hint: 'policy and state files are small; check that this is the right file'
    })
  }
  let text: string
  try {
    text = readFileSync(path, 'utf8')
  } catch (error) {
    throw new PhasegateError(`${what} cannot be read: ${(error as Error).message}`, {
      location: { file },
      hint: 'check its permissions'
    })
  }
  return parseYaml(text, file, what)
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
    const unclosed = unclosedFlowCollection(doc, problem)
    const [line, col] = position(lines, unclosed?.offset ?? problem.pos[0])
    const sourceLine = text.split(/\r?\n/)[line - 1] ?? ''
    if (unclosed) {
      throw new PhasegateError(`YAML syntax error: the "${unclosed.open}" here is never closed`, {
        location: { file, line, col },
        hint: `close it with "${unclosed.close}" on this line, or write it as indented lines`
      })
    }
    const folded = UNQUOTED_GREATER_THAN.exec(sourceLine)
    if (folded) {
      const [, key, threshold] = folded
      throw new PhasegateError(
        `YAML syntax error: an unquoted ">" starts a folded block, so ${threshold} is not read as a threshold`,
        {
          location: {
            file,
            line,
            col: sourceLine.indexOf(threshold!, sourceLine.indexOf(':')) + 1
          },
          hint: `quote the threshold: ${key}: "${threshold}"`
        }
      )
    }
    throw new PhasegateError(yamlMessage(problem, doc), {
      location: { file, line, col },
      hint: yamlHint(problem.code, sourceLine)
    })
  }
  const odd = unusualNode(doc)
  if (odd) {
    const [line, col] = position(lines, odd.offset)
    throw new PhasegateError(odd.message, { location: { file, line, col }, hint: odd.hint })
  }
  if (doc.contents === null || !isMap(doc.contents)) {
    const [line, col] = position(lines, doc.contents?.range?.[0] ?? 0)
    throw new PhasegateError(`${what} must be a YAML mapping`, {
      location: { file, line, col },
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
    // The yaml library reports these two without a position; find the alias to point at.
    const message = (error as Error).message
    const unresolved = /^Unresolved alias[^:]*: (.*)$/.exec(message)
    const alias = firstAlias(source.doc, unresolved?.[1])
    const [line, col] = position(source.lines, alias?.range?.[0] ?? 0)
    throw new PhasegateError(
      unresolved
        ? `YAML alias *${unresolved[1]} refers to no &${unresolved[1]} anchor before it`
        : `YAML aliases expand too far: ${message}`,
      {
        location: { file: source.file, line, col },
        hint: unresolved
          ? 'define the &anchor before using the *alias, or write the value out'
          : 'remove the alias chain (&anchor / *alias); phasegate files need no aliases'
      }
    )
  }
}

/**
 * YAML features phasegate files have no use for, and which would otherwise turn into confusing
 * messages later: explicit tags (!!binary becomes a byte array) and keys that are lists or mappings.
 */
function unusualNode(
  doc: Document.Parsed
): { offset: number; message: string; hint: string } | undefined {
  let found: { offset: number; message: string; hint: string } | undefined
  visit(doc, {
    Pair(_, pair) {
      if (pair.key !== null && !isScalar(pair.key)) {
        found = {
          offset: (pair.key as Node).range?.[0] ?? 0,
          message: 'a mapping key here is a list or mapping',
          hint: 'keys are plain names; check for a stray "?" or brackets before the colon'
        }
        return visit.BREAK
      }
    },
    Node(_, node) {
      if (node.tag) {
        const tag = node.tag.replace(/^tag:yaml\.org,2002:/, '!!')
        found = {
          offset: node.range?.[0] ?? 0,
          message: `YAML tag ${tag} is not used in phasegate files`,
          hint: 'remove the tag and write the value plainly'
        }
        return visit.BREAK
      }
    }
  })
  return found
}

function keyAt(doc: Document.Parsed, offset: number): string | undefined {
  let key: string | undefined
  visit(doc, {
    Pair(_, pair) {
      if (isScalar(pair.key) && pair.key.range?.[0] === offset) {
        key = String(pair.key.value)
        return visit.BREAK
      }
    }
  })
  return key
}

function firstAlias(doc: Document.Parsed, name?: string): Node | undefined {
  let found: Node | undefined
  visit(doc, {
    Alias(_, node) {
      if (name === undefined || node.source === name) {
        found = node
        return visit.BREAK
      }
    }
  })
  return found
}

/**
 * The yaml library reports an unclosed "{" or "[" where it gave up, often the next line; the
 * mistake is where the collection was opened.
 */
function unclosedFlowCollection(
  doc: Document.Parsed,
  problem: YAMLError
): { offset: number; open: string; close: string } | undefined {
  const close = /^Flow (?:map|sequence) .*end with a ([}\]])/.exec(problem.message)?.[1]
  if (!close) return undefined
  let offset: number | undefined
  visit(doc, (_, node) => {
    if (isCollection(node) && node.flow && node.range?.[1] === problem.pos[0])
      offset = node.range[0]
  })
  return offset === undefined ? undefined : { offset, open: close === '}' ? '{' : '[', close }
}

/** Validates with zod; the first issue becomes an error at its YAML position. */
export function validate<T>(schema: z.ZodType<T>, source: YamlSource, value: unknown): T {
  // jitless: zod's fast path compiles each object schema with new Function on its first parse, in
  // every process anew; a file is parsed once or twice per run, so compiling costs more than it
  // saves (the seed policy's first parse: ~100 ms with it, ~30 ms without). Same result either way.
  const result = schema.safeParse(value, { reportInput: true, jitless: true })
  if (result.success) return result.data
  const issue = innermost(mostTelling(result.error.issues))
  const path = issue.path as (string | number)[]
  if (issue.code === 'unrecognized_keys') {
    // An unknown key is pointed at itself, not at the mapping that holds it.
    const key = issue.keys[0]!
    throw errorAt(source, path, issueMessage(issue), unknownKeyHint(key, keysAt(schema, path)), key)
  }
  if (issue.code === 'invalid_key' && issue.issues[0]) {
    // A name that is not a valid key (an experiment called "a/b"): what a name may hold, at it.
    const inner = issue.issues[0]
    const key = String(path[path.length - 1])
    throw errorAt(
      source,
      path.slice(0, -1),
      `${JSON.stringify(key)}: ${issueMessage(inner)}`,
      issueHint(inner),
      key
    )
  }
  throw errorAt(source, path, issueMessage(issue), issueHint(issue))
}

/** The keys a mapping at `path` may have, from the schema (all options' keys for a union). */
function keysAt(schema: z.core.$ZodType, path: (string | number)[]): string[] {
  const def = schema._zod.def as z.core.$ZodTypeDef & {
    innerType?: z.core.$ZodType
    options?: z.core.$ZodType[]
    shape?: Record<string, z.core.$ZodType>
    valueType?: z.core.$ZodType
    element?: z.core.$ZodType
    in?: z.core.$ZodType
  }
  const [head, ...rest] = path
  switch (def.type) {
    case 'optional':
    case 'nullable':
      return keysAt(def.innerType!, path)
    case 'pipe':
      // A parsed value (schema.ts transforms): its keys are those of what is written.
      return keysAt(def.in!, path)
    case 'union':
      return [...new Set(def.options!.flatMap(option => keysAt(option, path)))]
    case 'object': {
      if (head === undefined) return Object.keys(def.shape!)
      const child = def.shape![head]
      return child ? keysAt(child, rest) : []
    }
    case 'record':
      return head === undefined ? [] : keysAt(def.valueType!, rest)
    case 'array':
      return head === undefined ? [] : keysAt(def.element!, rest)
    default:
      return []
  }
}

function unknownKeyHint(key: string, allowed: string[]): string {
  if (allowed.includes(key))
    return `"${key}" is not a setting for this kind of entry; check its indentation and type`
  const guess = closest(key, allowed)
  if (guess) return `did you mean "${guess}"?`
  return allowed.length
    ? `the keys here are ${allowed.join(', ')}`
    : 'remove it, or check its indentation'
}

/** A misspelt key is both a missing key and an unknown one; the unknown one says more. */
function mostTelling(issues: z.core.$ZodIssue[]): z.core.$ZodIssue {
  const first = issues[0]!
  const missing =
    (first.code === 'invalid_type' || first.code === 'invalid_union') && first.input === undefined
  const parent = first.path.slice(0, -1).join('\u0000')
  const unknown = issues.find(
    i => i.code === 'unrecognized_keys' && i.path.join('\u0000') === parent
  )
  return missing && unknown ? unknown : first
}

/**
 * When all but one branch of a union failed on type alone, the value was meant for that branch:
 * its own issue, deeper in the value, says what is wrong.
 */
function innermost(issue: z.core.$ZodIssue): z.core.$ZodIssue {
  if (issue.code !== 'invalid_union' || ('discriminator' in issue && issue.discriminator))
    return issue
  const meant = issue.errors.filter(
    branch => !(branch[0]?.code === 'invalid_type' && branch[0].path.length === 0)
  )
  const inner = meant.length === 1 ? meant[0]![0] : undefined
  return inner ? innermost({ ...inner, path: [...issue.path, ...inner.path] }) : issue
}

/**
 * An error pointing at the YAML node for `path` (or at the key `key` inside it), or at its nearest
 * existing parent.
 */
export function errorAt(
  source: YamlSource,
  path: (string | number)[],
  message: string,
  hint?: string,
  key?: string
): PhasegateError {
  const where = path.length ? `${path.join('.')}: ` : ''
  const offset = nodeOffset(source.doc, key === undefined ? path : [...path, key], key)
  const [line, col] = position(source.lines, offset)
  return new PhasegateError(`${where}${message}`, {
    location: { file: source.file, line, col },
    hint
  })
}

function nodeOffset(doc: Document.Parsed, path: (string | number)[], atKey?: string): number {
  let node: unknown = doc.contents
  let offset = (doc.contents as Node | null)?.range?.[0] ?? 0
  for (const [i, key] of path.entries()) {
    if (isMap(node)) {
      const pair = node.items.find(p => isScalar(p.key) && String(p.key.value) === String(key))
      if (!pair) break
      offset = (pair.key as Node).range?.[0] ?? offset
      if (atKey !== undefined && i === path.length - 1) break
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

function yamlMessage(problem: YAMLError, doc: Document.Parsed): string {
  const first = problem.message.split('\n')[0]!.replace(/ at line \d+, column \d+:?$/, '')
  if (/Maximum call stack/.test(first)) return 'YAML nests too deeply to read'
  if (problem.code === 'MULTIPLE_DOCS')
    return 'YAML syntax error: a second YAML document starts here'
  if (problem.code === 'DUPLICATE_KEY') {
    const key = keyAt(doc, problem.pos[0])
    return key === undefined ? `duplicate key: ${first}` : `duplicate key "${key}"`
  }
  return `YAML syntax error: ${first}`
}

// `user_satisfaction: > 0.95` as the seed wrote it: ">" followed by anything but a block header.
const UNQUOTED_GREATER_THAN =
  /^\s*(?:-\s+)?([^\s:#][^:#]*?):\s+(>=?\s*[^\s|>#+-][^#]*?)\s*(?:#.*)?$/

function yamlHint(code: string, sourceLine: string): string {
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
    case 'invalid_union': {
      if ('discriminator' in issue && issue.discriminator === 'type') {
        const given = (issue.input as { type?: unknown } | undefined)?.type
        const options = (issue as unknown as { options: string[] }).options.join(', ')
        return given === undefined
          ? `a gate needs a type: one of ${options}`
          : `unknown gate type ${JSON.stringify(given)}; expected one of ${options}`
      }
      if (issue.input === undefined) return `missing; expected ${unionKinds(issue)}`
      return `expected ${unionKinds(issue)}, got ${describe(issue.input)}`
    }
    case 'invalid_type':
      if (issue.input === undefined) return `missing; expected ${kind(issue.expected)}`
      return `expected ${kind(issue.expected)}, got ${describe(issue.input)}`
    case 'invalid_value':
      return `expected one of ${issue.values.map(v => JSON.stringify(v)).join(', ')}, got ${describe(issue.input)}`
    case 'too_small':
      if (issue.origin === 'array') return `needs at least ${issue.minimum} item(s)`
      if (issue.origin === 'string') return 'must not be empty'
      return `${describe(issue.input)} is too small: the minimum is ${issue.minimum}${issue.inclusive ? '' : ' (exclusive)'}`
    case 'too_big':
      return `${describe(issue.input)} is too big: the maximum is ${issue.maximum}${issue.inclusive ? '' : ' (exclusive)'}`
    default:
      return issue.message
  }
}

const KINDS: Record<string, string> = {
  int: 'a whole number',
  number: 'a number',
  boolean: 'true or false',
  string: 'text',
  array: 'a list',
  object: 'a mapping',
  record: 'a mapping',
  null: 'null'
}

/** How to write a list or a mapping, for people who expected YAML to guess. */
const FORMS: Record<string, string> = {
  array: 'a list ("- item" lines, or [a, b])',
  object: 'a mapping (indented "key: value" lines)',
  record: 'a mapping (indented "key: value" lines)'
}

function kind(expected: string): string {
  return KINDS[expected] ?? expected
}

// zod's message for a union whose schema gives none of its own.
const DEFAULT_UNION_MESSAGE = 'Invalid input'

/**
 * "a number or text" (or "1 or 2"), from the branches of a union that all failed; a union that
 * names what it accepts (`z.union([...], { error: 'a number or null' })`) says that instead, for
 * branches that accept less than their type (text that must be a number's word).
 */
function unionKinds(issue: z.core.$ZodIssueInvalidUnion): string {
  if (issue.message && issue.message !== DEFAULT_UNION_MESSAGE) return issue.message
  const kinds = issue.errors.flatMap(branch => {
    const first = branch[0]
    if (first?.code === 'invalid_type') return [kind(first.expected)]
    if (first?.code === 'invalid_value') return first.values.map(v => JSON.stringify(v))
    return []
  })
  return kinds.length ? [...new Set(kinds)].join(' or ') : 'a different value'
}

function describe(input: unknown): string {
  if (input === null) return 'null'
  if (Array.isArray(input)) return 'a list'
  if (typeof input === 'object') return 'a mapping'
  if (typeof input === 'string') return `text ${JSON.stringify(input)}`
  return String(input)
}

function issueHint(issue: z.core.$ZodIssue): string {
  const custom = (issue as { params?: { hint?: string } }).params?.hint
  if (custom) return custom
  const key = issue.path[issue.path.length - 1]
  if (
    (issue.code === 'invalid_type' || issue.code === 'invalid_union') &&
    issue.input === undefined
  )
    return typeof key === 'string' ? `add "${key}: ..." here` : 'add the missing value'
  switch (issue.code) {
    case 'invalid_union':
      if ('discriminator' in issue && issue.discriminator === 'type')
        return 'use metrics_threshold, manual_approval, automated_test or time_based'
      return `write ${unionKinds(issue)} here`
    case 'invalid_type':
      if (
        (issue.expected === 'number' || issue.expected === 'int') &&
        typeof issue.input === 'string' &&
        issue.input.trim() !== '' &&
        Number.isFinite(Number(issue.input))
      )
        return 'remove the quotes: a quoted number is text'
      return `write ${FORMS[issue.expected] ?? kind(issue.expected)} here`
    case 'invalid_value':
      return `use one of ${issue.values.map(v => String(v)).join(', ')}`
    case 'too_small':
      if (issue.origin === 'array') return 'add an item, or remove the key'
      if (issue.origin === 'string') return 'write a value, or remove the key'
      return `use a value ${issue.inclusive ? 'of at least' : 'above'} ${issue.minimum}`
    case 'too_big':
      return `use a value ${issue.inclusive ? 'of at most' : 'below'} ${issue.maximum}`
    case 'invalid_format':
      return 'rename it: letters, digits, "_", "." and "-", e.g. new_checkout'
    default:
      return 'see schema/policy.schema.json'
  }
}
