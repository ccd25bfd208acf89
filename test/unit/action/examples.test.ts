import { readdirSync, readFileSync } from 'node:fs'
import { relative } from 'node:path'
import { describe, expect, it } from 'vitest'
import { parse } from 'yaml'
import { historyCachePath } from '../../../src/git/history-cache.js'

// The workflows users copy: examples/workflows/ and the YAML blocks of README.md and
// docs/github.md. They must pass only inputs action.yml declares, keep expressions out of shell
// scripts (an expression in `run:` is pasted into the script before the shell parses it: an
// injection), pin the current major of every action, stay off minute 0 of the hour (GitHub's
// documented peak, when scheduled runs are delayed or dropped), and never let a later run cancel a
// pending rollback.

const root = new URL('../../../', import.meta.url)
const action = parse(readFileSync(new URL('action.yml', root), 'utf8')) as {
  inputs: Record<string, unknown>
}
const dir = new URL('examples/workflows/', root)

/** The major each action is pinned at: the current one, running on Node 24. */
const PINNED: Record<string, string> = {
  'actions/cache': 'v5',
  'actions/checkout': 'v6',
  'actions/create-github-app-token': 'v3',
  'actions/setup-node': 'v6',
  'actions/upload-pages-artifact': 'v4',
  'actions/deploy-pages': 'v4',
  'your-org/phasegate': 'v1'
}

interface Step {
  uses?: string
  run?: string
  with?: Record<string, unknown>
}
interface Concurrency {
  group: string
  'cancel-in-progress'?: boolean | string
}
interface Workflow {
  on?: Record<string, unknown> | string | string[]
  concurrency?: string | Concurrency
  jobs: Record<string, { steps: Step[]; concurrency?: string | Concurrency }>
}

/** Every workflow users copy, by where it is: whole files, and fenced YAML blocks of the docs. */
function sources(): Array<{ name: string; steps: Step[]; workflow?: Workflow }> {
  const found: Array<{ name: string; steps: Step[]; workflow?: Workflow }> = []
  for (const file of readdirSync(dir).filter(f => f.endsWith('.yml'))) {
    const workflow = parse(readFileSync(new URL(file, dir), 'utf8')) as Workflow
    found.push({ name: `examples/workflows/${file}`, steps: stepsOf(workflow), workflow })
  }
  for (const doc of ['README.md', 'docs/github.md']) {
    const text = readFileSync(new URL(doc, root), 'utf8')
    for (const [index, block] of [...text.matchAll(/```yaml\n([\s\S]*?)```/g)].entries()) {
      const parsed = parse(block[1]!) as unknown
      const name = `${doc} yaml block ${index + 1}`
      // A block is a whole workflow, a list of steps, or something else (a policy).
      if (Array.isArray(parsed)) found.push({ name, steps: parsed as Step[] })
      else if (parsed && typeof parsed === 'object' && 'jobs' in parsed)
        found.push({ name, steps: stepsOf(parsed as Workflow), workflow: parsed as Workflow })
    }
  }
  return found
}

const stepsOf = (workflow: Workflow) => Object.values(workflow.jobs).flatMap(job => job.steps)
const ours = (steps: Step[]) => steps.filter(step => /\/phasegate@/.test(step.uses ?? ''))
const all = sources()
const workflows = all.filter(s => s.workflow) as Array<{ name: string; workflow: Workflow }>

/** The minutes a cron minute field fires at (`*`, `a-b`, `x/n`, lists). */
function minutes(field: string): number[] {
  return field.split(',').flatMap(part => {
    const [range = '*', step = '1'] = part.split('/')
    const [from, to] =
      range === '*'
        ? [0, 59]
        : range.includes('-')
          ? range.split('-').map(Number)
          : [Number(range), part.includes('/') ? 59 : Number(range)]
    const out: number[] = []
    for (let m = from!; m <= to!; m += Number(step)) out.push(m)
    return out
  })
}

