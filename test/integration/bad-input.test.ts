import { execFile } from 'node:child_process'
import { rmSync } from 'node:fs'
import { promisify } from 'node:util'
import { afterAll, describe, expect, it } from 'vitest'
import { createFileProvider } from '../../src/metrics/file.js'
import { SEED_POLICY_TEXT } from '../support/policies.js'
import { sh, tempRepo as committedRepo } from '../support/repo.js'

// A corpus of malformed policy, state and metrics files. Each one is committed into a fresh git
// repository and handed to the built CLI, which must refuse it the way a person can act on: exit 1,
// one line `phasegate: file:line:col: message (hint: ...)`, no stack trace, and the repository
// exactly as it was (no commit, nothing written).

const BIN = new URL('../../bin/phasegate.js', import.meta.url).pathname
const POLICY = 'policies/production_deployment.yaml'
const STATE = '.phasegate/state/production_deployment.yaml'
const METRICS = '.phasegate/metrics/production_deployment.yaml'
const NOW = '2026-03-02T12:00:00Z'

interface BadInput {
  name: string
  /** Which file is broken; the others are the seed policy and no state. */
  kind: 'policy' | 'state' | 'metrics'
  /** Where a policy is written, when its name matters; otherwise policies/<case name>.yaml. */
  path?: string
  text: string
  line: number
  col?: number
  message: RegExp
  hint?: RegExp
  /** Also run `tick` (which would commit an advance if the input were good). */
  tick?: boolean
}

/** Strips the indentation of a template literal so fixtures read like the files they are. */
function yaml(strings: TemplateStringsArray, ...values: unknown[]): string {
  const text = String.raw({ raw: strings }, ...values).replace(/^\n/, '')
  const indent = Math.min(
    ...text
      .split('\n')
      .filter(l => l.trim())
      .map(l => /^ */.exec(l)![0].length)
  )
  return text
    .split('\n')
    .map(l => l.slice(indent))
    .join('\n')
}

/** The seed policy with one piece of text replaced (which must be there). */
function seedWith(from: string, to: string): string {
  expect(SEED_POLICY_TEXT).toContain(from)
  return SEED_POLICY_TEXT.replace(from, to)
}

const VALID_STATE = yaml`
  # phasegate state
  feature: production_deployment
  phase: staging
  entered_at: 2026-03-02T09:00:00.000Z
  enabled: true
`

