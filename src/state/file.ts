import { existsSync, mkdirSync, writeFileSync } from 'node:fs'
import { dirname } from 'node:path'
import { Document, isMap, isScalar, parseDocument, YAMLMap } from 'yaml'
import * as z from 'zod'
import { INSTANT_FORM, parseInstant } from '../engine/time.js'
import type { Evidence, Policy, State, Transition } from '../engine/types.js'
import { closest } from '../policy/closest.js'
import {
  errorAt,
  parseYaml,
  readYamlFile,
  toPlain,
  validate,
  type YamlSource
} from '../policy/yaml.js'

// Held as canonical UTC (toISOString) once the one parser has read it: every later reader
// (Date.parse, comparisons of two times as text) then sees one instant in one spelling.
const isoInstant = z
  .string()
  .refine(s => 'date' in parseInstant(s), {
    message: `not ${INSTANT_FORM}`,
    params: { hint: 'state files are written by phasegate; restore this file from git history' }
  })
  .transform(s => {
    const parsed = parseInstant(s)
    return 'date' in parsed ? parsed.date.toISOString() : s
  })

// Any number the engine may hold, including ±Infinity (an always-valid interval before enough
// data) and NaN: YAML writes them as .inf / .nan and reads them back as numbers; z.number() would
// refuse the file phasegate itself wrote.
const anyNumber = z.custom<number>(v => typeof v === 'number', { message: 'not a number' })

// Exactly the engine's Evidence (types.ts), key for key: SameKeys below fails to compile when a
// key is added to one and not the other, so a transition can never write evidence its own state
// file refuses (attack A5: `unit` and `compared` were added to Evidence only).
const evidenceSchema = z.strictObject({
  gate: z.string(),
  metric: z.string().optional(),
  value: z.union([anyNumber, z.string(), z.null()]).optional(),
  threshold: z.string().optional(),
  unit: z.string().optional(),
  compared: z.string().optional(),
  result: z.enum(['pass', 'fail', 'pending', 'fired', 'breached', 'ok', 'no_data']),
  // A guardrail's comparison (engine Evidence): a rollback it fired writes them into the state.
  interval: z.tuple([anyNumber, anyNumber]).optional(),
  pValue: anyNumber.optional(),
  n: z.strictObject({ control: anyNumber, treatment: anyNumber }).optional()
})

type RawEvidence = z.infer<typeof evidenceSchema>
type SameKeys<A, B> = [Exclude<keyof A, keyof B> | Exclude<keyof B, keyof A>] extends [never]
  ? true
  : never
// Compile-time checks only: both directions of key equality and of assignability.
const evidenceKeysMatch: SameKeys<RawEvidence, Evidence> = true
const evidenceFits: [Evidence] extends [RawEvidence] ? true : never = true
void evidenceKeysMatch
void evidenceFits

/** The keys the state file keeps of one Evidence: exactly the schema's, none undefined. */
function evidenceToRaw(e: Evidence): RawEvidence {
  const keys = Object.keys(evidenceSchema.shape) as Array<keyof RawEvidence>
  const out: Record<string, unknown> = {}
  for (const key of keys) {
    const v = e[key]
    if (v === undefined) continue
    out[key] =
      key === 'interval' ? [...(v as [number, number])] : key === 'n' ? { ...(v as object) } : v
  }
  return out as RawEvidence
}

const transitionSchema = z.strictObject({
  kind: z.enum(['advance', 'rollback', 'emergency', 'resume', 'pause']),
  from: z.string(),
  to: z.string(),
  at: isoInstant,
  reason: z.string(),
  approvers: z.array(z.string()).optional(),
  operator: z.string().optional(),
  reverts: z.string().optional(),
  evidence: z.array(evidenceSchema).optional()
})

export const stateSchema = z.strictObject({
  feature: z.string(),
  phase: z.string(),
  entered_at: isoInstant,
  enabled: z.boolean(),
  experiments: z
    .record(
      z.string(),
      z.strictObject({
        status: z.enum(['pending', 'running', 'stopped', 'concluded']),
        started_at: isoInstant.optional()
      })
    )
    .optional(),
  last_transition: transitionSchema.optional(),
  paused: z
    .strictObject({ at: isoInstant, reason: z.string(), operator: z.string().optional() })
    .optional()
})

type RawState = z.infer<typeof stateSchema>

const HEADER = (feature: string) =>
  ` phasegate state for "${feature}". Written only by phasegate: change it through\n` +
  ` phasegate tick / rollback or the advance pull request, never by hand.`

/** The state a rollout has before its first transition. */
export function initialState(policy: Policy, now: Date): State {
  return {
    feature: policy.feature,
    phase: policy.phases[0]!.name,
    enteredAt: now.toISOString(),
    enabled: true,
    experiments: Object.fromEntries(
      policy.experiments.map(e => [
        e.name,
        {
          status: e.enabled ? ('running' as const) : ('pending' as const),
          startedAt: now.toISOString()
        }
      ])
    )
  }
}

/** Reads the state file, checking it against the policy. Missing file: null (rollout not started). */
export function readState(path: string, policy: Policy, file = path): State | null {
  if (!existsSync(path)) return null
  return parseState(readYamlFile(path, 'state file', file), policy)
}