describe('example workflows and the docs', () => {
  it('has the example files and finds the docs blocks', () => {
    expect(readdirSync(dir).filter(f => f.endsWith('.yml'))).toEqual(
      expect.arrayContaining([
        'phasegate-alert.yml',
        'phasegate-check.yml',
        'phasegate-dashboard.yml',
        'phasegate-rollback.yml',
        'phasegate-tick.yml'
      ])
    )
    expect(all.filter(s => s.name.startsWith('README.md')).length).toBeGreaterThan(0)
    expect(all.filter(s => s.name.startsWith('docs/github.md')).length).toBeGreaterThan(0)
  })

  it.each(all.filter(s => ours(s.steps).length).map(s => [s.name, s] as const))(
    '%s passes phasegate only inputs action.yml declares',
    (name, { steps }) => {
      for (const step of ours(steps))
        for (const input of Object.keys(step.with ?? {}))
          expect(Object.keys(action.inputs), `${name}: input ${input}`).toContain(input)
    }
  )

  it.each(all.map(s => [s.name, s] as const))(
    '%s keeps expressions out of run: (env: instead)',
    (name, { steps }) => {
      for (const step of steps.filter(s => s.run !== undefined))
        expect(step.run, `${name}: run: ${step.run}`).not.toContain('${{')
    }
  )

  it.each(all.map(s => [s.name, s] as const))(
    '%s pins the current major of every action',
    (name, { steps }) => {
      for (const step of steps.filter(s => s.uses)) {
        const [action = '', ref] = step.uses!.split('@')
        expect(PINNED, `${name}: ${step.uses} is not in this test's list`).toHaveProperty([action])
        expect(ref, `${name}: ${step.uses}`).toBe(PINNED[action])
      }
    }
  )

  it.each(workflows.map(s => [s.name, s] as const))(
    '%s schedules nothing at minute 0',
    (name, { workflow }) => {
      const on = workflow.on
      const schedule = (on && typeof on === 'object' && !Array.isArray(on) ? on.schedule : []) as
        Array<{ cron: string }> | undefined
      for (const { cron } of schedule ?? [])
        expect(minutes(cron.split(/\s+/)[0]!), `${name}: cron '${cron}'`).not.toContain(0)
    }
  )
})

// GitHub keeps at most one pending run per concurrency group: when another run of the group
// queues, the pending one is cancelled (cancel-in-progress: true also cancels the running one).
// A run that may roll back must therefore share its group only with runs that redo all of its
// work: a scheduled tick may be replaced by a later scheduled tick of every feature, or of the same
// shard; a rollback, resume or alert tick by nothing.

interface Run {
  name: string
  group: string | null
  cancelInProgress: boolean
  /** It may push a rollback: a tick, an alert tick, a rollback or a resume. */
  mayRollBack: boolean
  /** A scheduled tick: nothing from the event (dispatch inputs, alert payloads) chooses what it does. */
  scheduledTick: boolean
  /** Its policies or feature input narrows it (e.g. a shard of a matrix). */
  narrowed: boolean
  /** The workflow and job it comes from: a later run of the same job does the same work. */
  job: string
}

function runsOf(name: string, workflow: Workflow): Run[] {
  const on = workflow.on
  const events = typeof on === 'string' ? [on] : Array.isArray(on) ? on : Object.keys(on ?? {})
  const dispatchInputs =
    on && typeof on === 'object' && !Array.isArray(on)
      ? (on.workflow_dispatch as { inputs?: unknown } | null | undefined)?.inputs
      : undefined
  return Object.entries(workflow.jobs).map(([job, { steps, concurrency }]) => {
    const level = concurrency ?? workflow.concurrency
    const group = level === undefined ? null : typeof level === 'string' ? level : level.group
    const commands = ours(steps).map(step => String(step.with?.command ?? 'tick'))
    const narrowed = ours(steps).some(step => step.with?.feature || step.with?.policies)
    // An expression may evaluate to true: only a missing or literal false setting is safe.
    const cancel = typeof level === 'object' ? level['cancel-in-progress'] : undefined
    return {
      name: `${name} job ${job}`,
      group,
      cancelInProgress: cancel !== undefined && cancel !== false && cancel !== 'false',
      mayRollBack: commands.some(c => ['tick', 'apply', 'rollback', 'resume'].includes(c)),
      scheduledTick:
        commands.length > 0 &&
        commands.every(c => c === 'tick' || c === 'apply') &&
        !dispatchInputs &&
        events.every(e => e === 'schedule' || e === 'workflow_dispatch'),
      narrowed,
      job: `${name} ${job}`
    }
  })
}

