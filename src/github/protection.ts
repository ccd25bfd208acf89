// GitHub's refusals of a push or a ref update by branch protection (GH006) and by repository
// rulesets (GH013), as git's `remote:` lines or a REST answer's message say them. Each rule that
// refused is named, with what to configure, so a refusal is never mistaken for a missing
// permission, and a flow knows whether a pull request (or a commit GitHub signs) gets past it.

/** One rule that refused, in the words a person configures it by. */
export type ProtectionRule =
  | { kind: 'pull_request' }
  | { kind: 'status_checks'; checks: string[] }
  | { kind: 'signatures' }
  | { kind: 'reviews' }
  | { kind: 'restricted_updates' }
  | { kind: 'restricted_pushers' }
  | { kind: 'force_push' }
  | { kind: 'other'; text: string }

export interface ProtectionRefusal {
  /** A repository ruleset (GH013) or classic branch protection (GH006). */
  by: 'ruleset' | 'branch protection'
  /** The rules the refusal names; empty when it names none. */
  rules: ProtectionRule[]
}

const RULES: Array<[RegExp, (match: RegExpExecArray) => ProtectionRule]> = [
  [/changes must be made through a pull request/i, () => ({ kind: 'pull_request' })],
  [
    /required status checks? (.*?) (?:is|are) expected/i,
    m => ({ kind: 'status_checks', checks: [...m[1]!.matchAll(/"([^"]+)"/g)].map(c => c[1]!) })
  ],
  [/commits must have verified signatures/i, () => ({ kind: 'signatures' })],
  [/approving reviews? (?:is|are) required/i, () => ({ kind: 'reviews' })],
  [/cannot update this protected ref/i, () => ({ kind: 'restricted_updates' })],
  [/not authorized to push to this branch/i, () => ({ kind: 'restricted_pushers' })],
  [/cannot force-push/i, () => ({ kind: 'force_push' })]
]

const RULESET = /GH013|repository rule violations/i
const BRANCH_PROTECTION = /GH006|protected branch (?:update failed|hook declined)/i

/**
 * The protection refusal in `text` (git's stderr, or a REST error message), or undefined when
 * it is none (a lost race, a missing permission). Rules are read from GH013's "- rule." lines
 * and GH006's "error: rule." lines; an unrecognised ruleset line is kept as `other`.
 */
export function protectionRefusalOf(text: string): ProtectionRefusal | undefined {
  const by = RULESET.test(text)
    ? 'ruleset'
    : BRANCH_PROTECTION.test(text)
      ? 'branch protection'
      : /changes must be made through a pull request/i.test(text)
        ? 'branch protection'
        : undefined
  if (!by) return undefined
  const rules: ProtectionRule[] = []
  const add = (rule: ProtectionRule) => {
    if (!rules.some(r => JSON.stringify(r) === JSON.stringify(rule))) rules.push(rule)
  }
  for (const raw of text.split('\n')) {
    const line = raw
      .replace(/^remote:\s*/, '')
      .replace(/^error:\s*/, '')
      .trim()
    if (!line || RULESET.test(line) || BRANCH_PROTECTION.test(line)) continue
    const known = RULES.map(([re, make]) => [re.exec(line), make] as const).find(([m]) => m)
    if (known) add(known[1](known[0]!))
    else if (by === 'ruleset' && /^- /.test(line))
      add({ kind: 'other', text: line.slice(2).replace(/\.$/, '') })
  }
  return { by, rules }
}

/** One rule in words, e.g. 'updates to the branch are restricted'. */
export function ruleText(rule: ProtectionRule): string {
  switch (rule.kind) {
    case 'pull_request':
      return 'changes must go through a pull request'
    case 'status_checks':
      return `required status check${rule.checks.length === 1 ? '' : 's'} ${rule.checks.map(c => `"${c}"`).join(', ') || '(unnamed)'} must pass first`
    case 'signatures':
      return 'commits must have verified signatures'
    case 'reviews':
      return 'approving reviews are required'
    case 'restricted_updates':
      return 'updates to the branch are restricted'
    case 'restricted_pushers':
      return 'only listed people and apps may push'
    case 'force_push':
      return 'force pushes are blocked'
    case 'other':
      return rule.text
  }
}

/**
 * One sentence for a report or a PR body: which protection refused the push to `branch`, which
 * of its rules, and what to configure so phasegate's own commits land directly.
 */
export function describeRefusal(refusal: ProtectionRefusal, branch: string): string {
  const rules = refusal.rules.map(ruleText)
  const which = rules.length ? `: ${rules.join('; ')}` : ''
  const where =
    refusal.by === 'ruleset'
      ? "add phasegate's GitHub App (or the token's user) to the ruleset's bypass list (Settings → Rules → Rulesets)"
      : `allow phasegate's GitHub App (or the token's user) to bypass the protection of ${branch} (Settings → Branches)`
  return `the ${refusal.by} on ${branch} refused the push${which}. To let rollbacks land at once, ${where}`
}