const CASES: BadInput[] = [
  // --- YAML that does not parse ---
  {
    name: "the seed's unquoted > 0.95",
    kind: 'policy',
    text: seedWith('user_satisfaction: "> 0.95"', 'user_satisfaction: > 0.95'),
    line: 11,
    col: 28,
    message: /unquoted ">" starts a folded block, so > 0\.95 is not read as a threshold/,
    hint: /^quote the threshold: user_satisfaction: "> 0\.95"$/,
    tick: true
  },
  {
    name: 'an unquoted > threshold on a later line',
    kind: 'policy',
    text: seedWith('user_satisfaction: "> 0.99"', 'user_satisfaction: > 0.99'),
    line: 25,
    col: 28,
    message: /unquoted ">"/,
    hint: /user_satisfaction: "> 0\.99"/
  },
  {
    name: 'an unquoted >= threshold with a comment after it',
    kind: 'policy',
    text: yaml`
      # the same mistake, written differently
      deployment:
        phases:
          canary:
            success_criteria:
              user_satisfaction: >=0.9 # the floor
    `,
    line: 6,
    col: 28,
    message: /unquoted ">"/,
    hint: /user_satisfaction: ">=0\.9"/
  },
  {
    name: 'an unclosed double quote',
    kind: 'policy',
    text: yaml`
      # the threshold's closing quote is missing
      deployment:
        phases:
          canary:
            success_criteria:
              error_rate: "< 0.01
              user_satisfaction: "> 0.95"
    `,
    line: 6,
    message: /YAML syntax error/,
    tick: true
  },
  {
    name: 'an unclosed flow mapping',
    kind: 'policy',
    text: yaml`
      # the { is never closed
      deployment:
        phases:
          canary: { user_percentage: 1, duration: 24h
      rollback:
        manual_approval_required: false
    `,
    line: 4,
    col: 13,
    hint: /}/,
    message: /YAML syntax error/
  },
  {
    name: 'a key indented less than its siblings',
    kind: 'policy',
    text: yaml`
      # "duration" is indented one space less than "user_percentage"
      deployment:
        phases:
          canary:
            user_percentage: 1
           duration: 24h
    `,
    line: 6,
    message: /YAML syntax error/,
    hint: /indent/
  },
  {
    name: 'a tab used for indentation',
    kind: 'policy',
    text: '# the phase is indented with a tab\ndeployment:\n  phases:\n\tcanary:\n      user_percentage: 1\n',
    line: 4,
    col: 1,
    message: /YAML syntax error/,
    hint: /tabs/,
    tick: true
  },
  {
    name: 'two YAML documents',
    kind: 'policy',
    text: yaml`
      # a second document after ---
      deployment:
        phases:
          canary:
            user_percentage: 1
      ---
      deployment:
        phases: {}
    `,
    line: 6,
    message: /second YAML document/,
    hint: /one YAML document/
  },
  {
    name: 'a duplicate phase',
    kind: 'policy',
    text: yaml`
      # canary is defined twice
      deployment:
        phases:
          canary:
            user_percentage: 1
          canary:
            user_percentage: 5
    `,
    line: 6,
    col: 5,
    message: /duplicate key.*canary/i,
    hint: /once/,
    tick: true
  },
  {
    name: 'a duplicate success criterion',
    kind: 'policy',
    text: seedWith(
      '        error_rate: < 0.005\n',
      '        error_rate: < 0.005\n        error_rate: < 0.01\n'
    ),
    line: 17,
    col: 9,
    message: /duplicate key.*error_rate/i
  },
  {
    name: 'an alias to an anchor that does not exist',
    kind: 'policy',
    text: yaml`
      # *gates refers to no &gates anchor
      deployment:
        phases:
          canary:
            gates: *gates
    `,
    line: 5,
    col: 14,
    message: /\*gates refers to no &gates anchor/
  },
  {
    name: 'a billion laughs alias bomb',
    kind: 'policy',
    text: yaml`
      # each alias multiplies the one before by nine
      a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]
      b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]
      c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]
      d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]
      e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]
      f: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]
      g: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f]
      h: &h [*g,*g,*g,*g,*g,*g,*g,*g,*g]
      i: &i [*h,*h,*h,*h,*h,*h,*h,*h,*h]
      deployment:
        phases:
          canary:
            feature_flags: *i
    `,
    line: 3,
    col: 8,
    message: /alias/i,
    hint: /alias/,
    tick: true
  },
  {
    name: 'a huge file',
    kind: 'policy',
    text:
      '# a policy padded past 256 KiB\n' +
      SEED_POLICY_TEXT +
      '# padding\n'.repeat(Math.ceil((260 * 1024) / 10)),
    line: 1,
    col: 1,
    message: /bytes.*limit/,
    tick: true
  },
  {
    name: 'an empty file',
    kind: 'policy',
    text: '',
    line: 1,
    col: 1,
    message: /must be a YAML mapping/,
    hint: /empty/,
    tick: true
  },
  {
    name: 'a file with only comments',
    kind: 'policy',
    text: '# nothing here yet\n# deployment:\n',
    line: 1,
    message: /must be a YAML mapping/,
    hint: /empty/
  },
  {
    name: 'a list at the top level',
    kind: 'policy',
    text: yaml`
      # the phases as a list instead of a mapping
      - canary
      - limited_production
    `,
    line: 2,
    col: 1,
    message: /must be a YAML mapping/
  },
  {
    name: 'a bare word at the top level',
    kind: 'policy',
    text: '# just a word\ncanary\n',
    line: 2,
    message: /must be a YAML mapping/
  },
  {
    name: 'brackets nested thousands deep',
    kind: 'policy',
    text:
      '# a runaway generator\ndeployment:\n  phases:\n    canary:\n      feature_flags: ' +
      '['.repeat(5000) +
      ']'.repeat(5000) +
      '\n',
    line: 5,
    message: /nests too deeply/
  },
  {
    name: 'a list used as a key',
    kind: 'policy',
    text: yaml`
      # "? [a, b]" makes a key out of a list
      deployment:
        phases:
          ? [canary, staging]
          : user_percentage: 1
    `,
    line: 4,
    col: 7,
    message: /key.*list or mapping/
  },
  {
    name: 'a YAML tag',
    kind: 'policy',
    text: yaml`
      # !!binary turns the value into bytes
      feature: !!binary Y2hlY2tvdXQ=
      deployment: {}
    `,
    line: 2,
    message: /YAML tag !!binary/,
    hint: /remove the tag/
  },

  // --- YAML that parses into the wrong shape ---
  {
    name: 'no deployment section',
    kind: 'policy',
    text: yaml`
      # "deployment" is missing
      feature: checkout
      rollback:
        manual_approval_required: false
    `,
    line: 2,
    message: /deployment/,
    tick: true
  },
  {
    name: 'a file name that cannot be a feature name',
    kind: 'policy',
    path: 'policies/new checkout.yaml',
    text: SEED_POLICY_TEXT,
    line: 3,
    col: 1,
    message: /feature is named after the file, "new checkout", which is not a valid name/,
    hint: /add "feature: new_checkout" at the top, or rename the file/,
    tick: true
  },
  {
    name: 'a feature name git cannot use in a branch name ("..")',
    kind: 'policy',
    text: SEED_POLICY_TEXT.replace('deployment:\n', 'feature: pay..v2\ndeployment:\n'),
    line: 3,
    col: 10,
    message: /usable in a git branch name/,
    tick: true
  },
  {
    name: 'a feature name git cannot use in a branch name (".lock")',
    kind: 'policy',
    text: SEED_POLICY_TEXT.replace('deployment:\n', 'feature: x.lock\ndeployment:\n'),
    line: 3,
    col: 10,
    message: /usable in a git branch name/,
    tick: true
  },
  {
    name: 'a misspelt top-level key',
    kind: 'policy',
    text: seedWith('monitoring:\n', 'monitorin:\n'),
    line: 45,
    col: 1,
    message: /unknown key "monitorin"/,
    hint: /did you mean "monitoring"\?/,
    tick: true
  },
  {
    name: 'a misspelt phase setting',
    kind: 'policy',
    text: seedWith('      user_percentage: 10\n', '      user_percent: 10\n'),
    line: 13,
    col: 7,
    message: /unknown key "user_percent"/,
    hint: /did you mean "user_percentage"\?/
  },
  {
    name: 'a phase setting phasegate does not have',
    kind: 'policy',
    text: seedWith('      duration: 72h\n', '      duration: 72h\n      owner: payments\n'),
    line: 15,
    col: 7,
    message: /unknown key "owner"/,
    hint: /the keys here are enabled, user_percentage, .*gates/
  },
  {
    name: "a phase that is not on the seed's ladder",
    kind: 'policy',
    text: seedWith('    canary:\n', '    canery:\n'),
    line: 5,
    col: 5,
    message: /unknown phase "canery".*did you mean "canary"/,
    tick: true
  },
  {
    name: 'a phase missing from deployment.order',
    kind: 'policy',
    text: yaml`
      # "staging" has settings but is not on the ladder
      deployment:
        order: [dev, prod]
        phases:
          dev:
            user_percentage: 100
          staging:
            user_percentage: 50
    `,
    line: 7,
    col: 5,
    message: /unknown phase "staging"/,
    hint: /deployment\.order/
  },
  {
    name: 'a misspelt phase in deployment.order',
    kind: 'policy',
    text: yaml`
      # the ladder says "stagng", the settings say "staging"
      deployment:
        order: [dev, stagng, prod]
        phases:
          staging:
            user_percentage: 50
    `,
    line: 5,
    col: 5,
    message: /unknown phase "staging" \(did you mean "stagng"\?\)/,
    hint: /deployment\.order/,
    tick: true
  },
  {
    name: 'a ladder written as one line of text',
    kind: 'policy',
    text: yaml`
      # "dev, prod" is one string, not a list
      deployment:
        order: dev, prod
    `,
    line: 3,
    col: 10,
    message: /deployment\.order: expected a list, got text "dev, prod"/,
    hint: /\[a, b\]/
  },
  {
    name: 'an unknown hash version',
    kind: 'policy',
    text: seedWith(
      '    enabled: true\n    groups:',
      '    enabled: true\n    hash_version: 3\n    groups:'
    ),
    line: 29,
    col: 19,
    message: /hash_version: expected 1 or 2, got 3/
  },
  {
    name: 'a phase listed twice in deployment.order',
    kind: 'policy',
    text: yaml`
      # dev appears twice on the ladder
      deployment:
        order:
          - dev
          - beta
          - dev
    `,
    line: 6,
    message: /listed twice/
  },
  {
    name: 'a ladder of one phase',
    kind: 'policy',
    text: yaml`
      # a rollout needs somewhere to go
      deployment:
        order: [prod]
    `,
    line: 3,
    message: /order/
  },
  {
    name: 'an unknown gate type',
    kind: 'policy',
    text: yaml`
      # "manual_aproval" is misspelt
      deployment:
        phases:
          canary:
            gates:
              - type: time_based
                duration: 24h
              - type: manual_aproval
                required: 2
    `,
    line: 8,
    col: 17,
    message: /unknown gate type "manual_aproval"/,
    hint: /metrics_threshold, manual_approval, automated_test or time_based/,
    tick: true
  },
  {
    name: 'a gate without a type',
    kind: 'policy',
    text: yaml`
      # the gate says what it checks but not what kind of gate it is
      deployment:
        phases:
          canary:
            gates:
              - checks: [smoke]
    `,
    line: 6,
    message: /a gate needs a type/
  },
  {
    name: 'a gate option that belongs to another gate type',
    kind: 'policy',
    text: yaml`
      # time_based gates have no "required"
      deployment:
        phases:
          staging:
            gates:
              - type: time_based
                duration: 2h
                required: 2
    `,
    line: 8,
    col: 11,
    message: /unknown key "required"/,
    hint: /"required" is not a setting for this kind of entry/
  },
  {
    name: 'a threshold in words',
    kind: 'policy',
    text: seedWith('error_rate: < 0.01', 'error_rate: about one percent'),
    line: 9,
    col: 21,
    message: /not a threshold/,
    hint: /"< 0\.01"/,
    tick: true
  },
  {
    name: 'a threshold with no number',
    kind: 'policy',
    text: seedWith('performance_degradation: < 0.05', 'performance_degradation: < lots'),
    line: 17,
    message: /not a threshold/
  },
  {
    name: 'a threshold with a reversed operator',
    kind: 'policy',
    text: seedWith('error_rate: < 0.001', 'error_rate: =< 0.001'),
    line: 23,
    message: /not a threshold/
  },
  {
    name: 'a threshold that is a list',
    kind: 'policy',
    text: seedWith('error_rate: < 0.005', 'error_rate: [0, 0.005]'),
    line: 16,
    message: /error_rate/
  },
  {
    name: 'a duration in words',
    kind: 'policy',
    text: seedWith('duration: 24h', 'duration: 24 hours'),
    line: 7,
    col: 17,
    message: /not a duration/,
    hint: /24h/,
    tick: true
  },
  {
    name: 'a duration without a unit',
    kind: 'policy',
    text: seedWith('duration: 72h', 'duration: 72'),
    line: 14,
    message: /duration/,
    hint: /unit/
  },
  {
    name: 'a negative duration',
    kind: 'policy',
    text: seedWith('duration: 30d', 'duration: -30d'),
    line: 43,
    message: /not a duration/
  },
  {
    name: 'a time_based gate with a bad duration',
    kind: 'policy',
    text: yaml`
      # "2 days" has a space and a word for a unit
      deployment:
        phases:
          staging:
            gates:
              - type: time_based
                duration: 2 days
    `,
    line: 7,
    message: /not a duration/
  },
  {
    name: 'a negative user percentage',
    kind: 'policy',
    text: seedWith('user_percentage: 1\n', 'user_percentage: -1\n'),
    line: 6,
    col: 24,
    message: /user_percentage/,
    hint: /at least 0/,
    tick: true
  },
  {
    name: 'a user percentage over 100',
    kind: 'policy',
    text: seedWith('user_percentage: 10\n', 'user_percentage: 110\n'),
    line: 13,
    col: 24,
    message: /user_percentage/
  },
  {
    name: 'a user percentage that is not a number',
    kind: 'policy',
    text: seedWith('user_percentage: 1\n', 'user_percentage: .nan\n'),
    line: 6,
    message: /user_percentage: expected a number, got NaN/
  },
  {
    name: 'a user percentage written with %',
    kind: 'policy',
    text: seedWith('user_percentage: 100\n', 'user_percentage: 100%\n'),
    line: 20,
    message: /user_percentage.*number/
  },
  {
    name: 'a group weight in words',
    kind: 'policy',
    text: seedWith('weight: 50', 'weight: fifty'),
    line: 31,
    col: 17,
    message: /weight.*number/,
    tick: true
  },
  {
    name: 'a group weight of zero',
    kind: 'policy',
    text: seedWith('weight: 50', 'weight: 0'),
    line: 31,
    message: /weight: 0 is too small/,
    hint: /above 0/
  },
  {
    name: 'a group weight as a quoted number',
    kind: 'policy',
    text: seedWith('weight: 50', 'weight: "50"'),
    line: 31,
    message: /weight: expected a number, got text "50"/,
    hint: /remove the quotes/
  },
  {
    name: 'an experiment named with a slash',
    kind: 'policy',
    text: yaml`
      deployment: {}
      experiments:
        checkout/v2:
          groups:
            control: {weight: 50}
            treatment: {weight: 50}
    `,
    line: 3,
    col: 3,
    message: /experiments: "checkout\/v2": names use letters/,
    hint: /rename it/
  },
  {
    name: 'an experiment with one group',
    kind: 'policy',
    text: yaml`
      # an A/B test needs an A and a B
      deployment: {}
      experiments:
        solo:
          groups:
            control:
              weight: 100
    `,
    line: 5,
    message: /two groups/
  },
  {
    name: 'a kill switch written as "yes"',
    kind: 'policy',
    text: seedWith(
      '  dspy_vs_traditional:\n    enabled: true',
      '  dspy_vs_traditional:\n    enabled: yes'
    ),
    line: 28,
    col: 14,
    message: /enabled: expected true or false, got text "yes"/
  },
  {
    name: 'feature flags as one string',
    kind: 'policy',
    text: yaml`
      # feature_flags is a list
      deployment:
        phases:
          canary:
            feature_flags: core_features
    `,
    line: 5,
    message: /feature_flags.*array|feature_flags.*list/
  },
  {
    name: 'an unknown monitoring level',
    kind: 'policy',
    text: yaml`
      # the levels are debug, info, warn and error
      deployment:
        phases:
          canary:
            monitoring_level: verbose
    `,
    line: 5,
    message: /monitoring_level/
  },
  {
    name: 'a fractional minimum sample size',
    kind: 'policy',
    text: seedWith('minimum_sample_size: 1000', 'minimum_sample_size: 999.5'),
    line: 44,
    message: /minimum_sample_size: expected a whole number, got 999.5/
  },
  {
    name: 'a feature name with spaces',
    kind: 'policy',
    text: yaml`
      # feature names end up in branch names and trailers
      feature: new checkout
      deployment: {}
    `,
    line: 2,
    message: /feature: names use letters/,
    hint: /rename/
  },
  {
    name: 'a rollback trigger that is not a comparison',
    kind: 'policy',
    text: seedWith('- error_rate > 0.02', '- error_rate is too high'),
    line: 63,
    col: 7,
    message: /not a rollback trigger/,
    hint: /error_rate > 0\.02/,
    tick: true
  },
  {
    name: 'a misspelt system_failure trigger',
    kind: 'policy',
    text: seedWith('- system_failure', '- system failure'),
    line: 65,
    message: /not a rollback trigger/
  },
  {
    name: 'a rollback trigger with a bad number',
    kind: 'policy',
    text: seedWith('- performance_degradation > 0.3', '- performance_degradation > 30%'),
    line: 64,
    message: /trigger|threshold/
  },
  {
    name: 'a rollback trigger with its window written inline',
    kind: 'policy',
    text: seedWith('- error_rate > 0.02', '- error_rate > 0.02 for 10m'),
    line: 63,
    message: /not a threshold/,
    hint: /\{ when: "error_rate > 0\.02", for: 10m \}/
  },
  {
    name: 'a rollback trigger with an unknown option',
    kind: 'policy',
    text: seedWith('- system_failure', '- when: error_rate > 0.05\n      fro: 10m'),
    line: 66,
    col: 7,
    message: /unknown key "fro"/,
    hint: /did you mean "for"\?/
  },
  {
    name: 'an alert whose warning equals its critical',
    kind: 'policy',
    text: seedWith('warning: 0.1\n      critical: 0.2', 'warning: 0.2\n      critical: 0.2'),
    line: 52,
    col: 17,
    message: /same warning and critical/,
    tick: true
  },
  {
    name: 'an alert threshold in words',
    kind: 'policy',
    text: seedWith('warning: 5000ms', 'warning: five seconds'),
    line: 54,
    message: /not a number/
  },
  {
    name: 'a rollback trigger that fires on the better side of its metric',
    kind: 'policy',
    text: seedWith('- error_rate > 0.02', '- error_rate < 0.02'),
    line: 63,
    col: 7,
    message: /error_rate < 0\.02" fires when error_rate is low.*compares the wrong way/,
    hint: /direction: lower_is_worse/,
    tick: true
  },
  {
    name: 'a success criterion that passes on the worse side of its metric',
    kind: 'policy',
    text: seedWith('user_satisfaction: "> 0.95"', 'user_satisfaction: "< 0.95"'),
    line: 11,
    message: /compares the wrong way/,
    hint: /direction: higher_is_worse/
  },
  {
    name: 'a time threshold on a metric with no unit',
    kind: 'policy',
    text: seedWith('performance_degradation: < 0.1', 'performance_degradation: < 100ms'),
    line: 10,
    message: /is a time, but performance_degradation has no unit/,
    hint: /unit: s/
  },
  {
    name: 'an alert mixing a bare number with a time',
    kind: 'policy',
    text: seedWith('warning: 5000ms', 'warning: 5000'),
    line: 54,
    message: /warning 5000 has no unit but critical 10000ms has one/,
    hint: /both with a unit/
  },
  {
    name: 'a threshold too large for a number',
    kind: 'policy',
    text: seedWith('error_rate: < 0.01', 'error_rate: < 1e999'),
    line: 9,
    col: 21,
    message: /too large/
  },
  {
    name: 'an alert without a critical threshold',
    kind: 'policy',
    text: seedWith('      warning: 0.01\n      critical: 0.02\n', '      warning: 0.01\n'),
    line: 47,
    message: /critical: missing/,
    hint: /add "critical: \.\.\."/
  },
  {
    name: 'a trend that watches for nothing',
    kind: 'policy',
    text: seedWith(
      '  dashboards:\n',
      '  trends:\n    response_time:\n      window: 10m\n  dashboards:\n'
    ),
    line: 57,
    message: /a trend needs increase or decrease/,
    hint: /increase: 0\.5/
  },
  {
    name: 'a manual approval requiring nobody',
    kind: 'policy',
    text: yaml`
      # required must be at least 1
      deployment:
        phases:
          canary:
            gates:
              - type: manual_approval
                required: 0
    `,
    line: 7,
    message: /required/
  },
  {
    name: 'an automated test gate with no checks',
    kind: 'policy',
    text: yaml`
      # which checks must pass?
      deployment:
        phases:
          canary:
            gates:
              - type: automated_test
                checks: []
    `,
    line: 7,
    message: /checks/
  },
  {
    name: 'a metrics gate with no thresholds',
    kind: 'policy',
    text: yaml`
      # a metrics gate that checks nothing would always pass
      deployment:
        phases:
          canary:
            gates:
              - type: metrics_threshold
                thresholds: {}
    `,
    line: 7,
    message: /at least one threshold/,
    hint: /error_rate: < 0\.01/
  },
  {
    name: 'two gates with the same name',
    kind: 'policy',
    text: yaml`
      # both gates are called "soak"
      deployment:
        phases:
          canary:
            gates:
              - type: time_based
                name: soak
                duration: 1h
              - type: time_based
                name: soak
                duration: 2h
    `,
    line: 9,
    message: /named "soak"/
  },
  {
    name: 'a state file outside the repository',
    kind: 'policy',
    text: yaml`
      # phasegate commits the state file, so it must live in the repository
      feature: checkout
      state: ../shared/checkout.yaml
      deployment: {}
    `,
    line: 3,
    col: 8,
    message: /state: the state file must be inside the repository/,
    hint: /relative to the repository root/,
    tick: true
  },
  {
    name: 'an unknown metrics provider',
    kind: 'policy',
    text: yaml`
      # there is no "datadog" provider
      deployment: {}
      metrics:
        provider: datadog
        queries:
          error_rate: avg:errors{*}
    `,
    line: 4,
    col: 13,
    message: /unknown metrics provider "datadog"/,
    hint: /file/,
    tick: true
  },
  {
    name: 'a misspelt file provider option',
    kind: 'policy',
    text: yaml`
      # the file provider's option is "path"
      deployment: {}
      metrics:
        provider: file
        paht: metrics/checkout.yaml
    `,
    line: 5,
    col: 3,
    message: /file provider has no option "paht"/,
    hint: /path/,
    tick: true
  },
  {
    name: 'an evaluation window with a fraction',
    kind: 'policy',
    text: yaml`
      # {{window}} goes into PromQL as written, which takes no fractions
      deployment: {}
      metrics:
        provider: file
        window: 1.5h
    `,
    line: 5,
    col: 11,
    message: /metrics.window: the window goes into queries as written/,
    hint: /5m, 90s or 1h/,
    tick: true
  },
  {
    name: 'an evaluation window that is not a duration',
    kind: 'policy',
    text: yaml`
      # a number alone has no unit
      deployment: {}
      metrics:
        window: 300
    `,
    line: 4,
    col: 11,
    message: /metrics.window: expected a duration, got number 300/,
    hint: /500ms, 30s, 10m/,
    tick: true
  },

  // --- policies that would not mean what they say (issue 12) ---
  {
    name: 'a success criterion without a comparison',
    kind: 'policy',
    text: seedWith('user_satisfaction: "> 0.95"', 'user_satisfaction: 0.95'),
    line: 11,
    col: 28,
    message: /0\.95 has no comparison/,
    hint: /"> 0\.95" when higher is better, or "< 0\.95" when lower is better/,
    tick: true
  },
  {
    name: 'an error_rate alert with critical below warning',
    kind: 'policy',
    text: seedWith(
      'error_rate:\n      warning: 0.01\n      critical: 0.02',
      'error_rate:\n      warning: 0.02\n      critical: 0.01'
    ),
    line: 49,
    col: 17,
    message: /critical 0\.01 is below warning 0\.02, but a higher error_rate is worse/,
    hint: /swap them/,
    tick: true
  },
  {
    name: 'an alert on a metric of unknown direction',
    kind: 'policy',
    text: yaml`
      deployment:
        phases:
          canary: { user_percentage: 1 }
      monitoring:
        alerts:
          queue_depth: { warning: 100, critical: 500 }
    `,
    line: 6,
    col: 5,
    message: /does not know whether a higher or a lower queue_depth is worse/,
    hint: /direction: higher_is_worse/
  },
  {
    name: 'a metric definition with an unknown direction',
    kind: 'policy',
    text: yaml`
      deployment:
        phases:
          canary: { user_percentage: 1 }
      metrics:
        definitions:
          queue_depth: { direction: up }
    `,
    line: 6,
    message: /direction/,
    hint: /higher_is_worse/
  },
  {
    name: 'a metric definition whose unit contradicts the unit its name states',
    kind: 'policy',
    text: yaml`
      deployment:
        phases:
          canary: { user_percentage: 1 }
      metrics:
        definitions:
          rpc_latency_us: { unit: ms }
    `,
    line: 6,
    message: /rpc_latency_us/
  },
  {
    name: 'success_criteria beside an explicit gates list, which reads none of it',
    kind: 'policy',
    text: yaml`
      deployment:
        order: [a, b]
        phases:
          a:
            user_percentage: 5
            success_criteria: { error_rate: '< 0.01' }
            gates:
              - type: time_based
                duration: 1h
          b: { user_percentage: 100 }
    `,
    line: 6,
    message: /success_criteria/,
    tick: true
  },
  {
    name: 'a custom ladder phase without user_percentage',
    kind: 'policy',
    text: yaml`
      deployment:
        order: [beta, ga]
        phases:
          beta:
            duration: 24h
          ga: { user_percentage: 100 }
    `,
    line: 4,
    col: 5,
    message: /phase "beta" has no user_percentage/,
    hint: /user_percentage: <0-100>/,
    tick: true
  },

  {
    name: 'a rollback trigger on a metric no query produces',
    kind: 'policy',
    text: yaml`
      deployment:
        phases:
          canary: { user_percentage: 1 }
      rollback:
        automatic_triggers:
          - eror_rate > 0.02
      metrics:
        provider: prometheus
        url: http://127.0.0.1:9
        queries:
          error_rate: sum(rate(errors_total[5m]))
    `,
    line: 6,
    col: 7,
    message: /eror_rate has no query in metrics\.queries \(did you mean "error_rate"\?\)/,
    hint: /add "eror_rate: <query>" under metrics\.queries/,
    tick: true
  },

  // --- state files (written by phasegate, so damage means someone edited or truncated one) ---
  {
    name: 'a state file with a time that is not a time',
    kind: 'state',
    text: VALID_STATE.replace('2026-03-02T09:00:00.000Z', 'yesterday'),
    line: 4,
    col: 13,
    message: /entered_at: not an RFC 3339 time with an offset/,
    hint: /git/,
    tick: true
  },
  {
    name: 'a state file with a time without an offset',
    kind: 'state',
    text: VALID_STATE.replace('2026-03-02T09:00:00.000Z', '2026-03-02T09:00:00'),
    line: 4,
    col: 13,
    message: /entered_at: not an RFC 3339 time with an offset, e\.g\. 2026-11-27T09:00:00Z/,
    tick: true
  },
  {
    name: 'a state file with an impossible date',
    kind: 'state',
    text: VALID_STATE.replace('2026-03-02T09:00:00.000Z', '2026-13-45T09:00:00Z'),
    line: 4,
    message: /entered_at/
  },
  {
    name: 'a state file with an unknown key',
    kind: 'state',
    text: VALID_STATE.replace('phase: staging', 'phase: staging\nphse: canary'),
    line: 4,
    col: 1,
    message: /unknown key "phse"/,
    hint: /did you mean "phase"\?/,
    tick: true
  },
  {
    name: 'a state file at a phase the policy does not have',
    kind: 'state',
    text: VALID_STATE.replace('phase: staging', 'phase: stagging'),
    line: 3,
    col: 8,
    message: /unknown phase "stagging".*did you mean "staging"/,
    hint: /git/,
    tick: true
  },
  {
    name: 'a state file for another feature',
    kind: 'state',
    text: VALID_STATE.replace('feature: production_deployment', 'feature: checkout'),
    line: 2,
    col: 10,
    message: /feature "checkout".*"production_deployment"/,
    tick: true
  },
  {
    name: 'a state file whose kill switch is a string',
    kind: 'state',
    text: VALID_STATE.replace('enabled: true', 'enabled: "false"'),
    line: 5,
    col: 10,
    message: /enabled: expected true or false, got text "false"/,
    tick: true
  },
  {
    name: 'a state file without a phase',
    kind: 'state',
    text: VALID_STATE.replace('phase: staging\n', ''),
    line: 2,
    message: /phase: missing/,
    hint: /add "phase: \.\.\."/
  },
  {
    name: 'a truncated state file',
    kind: 'state',
    text: VALID_STATE + 'last_transition:\n  kind: advance\n  from: development\n  to: "stag',
    line: 9,
    message: /YAML syntax error/,
    tick: true
  },
  {
    name: 'a state file cut off after a key',
    kind: 'state',
    text: VALID_STATE + 'last_transition:\n  kind: advance\n  from: development\n',
    line: 6,
    message: /last_transition/
  },
  {
    name: 'a state file with a misspelt transition key',
    kind: 'state',
    text:
      VALID_STATE +
      yaml`
        last_transition:
          kind: advance
          from: development
          to: staging
          at: 2026-03-02T09:00:00.000Z
          reasn: approved
      `,
    line: 11,
    col: 3,
    message: /last_transition: unknown key "reasn"/,
    hint: /did you mean "reason"\?/
  },
  {
    name: 'a state file with an unknown transition kind',
    kind: 'state',
    text:
      VALID_STATE +
      yaml`
        last_transition:
          kind: promote
          from: development
          to: staging
          at: 2026-03-02T09:00:00.000Z
          reason: approved
      `,
    line: 7,
    message: /kind/
  },
  {
    name: 'a state file for an experiment the policy does not have',
    kind: 'state',
    text: VALID_STATE + 'experiments:\n  dspy_vs_classic:\n    status: running\n',
    line: 7,
    message: /unknown experiment "dspy_vs_classic"/
  },
  {
    name: 'an empty state file',
    kind: 'state',
    text: '',
    line: 1,
    message: /state file must be a YAML mapping/,
    tick: true
  },
  {
    name: 'a state file with duplicate keys',
    kind: 'state',
    text: VALID_STATE + 'phase: canary\n',
    line: 6,
    message: /duplicate key.*phase/i
  },

  // --- metrics snapshots (read by tick) ---
  {
    name: 'a metrics snapshot that does not parse',
    kind: 'metrics',
    text: 'error_rate: 0.001\nuser_satisfaction: [0.99\n',
    line: 2,
    message: /YAML syntax error/
  },
  {
    name: 'a metrics value in words',
    kind: 'metrics',
    text: 'error_rate: 0.001\nuser_satisfaction: high\n',
    line: 2,
    col: 20,
    message: /user_satisfaction/
  },
  {
    name: 'a metrics group that is not a mapping',
    kind: 'metrics',
    text: 'error_rate: 0.001\ngroups:\n  control: 0.5\n',
    line: 3,
    message: /control/
  },
  {
    name: 'a metrics series with a point missing its value',
    kind: 'metrics',
    text: 'error_rate:\n  value: 0.001\n  series:\n    - [1772442000, 0.001]\n    - [1772442060]\n',
    line: 5,
    message: /series/
  },
  {
    name: 'a metrics series time without an offset',
    kind: 'metrics',
    text: 'error_rate:\n  value: 0.001\n  series:\n    - ["2026-03-02T11:59:00", 0.001]\n',
    line: 4,
    message: /series time must be epoch seconds or an RFC 3339 time with an offset/,
    hint: /add the offset/
  },
  {
    name: 'a metrics as_of without an offset',
    kind: 'metrics',
    text: 'as_of: "2026-03-02T09:02:00"\nerror_rate: 0.001\n',
    line: 1,
    col: 8,
    message: /as_of must be epoch seconds or an RFC 3339 time with an offset.*no offset/,
    hint: /add the offset/
  },
  {
    name: 'a metrics as_of on a day that does not exist',
    kind: 'metrics',
    text: 'as_of: "2026-02-30T09:02:00Z"\nerror_rate: 0.001\n',
    line: 1,
    col: 8,
    message: /as_of must be .*2026-02 has no day 30/
  },
  {
    name: 'a metrics as_of after the evaluation time',
    kind: 'metrics',
    text: 'as_of: "2099-01-01T00:00:00Z"\nerror_rate: 0.001\n',
    line: 1,
    col: 8,
    message: /taken at 2099-01-01T00:00:00.000Z, after the evaluation time/
  },
  {
    name: 'a metrics series time in milliseconds',
    kind: 'metrics',
    text: 'error_rate:\n  value: 0.001\n  series:\n    - [1772442000000, 0.001]\n',
    line: 4,
    message: /not epoch seconds \(milliseconds\?\)/
  },
  {
    name: 'a metrics series out of order',
    kind: 'metrics',
    text: 'error_rate:\n  value: 0.001\n  series:\n    - [1772442060, 0.001]\n    - [1772442000, 0.001]\n',
    line: 5,
    col: 7,
    message: /oldest first/
  },
  {
    name: 'a metrics value that is true',
    kind: 'metrics',
    text: 'error_rate: true\n',
    line: 1,
    col: 13,
    message: /expected a number, null or a mapping \(value:, samples:, series:, step:\), got true/
  },
  {
    name: 'a metrics snapshot that is a list',
    kind: 'metrics',
    text: '- error_rate: 0.001\n',
    line: 1,
    message: /metrics file must be a YAML mapping/
  }
]

