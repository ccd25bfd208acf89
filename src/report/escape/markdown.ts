// Text phasegate did not write (reasons, logins, metric names and values, error messages) goes
// into Markdown that GitHub renders: pull request bodies, issues, comments, the job summary.
// There it must stay text: no mention that pings someone, no link, no HTML or comment (a fake
// digest marker), no code fence that swallows what follows it (the on-call mention), no line of
// its own that looks like phasegate's ("Approved by ..."), no broken table.

/** A zero-width space as an entity: it breaks a mention or an autolink and shows nothing. */
const BREAK = '&#8203;'

/**
 * Characters that start Markdown (or GitHub's math and tables) anywhere in a line. An underscore
 * inside a word (full_production) starts nothing and stays as written; a `]` is escaped where it
 * would close a link, an image or a reference (`](`, `][`, `]:`), so "dependabot[bot]" reads as
 * written.
 */
const INLINE = /[\\`*|~$]|\](?=[([:])|(?<![A-Za-z0-9])_|_(?![A-Za-z0-9])/g

/** A GitHub login, or a team as org/team: the only things that may render as a mention. */
const LOGIN = /^[A-Za-z0-9](?:[A-Za-z0-9]|-(?=[A-Za-z0-9])){0,38}$/
const TEAM = /^[A-Za-z0-9](?:[A-Za-z0-9]|-(?=[A-Za-z0-9])){0,38}\/[A-Za-z0-9][A-Za-z0-9_.-]*$/

/**
 * `text` as one line of inline Markdown that renders as exactly that text, wherever the line
 * puts it (after a list marker too): line breaks and control characters become spaces, `&` and
 * `<` become entities where they would start an entity, a tag or a comment, Markdown punctuation
 * and a leading list, heading or quote marker are backslash-escaped, and `@name`, `://`,
 * `www.`, `#123`, `GH-123` and commit SHAs get a zero-width break so that no mention, autolink or
 * reference to another issue or commit forms.
 */
export function markdownText(text: string): string {
  return markdownCell(text)
    .replace(/^([-+=#>[])/, '\\$1')
    .replace(/^(\d+)([.)])/, '$1\\$2')
}

/**
 * `text` for a table cell, where nothing starts a block: markdownText without the escape of a
 * leading list, heading or quote marker, so "> 0.95" and "0.012" read as written in the source.
 */
export function markdownCell(text: string): string {
  return (
    text
      // eslint-disable-next-line no-control-regex
      .replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029]+/g, ' ')
      .replace(/ {2,}/g, ' ')
      .trim()
      // Only where they could start an entity, a tag, a comment or an autolink: "< 0.01" stays.
      .replace(/&(?=[#A-Za-z])/g, '&amp;')
      .replace(/<(?=[A-Za-z/!?])/g, '&lt;')
      .replace(INLINE, '\\$&')
      // References GitHub links (and notifies on the issue or commit linked): #123 and
      // owner/repo#123, GH-123, and a commit SHA (7 to 40 hex digits; every 6 get a break, so no
      // prefix of it is one). Before the @ and :// breaks, whose entity has a '#' of its own.
      .replace(/#(?=\d)/g, `#${BREAK}`)
      .replace(/\b(gh)-(?=\d)/gi, `$1-${BREAK}`)
      .replace(/(?<![\w.])[0-9a-f]{7,40}(?!\w)/gi, m =>
        /[a-f]/i.test(m) ? m.replace(/[0-9a-f]{6}(?=[0-9a-f])/gi, `$&${BREAK}`) : m
      )
      .replace(/@(?=[A-Za-z0-9])/g, `@${BREAK}`)
      .replace(/:\/\//g, `:${BREAK}//`)
      .replace(/\bwww\./gi, m => `${m.slice(0, 3)}${BREAK}.`)
  )
}

/**
 * `text` as an inline code span, shown exactly (one line): the fence is one backtick longer than
 * the longest run of backticks in it, so nothing inside can end it.
 */
export function markdownCode(text: string): string {
  // eslint-disable-next-line no-control-regex
  const line = text.replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029]+/g, ' ')
  const fence = '`'.repeat(Math.max(0, ...(line.match(/`+/g) ?? []).map(r => r.length)) + 1)
  const pad = line.startsWith('`') || line.endsWith('`') ? ' ' : ''
  return `${fence}${pad}${line}${pad}${fence}`
}

/**
 * A mention of a GitHub login or `org/team` (with or without its `@`): `@login` when it has a
 * login's form, else the value as plain text, so a stored value can never smuggle Markdown in.
 */
export function mention(login: string): string {
  const bare = login.replace(/^@/, '')
  return LOGIN.test(bare) || TEAM.test(bare) ? `@${bare}` : markdownText(login)
}