export function parseStateText(text: string, file: string, policy: Policy): State {
  return parseState(parseYaml(text, file, 'state file'), policy)
}

function parseState(source: YamlSource, policy: Policy): State {
  const raw = validate(stateSchema, source, toPlain(source))
  const phases = policy.phases.map(p => p.name)
  if (raw.feature !== policy.feature) {
    throw errorAt(
      source,
      ['feature'],
      `state is for feature "${raw.feature}" but the policy is for "${policy.feature}"`,
      'point the policy\'s "state" key at this feature\'s own state file'
    )
  }
  if (!phases.includes(raw.phase)) {
    const guess = closest(raw.phase, phases)
    throw errorAt(
      source,
      ['phase'],
      `unknown phase "${raw.phase}"${guess ? ` (did you mean "${guess}"?)` : ''}; the policy's phases are ${phases.join(', ')}`,
      'restore the state file from git history (git log -p on it) rather than editing it'
    )
  }
  for (const name of Object.keys(raw.experiments ?? {})) {
    if (!policy.experiments.some(e => e.name === name)) {
      throw errorAt(
        source,
        ['experiments', name],
        `unknown experiment "${name}"`,
        'the policy has no experiment by that name'
      )
    }
  }
  return fromRaw(raw)
}

function fromRaw(raw: RawState): State {
  const t = raw.last_transition
  return {
    feature: raw.feature,
    phase: raw.phase,
    enteredAt: raw.entered_at,
    enabled: raw.enabled,
    experiments: Object.fromEntries(
      Object.entries(raw.experiments ?? {}).map(([name, e]) => [
        name,
        { status: e.status, ...(e.started_at ? { startedAt: e.started_at } : {}) }
      ])
    ),
    ...(t
      ? {
          lastTransition: {
            kind: t.kind,
            from: t.from,
            to: t.to,
            at: t.at,
            reason: t.reason,
            approvers: t.approvers ?? [],
            ...(t.operator ? { operator: t.operator } : {}),
            ...(t.reverts ? { reverts: t.reverts } : {}),
            evidence: t.evidence ?? []
          }
        }
      : {}),
    ...(raw.paused
      ? {
          paused: {
            at: raw.paused.at,
            reason: raw.paused.reason,
            ...(raw.paused.operator ? { operator: raw.paused.operator } : {})
          }
        }
      : {})
  }
}

function toRaw(state: State): RawState {
  const t = state.lastTransition
  return {
    feature: state.feature,
    phase: state.phase,
    entered_at: state.enteredAt,
    enabled: state.enabled,
    ...(Object.keys(state.experiments).length
      ? {
          experiments: Object.fromEntries(
            Object.entries(state.experiments).map(([n, e]) => [
              n,
              { status: e.status, ...(e.startedAt ? { started_at: e.startedAt } : {}) }
            ])
          )
        }
      : {}),
    ...(t ? { last_transition: transitionToRaw(t) } : {}),
    ...(state.paused ? { paused: { ...state.paused } } : {})
  }
}

function transitionToRaw(t: Transition): NonNullable<RawState['last_transition']> {
  return {
    kind: t.kind,
    from: t.from,
    to: t.to,
    at: t.at,
    reason: t.reason,
    ...(t.approvers.length ? { approvers: t.approvers } : {}),
    ...(t.operator ? { operator: t.operator } : {}),
    ...(t.reverts ? { reverts: t.reverts } : {}),
    evidence: t.evidence.map(evidenceToRaw)
  }
}

/**
 * The state file's new text. When `previousText` is given, its comments and key order are kept:
 * only values that changed are rewritten.
 */
export function renderState(state: State, previousText?: string): string {
  const raw = toRaw(state)
  const doc: Document = previousText ? parseDocument(previousText) : new Document(new YAMLMap())
  if (!previousText || !isMap(doc.contents)) {
    doc.contents = new YAMLMap()
    doc.commentBefore = HEADER(state.feature)
  }
  merge(doc, doc.contents as YAMLMap, raw as unknown as Record<string, unknown>)
  return doc.toString({ lineWidth: 0 })
}

function merge(doc: Document, map: YAMLMap, value: Record<string, unknown>): void {
  for (const pair of [...map.items]) {
    const key = isScalar(pair.key) ? String(pair.key.value) : String(pair.key)
    if (!(key in value)) map.delete(key)
  }
  for (const [key, next] of Object.entries(value)) {
    const current = map.get(key, true)
    if (isPlainObject(next) && isMap(current)) {
      merge(doc, current, next)
    } else if (isScalar(current) && !isPlainObject(next) && !Array.isArray(next)) {
      // Keep the node (and its comments), but let the new value choose its own style: a block
      // scalar written for a multi-line value cannot hold every single-line one faithfully.
      if (current.value !== next) {
        current.value = next
        delete current.type
      }
    } else {
      map.set(key, doc.createNode(next))
    }
  }
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

/** Writes the state file, keeping `previousText`'s comments and layout; returns the text written. */
export function writeState(file: string, state: State, previousText?: string): string {
  const text = renderState(state, previousText)
  mkdirSync(dirname(file), { recursive: true })
  writeFileSync(file, text)
  return text
}