const repos: string[] = []

/** A committed repository holding `files`, removed after the run. */
function tempRepo(files: Record<string, string>): string {
  const dir = committedRepo(files)
  repos.push(dir)
  return dir
}

afterAll(() => repos.forEach(dir => rmSync(dir, { recursive: true, force: true })))

interface Run {
  code: number | null
  stdout: string
  stderr: string
}

const run = promisify(execFile)

async function phasegate(dir: string, ...args: string[]): Promise<Run> {
  try {
    const { stdout, stderr } = await run('node', [BIN, ...args], { cwd: dir, encoding: 'utf8' })
    return { code: 0, stdout, stderr }
  } catch (error) {
    const e = error as { code: number | null; stdout: string; stderr: string }
    return { code: e.code, stdout: e.stdout, stderr: e.stderr }
  }
}

function repoFor(c: BadInput): { dir: string; file: string; policyArg: string } {
  const slug = c.name.replace(/[^a-z0-9]+/gi, '_').toLowerCase()
  if (c.kind === 'policy') {
    const file = c.path ?? `policies/${slug}.yaml`
    return { dir: tempRepo({ [file]: c.text }), file, policyArg: file }
  }
  const file = c.kind === 'state' ? STATE : METRICS
  const dir = tempRepo({ [POLICY]: SEED_POLICY_TEXT, [file]: c.text })
  return { dir, file, policyArg: POLICY }
}

