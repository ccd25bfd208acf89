import { readFileSync } from 'node:fs'
import { parseArgs } from 'node:util'
import { UsageError } from '../errors.js'
import { closest } from '../policy/closest.js'

// The command line's one usage path: which options each command takes, its help, and every way a
// command line can be wrong (an unknown command or option, one that does not apply to the command,
// a missing value), each a UsageError (exit 2) with a did-you-mean where one is near.

interface OptionSpec {
  type: 'string' | 'boolean'
  multiple?: boolean
  short?: string
  /** The value's placeholder in help, for string options. */
  value?: string
  help: string
}

const OPTIONS = {
  policy: {
    type: 'string',
    multiple: true,
    value: 'FILE',
    help: 'a policy file (repeatable; default: every policies/*.yaml)'
  },
  json: { type: 'boolean', help: 'machine-readable output' },
  'dry-run': { type: 'boolean', help: 'decide and report, but commit nothing' },
  'approved-by': {
    type: 'string',
    multiple: true,
    value: 'U1,U2',
    help: 'manual approvals in local mode (on GitHub they come from PR reviews)'
  },
  check: {
    type: 'string',
    multiple: true,
    value: 'NAME=RESULT',
    help: "an automated test's conclusion, e.g. smoke=success (repeatable)"
  },
  metrics: { type: 'string', value: 'FILE', help: 'read metrics from this snapshot file' },
  now: {
    type: 'string',
    value: 'TIME',
    help: 'evaluate at this RFC 3339 time with an offset (2026-11-27T09:00:00Z), not the clock; commands that commit refuse one more than 5 minutes after the clock'
  },
  reason: { type: 'string', value: 'TEXT', help: 'why, recorded in the commit' },
  emergency: { type: 'boolean', help: 'also turn the kill switch off, in the same commit' },
  pause: { type: 'boolean', help: 'resume: lift the pause (with --kill-switch: both)' },
  'kill-switch': {
    type: 'boolean',
    help: 'resume: turn the kill switch back on (refused while a freeze window is open or a pause stays)'
  },
  operator: { type: 'string', value: 'NAME', help: 'who is acting (default: git user.name)' },
  keep: { type: 'string', value: 'DIR', help: 'keep the scratch repository in DIR' },
  experiment: { type: 'string', value: 'NAME', help: 'the experiment' },
  users: { type: 'string', value: 'FILE', help: 'user ids, one per line' },
  spreadsheet: {
    type: 'boolean',
    help: "CSV for a spreadsheet: a cell starting with = + - @ gets a leading ' (ids no longer exact)"
  },
  results: {
    type: 'string',
    value: 'FILE',
    help: "per-user or aggregate results, CSV or NDJSON (default: the policy's metrics provider)"
  },
  'fixed-horizon': {
    type: 'boolean',
    help: 'analyze without sequential testing (only for a single look)'
  },
  format: {
    type: 'string',
    value: 'FORMAT',
    help: 'export format: datafile (default) or flagd'
  },
  out: {
    type: 'string',
    value: 'FILE',
    help: 'where to write: the export file, or the dashboard directory'
  },
  shards: {
    type: 'string',
    value: 'N',
    help: 'list --json: deal the features into N matrix jobs (max 256)'
  },
  'no-history-cache': {
    type: 'boolean',
    help: 'read the whole history from git, and neither read nor write <git dir>/phasegate/dashboard-history.json'
  },
  dir: { type: 'string', short: 'C', value: 'DIR', help: 'run as if started in DIR' },
  help: { type: 'boolean', short: 'h', help: 'this help' },
  version: { type: 'boolean', help: "phasegate's version" }
} satisfies Record<string, OptionSpec>

export type OptionName = keyof typeof OPTIONS

interface CommandSpec {
  summary: string
  /** Positional arguments, as help shows them; none accepted when absent. */
  args?: string
  options: OptionName[]
  /** Options the command cannot run without. */
  required?: OptionName[]
}

const OBSERVE: OptionName[] = ['policy', 'json', 'approved-by', 'check', 'metrics', 'now']

