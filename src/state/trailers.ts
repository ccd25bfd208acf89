import type { Evidence, Transition, TransitionKind } from '../engine/types.js'

// Every transition is one commit whose message ends in git trailers; `phasegate history` reads
// them back. Evidence trailers are logfmt (key=value, quoted when needed) so that people can read
// them in `git log` and phasegate can parse them without ambiguity.

export const TRAILER = {
  feature: 'Phasegate-Feature',
  kind: 'Phasegate-Kind',
  from: 'Phasegate-From',
  to: 'Phasegate-To',
  reason: 'Phasegate-Reason',
  approvedBy: 'Phasegate-Approved-By',
  operator: 'Phasegate-Operator',
  reverts: 'Phasegate-Reverts',
  leftAlone: 'Phasegate-Left-Alone',
  evidence: 'Phasegate-Evidence',
  dispatchRun: 'Phasegate-Dispatch-Run'
} as const

export type RecordKind = TransitionKind | 'init'

export interface TransitionRecord {
  feature: string
  kind: RecordKind
  from: string
  to: string
  reason: string
  approvers: string[]
  operator?: string
  reverts?: string
  /**
   * Set when the rollback undid `reverts` by writing phasegate's files back rather than by
   * `git revert`: the advance's other files (repository-relative), which it left as they are.
   */
  leftAlone?: string[]
  evidence: Evidence[]
  /** The workflow run that dispatched it (Transition.dispatchRun). */
  dispatchRun?: string
}

const ARROW = '->'

export function commitSubject(
  name: string,
  record: Pick<TransitionRecord, 'kind' | 'from' | 'to'>
): string {
  const feature = oneLine(name)
  const t = { kind: record.kind, from: oneLine(record.from), to: oneLine(record.to) }
  if (t.kind === 'init') return `phasegate(${feature}): start rollout at ${t.to}`
  if (t.kind === 'resume') return `phasegate(${feature}): resume at ${t.to}`
  if (t.kind === 'pause') return `phasegate(${feature}): pause at ${t.to}`
  if (t.kind === 'emergency')
    return `phasegate(${feature}): EMERGENCY rollback ${t.from} ${ARROW} ${t.to} (kill switch off)`
  return `phasegate(${feature}): ${t.kind} ${t.from} ${ARROW} ${t.to}`
}

/**
 * A value on one line, as git reads lines: every control character (line feed, carriage return,
 * escape) and Unicode line or paragraph separator becomes a space, so no value from a flag, a
 * policy or a state file can start a trailer line of its own.
 */
function oneLine(text: string): string {
  // eslint-disable-next-line no-control-regex
  return text.replace(/\s*[\u0000-\u001f\u007f-\u009f\u2028\u2029]\s*/g, ' ').trim()
}

function logfmtValue(value: string): string {
  return /^[^\s"=]+$/.test(value) ? value : JSON.stringify(value)
}

export function formatEvidence(e: Evidence): string {
  const parts: Array<[string, string | undefined]> = [
    ['gate', e.gate],
    ['metric', e.metric],
    ['value', e.value === undefined ? undefined : e.value === null ? 'none' : String(e.value)],
    ['threshold', e.threshold],
    ['result', e.result],
    // A guardrail's comparison: its always-valid interval, p-value and n per group.
    ['interval', e.interval ? `${e.interval[0]},${e.interval[1]}` : undefined],
    ['p', e.pValue === undefined ? undefined : String(e.pValue)],
    ['n', e.n ? `control:${e.n.control},treatment:${e.n.treatment}` : undefined]
  ]
  return parts
    .filter((p): p is [string, string] => p[1] !== undefined)
    .map(([k, v]) => `${k}=${logfmtValue(v)}`)
    .join(' ')
}

export function parseEvidence(text: string): Evidence | undefined {
  const fields: Record<string, string> = {}
  const re = /(\w+)=("(?:[^"\\]|\\.)*"|\S+)/g
  for (const match of text.matchAll(re)) {
    fields[match[1]!] = match[2]!.startsWith('"') ? (JSON.parse(match[2]!) as string) : match[2]!
  }
  const result = fields.result
  if (
    !fields.gate ||
    !result ||
    !['pass', 'fail', 'pending', 'fired', 'breached', 'ok', 'no_data'].includes(result)
  )
    return undefined
  const raw = fields.value
  const value =
    raw === undefined
      ? undefined
      : raw === 'none'
        ? null
        : Number.isFinite(Number(raw)) && raw.trim() !== ''
          ? Number(raw)
          : raw
  return {
    gate: fields.gate,
    ...(fields.metric ? { metric: fields.metric } : {}),
    ...(value !== undefined ? { value } : {}),
    ...(fields.threshold ? { threshold: fields.threshold } : {}),
    result: result as Evidence['result'],
    ...guardrailFields(fields)
  }
}

/** A guardrail's interval, p and n, when the trailer carries them well formed. */
function guardrailFields(fields: Record<string, string>): Partial<Evidence> {
  const out: Partial<Evidence> = {}
  const interval = fields.interval?.split(',').map(Number)
  if (interval?.length === 2 && interval.every(x => !Number.isNaN(x)))
    out.interval = [interval[0]!, interval[1]!]
  const p = fields.p === undefined ? NaN : Number(fields.p)
  if (!Number.isNaN(p)) out.pValue = p
  const n = /^control:(\d+),treatment:(\d+)$/.exec(fields.n ?? '')
  if (n) out.n = { control: Number(n[1]), treatment: Number(n[2]) }
  return out
}

