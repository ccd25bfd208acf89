import { describe, expect, it } from 'vitest'
import { describeRefusal, protectionRefusalOf } from '../../../src/github/protection.js'

// GitHub's protection refusals as git and the REST API report them (issue 11, kind 5): each is
// recognised, with the rules it names; a lost race or a missing permission is not one.

const gh013 = (...rules: string[]) =>
  [
    'remote: error: GH013: Repository rule violations found for refs/heads/main.        ',
    'remote: Review all repository rules at https://github.com/acme/shop/rules?ref=refs%2Fheads%2Fmain        ',
    'remote: ',
    ...rules.flatMap(r => [`remote: - ${r}        `, 'remote: ']),
    'To https://github.com/acme/shop',
    ' ! [remote rejected] HEAD -> main (push declined due to repository rule violations)',
    "error: failed to push some refs to 'https://github.com/acme/shop'"
  ].join('\n')

const gh006 = (...rules: string[]) =>
  [
    'remote: error: GH006: Protected branch update failed for refs/heads/main.',
    ...rules.map(r => `remote: error: ${r}`),
    'To https://github.com/acme/shop',
    ' ! [remote rejected] HEAD -> main (protected branch hook declined)',
    "error: failed to push some refs to 'https://github.com/acme/shop'"
  ].join('\n')

describe('protectionRefusalOf', () => {
  it.each([
    [
      'GH013 signed commits',
      gh013(
        'Commits must have verified signatures.\nremote:   Found 1 violation:\nremote: \nremote:   027faa7121ee9df79db623e1a2848d2cc88a8dba'
      ),
      { by: 'ruleset', rules: [{ kind: 'signatures' }] }
    ],
    [
      'GH013 pull request and a required check',
      gh013(
        'Changes must be made through a pull request.',
        'Required status check "ci" is expected.'
      ),
      {
        by: 'ruleset',
        rules: [{ kind: 'pull_request' }, { kind: 'status_checks', checks: ['ci'] }]
      }
    ],
    [
      'GH013 restricted updates',
      gh013('Cannot update this protected ref.'),
      { by: 'ruleset', rules: [{ kind: 'restricted_updates' }] }
    ],
    [
      'GH013 a rule phasegate does not know',
      gh013('Changes must be deployed to staging.'),
      { by: 'ruleset', rules: [{ kind: 'other', text: 'Changes must be deployed to staging' }] }
    ],
    [
      'GH006 pull request',
      gh006('Changes must be made through a pull request.'),
      { by: 'branch protection', rules: [{ kind: 'pull_request' }] }
    ],
    [
      'GH006 two required checks',
      gh006('Required status checks "build", "test" are expected.'),
      { by: 'branch protection', rules: [{ kind: 'status_checks', checks: ['build', 'test'] }] }
    ],
    [
      'GH006 reviews',
      gh006('At least 1 approving review is required by reviewers with write access.'),
      { by: 'branch protection', rules: [{ kind: 'reviews' }] }
    ],
    [
      'GH006 restricted pushers',
      gh006(
        "You're not authorized to push to this branch. Visit https://docs.github.com/ for more information."
      ),
      { by: 'branch protection', rules: [{ kind: 'restricted_pushers' }] }
    ],
    [
      'GH006 signed commits',
      gh006('Commits must have verified signatures.'),
      { by: 'branch protection', rules: [{ kind: 'signatures' }] }
    ],
    [
      'REST: a ruleset refusing a ref update',
      'Repository rule violations found\n\nCommits must have verified signatures.\n\n',
      { by: 'ruleset', rules: [{ kind: 'signatures' }] }
    ],
    [
      'REST: branch protection refusing a ref update',
      'Protected branch update failed for refs/heads/main.',
      { by: 'branch protection', rules: [] }
    ],
    [
      'REST: a merge waiting on a required check',
      'Repository rule violations found\n\nRequired status check "ci" is expected.\n\n',
      { by: 'ruleset', rules: [{ kind: 'status_checks', checks: ['ci'] }] }
    ]
  ])('%s', (_, text, expected) => {
    expect(protectionRefusalOf(text)).toEqual(expected)
  })

  it.each([
    [
      'a lost race',
      ' ! [rejected]        HEAD -> main (fetch first)\nerror: failed to push some refs\nhint: Updates were rejected because the remote contains work that you do not have locally.'
    ],
    [
      'a missing permission',
      'remote: Permission to acme/shop.git denied to github-actions[bot].\nfatal: unable to access: The requested URL returned error: 403'
    ]
  ])('is undefined for %s', (_, text) => {
    expect(protectionRefusalOf(text)).toBeUndefined()
  })
})

describe('describeRefusal', () => {
  it('names the rules and the bypass to configure', () => {
    const text = describeRefusal(
      protectionRefusalOf(
        gh013('Cannot update this protected ref.', 'Required status check "ci" is expected.')
      )!,
      'main'
    )
    expect(text).toBe(
      "the ruleset on main refused the push: updates to the branch are restricted; required status check \"ci\" must pass first. To let rollbacks land at once, add phasegate's GitHub App (or the token's user) to the ruleset's bypass list (Settings → Rules → Rulesets)"
    )
  })
})