export const COMMANDS: Record<string, CommandSpec> = {
  validate: { summary: 'check policy and state files', options: ['policy', 'json', 'now'] },
  status: {
    summary: 'phase, gates, triggers, alerts and what tick would do now',
    options: OBSERVE
  },
  tick: {
    summary: 'observe, decide, and commit an advance or a rollback',
    options: [...OBSERVE, 'dry-run']
  },
  rollback: {
    summary: 'step back one phase now (--emergency also turns the kill switch off)',
    options: ['policy', 'reason', 'emergency', 'operator', 'now'],
    required: ['reason']
  },
  pause: {
    summary: 'stop advancing (rollback triggers still act) until resume',
    options: ['policy', 'reason', 'operator', 'now'],
    required: ['reason']
  },
  resume: {
    summary: 'lift a pause and/or turn the kill switch back on after an emergency',
    options: ['policy', 'reason', 'operator', 'now', 'pause', 'kill-switch'],
    required: ['reason']
  },
  init: {
    summary: 'write the state file: the rollout starts at its first phase',
    options: ['policy', 'now']
  },
  history: {
    summary: 'the audit trail, read from git commit trailers',
    options: ['policy', 'json']
  },
  demo: { summary: 'a complete rollout in a scratch repository, narrated', options: ['keep'] },
  assign: {
    summary: "each user's experiment group, as user_id,group lines",
    args: '[USER_ID ...]',
    options: ['policy', 'experiment', 'users', 'json', 'spreadsheet'],
    required: ['experiment']
  },
  analyze: {
    summary: 'estimates, intervals, p-values, sample ratio check and verdict',
    options: ['policy', 'experiment', 'results', 'metrics', 'json', 'fixed-horizon', 'now'],
    required: ['experiment']
  },
  list: {
    summary: 'every feature and where it stands; --json prints a job matrix',
    options: ['policy', 'json', 'shards', 'now']
  },
  export: {
    summary: "every feature's datafile as one document, or flagd flag definitions",
    options: ['policy', 'format', 'out']
  },
  dashboard: {
    summary: "a static site: every feature's phase, timeline, metrics, alerts, experiments",
    options: ['policy', 'out', 'metrics', 'now', 'no-history-cache'],
    required: ['out']
  }
}

/** Every command takes these. */
const EVERYWHERE: OptionName[] = ['dir', 'help']

export type Values = {
  [K in OptionName]?: (typeof OPTIONS)[K] extends { type: 'boolean' }
    ? boolean
    : (typeof OPTIONS)[K] extends { multiple: true }
      ? string[]
      : string
}

export type CommandLine =
  | { kind: 'run'; command: string; values: Values; args: string[] }
  | { kind: 'help'; command?: string }
  | { kind: 'version' }

function spelled(name: string): string {
  const spec: OptionSpec = OPTIONS[name as OptionName]
  return spec?.short ? `-${spec.short}/--${name}` : `--${name}`
}

function placeholder(name: OptionName): string {
  const spec: OptionSpec = OPTIONS[name]
  return spec.value ?? ''
}

function seeHelp(command?: string): string {
  return command ? `run \`phasegate ${command} --help\` for its options` : 'run `phasegate --help`'
}

/**
 * Reads argv into a command and its options, or a request for help or the version.
 * Throws UsageError for an unknown command or option (with a did-you-mean), an option the command
 * does not take, an option without its value (or a flag given one), a missing required option,
 * and positional arguments the command does not take.
 */