/** The full commit message: subject, a readable body, then trailers. */
export function commitMessage(record: TransitionRecord, body: string[] = []): string {
  const trailers: Array<[string, string]> = [
    [TRAILER.feature, record.feature],
    [TRAILER.kind, record.kind],
    [TRAILER.from, record.from],
    [TRAILER.to, record.to],
    [TRAILER.reason, record.reason]
  ]
  for (const user of record.approvers) trailers.push([TRAILER.approvedBy, user])
  if (record.operator) trailers.push([TRAILER.operator, record.operator])
  if (record.reverts) trailers.push([TRAILER.reverts, record.reverts])
  for (const path of record.leftAlone ?? []) trailers.push([TRAILER.leftAlone, path])
  for (const e of record.evidence) trailers.push([TRAILER.evidence, formatEvidence(e)])
  if (record.dispatchRun) trailers.push([TRAILER.dispatchRun, record.dispatchRun])
  const reverted = record.reverts !== undefined && record.leftAlone === undefined
  const subject = reverted
    ? `Revert "${commitSubject(record.feature, { kind: 'advance', from: record.to, to: record.from })}"`
    : commitSubject(record.feature, record)
  const paragraphs = [subject]
  if (reverted) paragraphs.push(`This reverts commit ${record.reverts}.`)
  if (record.reverts && record.leftAlone)
    paragraphs.push(
      `Undoes commit ${record.reverts} by writing phasegate's files back, not by git revert: a rollback never changes application files.` +
        (record.leftAlone.length ? ` Left alone: ${oneLine(record.leftAlone.join(', '))}.` : '')
    )
  if (reverted || record.kind === 'emergency')
    paragraphs.push(`${commitSubject(record.feature, record)}: ${oneLine(record.reason)}`)
  else paragraphs.push(oneLine(record.reason))
  if (body.length) paragraphs.push(body.map(oneLine).join('\n'))
  // Every value through oneLine, here, so that no field can be written around it.
  paragraphs.push(trailers.map(([k, v]) => `${k}: ${oneLine(v)}`).join('\n'))
  return paragraphs.join('\n\n') + '\n'
}

/** Reads trailers back from a commit message; undefined when it is not a phasegate transition. */
export function parseTransitionMessage(message: string): TransitionRecord | undefined {
  const paragraphs = message.trimEnd().split(/\n\s*\n/)
  const last = paragraphs[paragraphs.length - 1] ?? ''
  const values = new Map<string, string[]>()
  for (const line of last.split('\n')) {
    const match = /^(Phasegate-[A-Za-z-]+):\s?(.*)$/.exec(line)
    if (!match) continue
    const list = values.get(match[1]!) ?? []
    list.push(match[2]!)
    values.set(match[1]!, list)
  }
  const one = (key: string) => values.get(key)?.[0]
  const feature = one(TRAILER.feature)
  const kind = one(TRAILER.kind)
  const from = one(TRAILER.from)
  const to = one(TRAILER.to)
  if (!feature || !kind || !from || !to) return undefined
  if (!['advance', 'rollback', 'emergency', 'resume', 'pause', 'init'].includes(kind))
    return undefined
  const operator = one(TRAILER.operator)
  const reverts = one(TRAILER.reverts)
  const leftAlone = values.get(TRAILER.leftAlone)
  const dispatchRun = one(TRAILER.dispatchRun)
  return {
    feature,
    kind: kind as RecordKind,
    from,
    to,
    reason: one(TRAILER.reason) ?? '',
    approvers: values.get(TRAILER.approvedBy) ?? [],
    ...(operator ? { operator } : {}),
    ...(reverts ? { reverts } : {}),
    ...(leftAlone ? { leftAlone } : {}),
    evidence: (values.get(TRAILER.evidence) ?? [])
      .map(parseEvidence)
      .filter((e): e is Evidence => e !== undefined),
    ...(dispatchRun ? { dispatchRun } : {})
  }
}

export function recordOf(feature: string, t: Transition): TransitionRecord {
  return {
    feature,
    kind: t.kind,
    from: t.from,
    to: t.to,
    reason: t.reason,
    approvers: t.approvers,
    ...(t.operator ? { operator: t.operator } : {}),
    ...(t.reverts ? { reverts: t.reverts } : {}),
    evidence: t.evidence,
    ...(t.dispatchRun ? { dispatchRun: t.dispatchRun } : {})
  }
}

/**
 * The trailer of a datafile refresh: a commit that rewrites a feature's datafile to what its
 * policy and state say (after a policy change, or for a lost rollout) and changes no state file.
 * It is not a transition and carries no `Phasegate-Feature`, so the history (`--grep` on that
 * trailer) never reads it as one.
 */
export const REFRESH_TRAILER = 'Phasegate-Datafile-Refresh'

/** The message of a datafile refresh of `feature`: why the committed datafile was rewritten. */
export function refreshMessage(feature: string, datafilePath: string, reason: string): string {
  return [
    `phasegate(${oneLine(feature)}): refresh ${oneLine(datafilePath)}`,
    oneLine(
      `The committed datafile no longer said what the policy and state expose: ${reason}. This is a datafile refresh, not a transition: the state file is unchanged.`
    ),
    `${REFRESH_TRAILER}: ${oneLine(feature)}\n${TRAILER.reason}: ${oneLine(reason)}`
  ]
    .join('\n\n')
    .concat('\n')
}
