// What a GitHub login looks like, in one place: the policy's approvers and operators and the
// command line's --approved-by and --operator are checked against the same form.

/** A GitHub login: letters, digits and single inner dashes, 1 to 39 characters ("alice", "a-b"). */
export const GITHUB_LOGIN = /^[A-Za-z0-9](?:[A-Za-z0-9]|-(?=[A-Za-z0-9])){0,38}$/

/**
 * A GitHub App's bot account as it appears on reviews and commits ("dependabot[bot]"): a real
 * identity that the command line accepts so it can be named, and that never counts as an approver.
 */
export const GITHUB_BOT_LOGIN = /^[A-Za-z0-9](?:[A-Za-z0-9]|-(?=[A-Za-z0-9])){0,38}\[bot\]$/