/** Whether two groups can be the same string at run time. A group naming github.run_id is unique. */
function canCollide(a: string | null, b: string | null): boolean {
  if (a === null || b === null) return false
  if (a.includes('github.run_id') || b.includes('github.run_id')) return false
  // Up to its first expression a group is known; after it, it may be anything.
  const known = (g: string) => g.split('${{')[0]!
  const open = (g: string) => g.includes('${{')
  if (!open(a) && !open(b)) return a === b
  if (!open(a)) return a.startsWith(known(b))
  if (!open(b)) return b.startsWith(known(a))
  return known(a).startsWith(known(b)) || known(b).startsWith(known(a))
}

describe('no run can cancel a pending rollback', () => {
  const runs = workflows.flatMap(({ name, workflow }) => runsOf(name, workflow))

  it('finds the runs that may roll back', () => {
    expect(runs.filter(r => r.mayRollBack).map(r => r.name)).toEqual(
      expect.arrayContaining([
        'examples/workflows/phasegate-rollback.yml job rollback',
        'examples/workflows/phasegate-tick.yml job tick',
        'examples/workflows/phasegate-alert.yml job tick'
      ])
    )
  })

  it.each(runs.filter(r => r.mayRollBack).map(r => [r.name, r] as const))(
    '%s: no later run can cancel it while it waits or runs',
    (_, pending) => {
      for (const later of runs.filter(r => canCollide(r.group, pending.group))) {
        // A later scheduled tick redoes a pending one's work when both tick every policy, or
        // when it is the same job: the same group then means the same shard of the same matrix.
        const sameWork = (!pending.narrowed && !later.narrowed) || pending.job === later.job
        const replaces =
          pending.scheduledTick && later.scheduledTick && sameWork && !later.cancelInProgress
        expect(
          replaces,
          `${later.name} (group ${later.group}) would cancel ${pending.name} (group ${pending.group})`
        ).toBe(true)
      }
    }
  )
})

describe('the dashboard workflow', () => {
  it('publishes to Pages after every transition and on a schedule, building with the CLI', () => {
    const { workflow } = workflows.find(
      w => w.name === 'examples/workflows/phasegate-dashboard.yml'
    )!
    const on = workflow.on as { push: { paths: string[] }; schedule: unknown[] }
    expect(on.push.paths).toContain('.phasegate/state/**')
    expect(on.schedule.length).toBeGreaterThan(0)
    const steps = stepsOf(workflow)
    expect(steps.map(s => s.uses?.split('@')[0])).toEqual(
      expect.arrayContaining(['actions/upload-pages-artifact', 'actions/deploy-pages'])
    )
    expect(steps.some(s => /phasegate@\S* dashboard --out _site/.test(s.run ?? ''))).toBe(true)
  })

  it('follows every example workflow that may commit a transition (its token starts no push run)', () => {
    const { workflow } = workflows.find(
      w => w.name === 'examples/workflows/phasegate-dashboard.yml'
    )!
    const followed = (workflow.on as { workflow_run: { workflows: string[] } }).workflow_run
      .workflows
    type Permissions = Record<string, string> | undefined
    const writesContents = (w: Record<string, unknown>) =>
      [
        w.permissions as Permissions,
        ...Object.values((w.jobs ?? {}) as Record<string, { permissions?: Permissions }>).map(
          j => j.permissions
        )
      ].some(p => p?.contents === 'write')
    const committing = workflows
      .filter(w => w.name.startsWith('examples/workflows/'))
      .map(w => w.workflow as unknown as Record<string, unknown>)
      .filter(writesContents)
      .map(w => w.name as string)
    expect(committing.length).toBeGreaterThanOrEqual(5)
    expect(committing.filter(name => !followed.includes(name))).toEqual([])
    // a name followed that no example has is a rebuild that never comes
    expect(followed.filter(name => !committing.includes(name))).toEqual([])
  })

  it('keeps the history cache between runs where the CLI reads it, restored after the checkout', () => {
    const { workflow } = workflows.find(
      w => w.name === 'examples/workflows/phasegate-dashboard.yml'
    )!
    const steps = stepsOf(workflow)
    const at = (test: (s: Step) => boolean) => steps.findIndex(test)
    const cache = at(s => s.uses?.startsWith('actions/cache@') ?? false)
    expect(cache).toBeGreaterThan(at(s => s.uses?.startsWith('actions/checkout@') ?? false))
    expect(cache).toBeLessThan(at(s => /dashboard --out/.test(s.run ?? '')))
    expect(steps[cache]!.with).toMatchObject({
      path: `.git/${relative('/.git', historyCachePath('/.git'))}`
    })
  })
})