const ONE_LINE = /^phasegate: ([^:\n]+):(\d+):(\d+): ([^\n]+) \(hint: ([^\n]+)\)\n$/

function expectRefusal(c: BadInput, file: string, result: Run): void {
  expect(result.code, result.stderr).toBe(1)
  expect(result.stderr).toMatch(ONE_LINE)
  const [, where, line, col, message, hint] = ONE_LINE.exec(result.stderr)!
  expect(where).toBe(file)
  expect(Number(line), result.stderr).toBe(c.line)
  if (c.col !== undefined) expect(Number(col), result.stderr).toBe(c.col)
  expect(message).toMatch(c.message)
  if (c.hint) expect(hint).toMatch(c.hint)
  expect(result.stderr).not.toMatch(/\n\s+at /)
}

/**
 * A snapshot written wrong is no data, never a refusal that stops the tick (issue 15, A1): the
 * metric it is about (or, for a file unreadable as a whole, every metric) reads null with the
 * same one-line reason a refusal would give, located in the file.
 */
async function expectNoDataAt(c: BadInput, dir: string, file: string): Promise<void> {
  const provider = createFileProvider({ provider: 'file', queries: {}, options: { path: file } })
  const readings = await provider.read(
    [
      { metric: 'error_rate' },
      { metric: 'user_satisfaction' },
      { metric: 'response_time', group: 'control' }
    ],
    { feature: 'f', phase: 'canary', now: new Date(NOW), baseDir: dir, window: '5m', env: {} }
  )
  const located = readings.filter(r => r.reason?.startsWith(`${file}:${c.line}:`))
  expect(located.length, JSON.stringify(readings)).toBeGreaterThan(0)
  for (const r of located) {
    expect(r.value).toBeNull()
    expectRefusal(c, file, { code: 1, stdout: '', stderr: `phasegate: ${r.reason}\n` })
  }
}