export function parseCommandLine(argv: string[]): CommandLine {
  const { tokens } = parseArgs({
    args: argv,
    options: OPTIONS,
    strict: false,
    allowPositionals: true,
    tokens: true
  })
  const positionals = tokens.flatMap(t => (t.kind === 'positional' ? [t.value] : []))
  const command = positionals[0]
  const options = tokens.flatMap(t => (t.kind === 'option' ? [t] : []))
  const has = (name: string) => options.some(t => t.name === name)

  if (command !== undefined && !(command in COMMANDS)) {
    const guess = closest(command, Object.keys(COMMANDS))
    throw new UsageError(
      `unknown command "${command}"${guess ? ` (did you mean "${guess}"?)` : ''}`,
      { hint: `the commands are ${Object.keys(COMMANDS).join(', ')}; ${seeHelp()}` }
    )
  }
  if (has('version') && command === undefined) return { kind: 'version' }
  if (has('help')) return command === undefined ? { kind: 'help' } : { kind: 'help', command }
  if (command === undefined)
    throw new UsageError('no command given', { hint: `${seeHelp()} for the commands` })

  const spec = COMMANDS[command]!
  const allowed = [...spec.options, ...EVERYWHERE]
  const values: Record<string, unknown> = {}
  for (const token of options) {
    const name = token.name
    const option: OptionSpec | undefined = OPTIONS[name as OptionName]
    if (!option) {
      const guess = closest(name, allowed.map(String))
      throw new UsageError(
        `unknown option ${token.rawName}${guess ? ` (did you mean --${guess}?)` : ''}`,
        { hint: seeHelp(command) }
      )
    }
    if (!allowed.includes(name as OptionName)) {
      const takers = Object.keys(COMMANDS).filter(c =>
        COMMANDS[c]!.options.includes(name as OptionName)
      )
      throw new UsageError(`${command} does not take ${spelled(name)}`, {
        hint: `${spelled(name)} is for ${takers.join(', ') || 'no command'}; ${seeHelp(command)}`
      })
    }
    // Without strict parsing, "--now -C dir" would take "-C" as the time: an option is no value.
    const missing = token.value === undefined || (!token.inlineValue && /^-./.test(token.value))
    if (option.type === 'string' && missing)
      throw new UsageError(`${spelled(name)} needs a value (${spelled(name)} ${option.value})`, {
        hint: seeHelp(command)
      })
    if (option.type === 'boolean' && token.inlineValue)
      throw new UsageError(`${spelled(name)} takes no value`, { hint: seeHelp(command) })
    if (option.type === 'boolean') values[name] = true
    else if (option.multiple) values[name] = [...((values[name] as string[]) ?? []), token.value]
    else if (values[name] !== undefined)
      throw new UsageError(`${spelled(name)} is given twice`, { hint: 'give it once' })
    else values[name] = token.value
  }
  for (const name of spec.required ?? []) {
    if (values[name] === undefined)
      throw new UsageError(`${command} needs ${spelled(name)} ${placeholder(name)}`.trim(), {
        hint: seeHelp(command)
      })
  }
  const args = positionals.slice(1)
  if (args.length > 0 && !spec.args)
    throw new UsageError(`${command} takes no arguments, got "${args.join(' ')}"`, {
      hint: seeHelp(command)
    })
  return { kind: 'run', command, values: values as Values, args }
}

function optionLines(names: OptionName[]): string[] {
  const rows = names.map(name => {
    const spec: OptionSpec = OPTIONS[name]
    const value = spec.value ? ` ${spec.value}` : ''
    const flag = spec.short ? `-${spec.short}${value}, --${name}${value}` : `--${name}${value}`
    return [flag, spec.help] as const
  })
  const width = Math.max(...rows.map(([flag]) => flag.length)) + 2
  return rows.map(([flag, help]) => `  ${flag.padEnd(width)} ${help}`)
}

function usageLine(command: string): string {
  const spec = COMMANDS[command]!
  const required = (spec.required ?? []).map(n => `${spelled(n)} ${placeholder(n)}`.trim())
  return ['phasegate', command, ...required, spec.args ?? '', '[options]'].filter(Boolean).join(' ')
}

/** The help for one command, or the overview of every command. */
export function helpText(command?: string): string {
  if (command) {
    const spec = COMMANDS[command]!
    return [
      `usage: ${usageLine(command)}`,
      '',
      spec.summary,
      '',
      'options:',
      ...optionLines([...spec.options, ...EVERYWHERE])
    ].join('\n')
  }
  const width = Math.max(...Object.keys(COMMANDS).map(c => c.length)) + 2
  return [
    'phasegate: phased rollouts and A/B experiments as GitOps',
    '',
    'usage: phasegate <command> [options]',
    '',
    'commands:',
    ...Object.entries(COMMANDS).map(([name, spec]) => `  ${name.padEnd(width)} ${spec.summary}`),
    '',
    'Run `phasegate <command> --help` for its options; `phasegate --version` for the version.',
    'Exit codes: 0 done (including "hold"), 1 bad input or a refused transition, 2 bad usage,',
    '  3 done, every transition landed; a notification failed (running it again would act again).'
  ].join('\n')
}

/** phasegate's version, from its package.json (lib/cli/usage.js sits two levels below it). */
export function version(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
    version: string
  }
  return pkg.version
}
