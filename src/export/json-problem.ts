// A JSON syntax error told without the text: used by the datafile readers (SDK side too), so it
// imports nothing.

/**
 * Why `text` is not JSON, as "line L, column C" when the parser says where (1-based), else
 * "invalid JSON": never the parser's own message, which quotes the text (a file reached through
 * a symlink, a secret) into errors that CI logs keep.
 */
export function jsonSyntaxProblem(error: unknown, text: string): string {
  const at = /at position (\d+)/.exec(error instanceof Error ? error.message : '')
  if (!at) return 'invalid JSON'
  const before = text.slice(0, Number(at[1]))
  const line = before.split('\n').length
  return `invalid JSON at line ${line}, column ${before.length - before.lastIndexOf('\n')}`
}