function expectUntouched(dir: string, head: string): void {
  expect(sh(dir, 'git', 'status', '--porcelain', '--untracked-files=all')).toBe('')
  expect(sh(dir, 'git', 'rev-parse', 'HEAD')).toBe(head)
}

describe.concurrent('bad input is refused with one line saying where and what to do', () => {
  it('has a corpus of at least 36 malformed files', () => {
    expect(CASES.length).toBeGreaterThanOrEqual(36)
    expect(new Set(CASES.map(c => c.name)).size).toBe(CASES.length)
  })

  for (const c of CASES) {
    it(`${c.kind}: ${c.name}`, async () => {
      const { dir, file, policyArg } = repoFor(c)
      const head = sh(dir, 'git', 'rev-parse', 'HEAD')
      if (c.kind !== 'metrics') {
        expectRefusal(c, file, await phasegate(dir, 'validate', '--policy', policyArg))
        expectUntouched(dir, head)
      }
      if (c.tick) {
        const args = ['tick', '--policy', policyArg, '--approved-by', 'alice', '--now', NOW]
        expectRefusal(c, file, await phasegate(dir, ...args))
        expectUntouched(dir, head)
      }
      if (c.kind === 'metrics') await expectNoDataAt(c, dir, file)
    })
  }

  it('a bad policy beside a good one stops tick before it commits anything', async () => {
    const bad = CASES.find(c => c.name === 'an unknown gate type')!
    const dir = tempRepo({ [POLICY]: SEED_POLICY_TEXT, 'policies/zz_checkout.yaml': bad.text })
    const head = sh(dir, 'git', 'rev-parse', 'HEAD')
    const result = await phasegate(dir, 'tick', '--approved-by', 'alice', '--now', NOW)
    expectRefusal(bad, 'policies/zz_checkout.yaml', result)
    expectUntouched(dir, head)
  })

  it("a metric in words in the second policy's snapshot is no data there, located; the tick runs on", async () => {
    const bad = CASES.find(c => c.name === 'a metrics value in words')!
    const second = SEED_POLICY_TEXT.replace(
      'deployment:',
      'feature: checkout\nmetrics:\n  path: metrics/checkout.yaml\ndeployment:'
    )
    const dir = tempRepo({
      [POLICY]: SEED_POLICY_TEXT,
      'policies/zz_checkout.yaml': second,
      'metrics/checkout.yaml': bad.text
    })
    const result = await phasegate(dir, 'tick', '--approved-by', 'alice', '--now', NOW)
    expect(result.code, result.stdout + result.stderr).toBe(0)
    expect(result.stdout).toMatch(/^checkout: /m)
    expect(result.stdout).toMatch(/^production_deployment: /m)
    expect(result.stderr).not.toMatch(/metrics\/checkout\.yaml/)
  })

  it('a metric written wrong in a snapshot given with --metrics is located from the repository root', async () => {
    const dir = tempRepo({
      [POLICY]: SEED_POLICY_TEXT,
      [STATE]: VALID_STATE,
      'snapshots/now.yaml': 'error_rate: lots\n'
    })
    const args = ['status', '--metrics', 'snapshots/now.yaml', '--now', NOW]
    const result = await phasegate(dir, ...args)
    expect(result.stdout, result.stdout + result.stderr).toMatch(
      /snapshots\/now\.yaml:1:13: error_rate/
    )
  })

  it('a directory where the state file should be is refused in one line, without a commit', async () => {
    const dir = tempRepo({ [POLICY]: SEED_POLICY_TEXT, [`${STATE}/README`]: 'oops\n' })
    const head = sh(dir, 'git', 'rev-parse', 'HEAD')
    for (const args of [['validate'], ['tick', '--approved-by', 'alice', '--now', NOW]]) {
      const result = await phasegate(dir, ...args)
      expect(result.code).toBe(1)
      expect(result.stderr).toBe(
        `phasegate: ${STATE}: state file is a directory, not a file (hint: point at the YAML file itself)\n`
      )
      expectUntouched(dir, head)
    }
  })

  // Without this, every refusal above could be the harness failing for some other reason.
  it('the same harness commits an advance when the input is good', async () => {
    const dir = tempRepo({ [POLICY]: SEED_POLICY_TEXT, [STATE]: VALID_STATE })
    const head = sh(dir, 'git', 'rev-parse', 'HEAD')
    expect((await phasegate(dir, 'validate', '--policy', POLICY)).code).toBe(0)
    const tick = await phasegate(
      dir,
      'tick',
      '--policy',
      POLICY,
      '--approved-by',
      'alice',
      '--now',
      NOW
    )
    expect(tick.stderr).toBe('')
    expect(tick.code).toBe(0)
    expect(sh(dir, 'git', 'rev-parse', 'HEAD~1')).toBe(head)
    expect(sh(dir, 'git', 'status', '--porcelain')).toBe('')
  })
})
