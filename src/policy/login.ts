// What a GitHub login looks like, in one place: the policy's approvers and operators and the
// command line's --approved-by and --operator are checked against the same form.

/** A GitHub login: letters, digits and single inner dashes, 1 to 39 characters ("alice", "a-b"). */
export const GITHUB_LOGIN = /^[A-Za-z0-9](?:[A-Za-z0-9]|-(?=[A-Za-z0-9])){0,38}$/
