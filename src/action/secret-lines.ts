import * as core from '@actions/core'

// The `metrics-secrets` and `notification-secrets` inputs: NAME=value lines, read before any
// feature acts, so a mistake in them must never fail the step (that would stop a dispatched
// emergency or a tick's rollback before it lands). A line that is not an entry is a problem of
// the entry it most likely belongs to: a secret with a newline in it (`openssl rand -base64 64`
// wraps at 64 characters), expanded as `NAME=${{ secrets.NAME }}`, leaves NAME with its first
// line only, followed by bare lines. Such a NAME is left unset and named doubtful, so only what
// needs it fails (a notification target, a metrics query), and says why. A multi-line value is
// written unambiguously as GitHub's own multi-line form (as in $GITHUB_OUTPUT):
//   NAME<<EOF
//   ${{ secrets.NAME }}
//   EOF
// The plain form cannot be repaired by guessing: a wrapped line that happens to read `Q==` looks
// like the entry Q, so phasegate never joins lines on its own.

/** What the input's lines gave: usable values, and why other NAMEs (or lines) are unusable. */
export interface SecretLines {
  /** NAME → value, each masked in the log. Empty values (unset secrets) are left out. */
  values: Record<string, string>
  /** NAME → why its value is not used (never repeating the value). */
  doubtful: Record<string, string>
  /** Why each line that belongs to no entry was skipped, by line number (no line's text). */
  problems: string[]
}

const NAME = /^[A-Za-z_][A-Za-z0-9_]*$/

/**
 * Reads NAME=value and NAME<<DELIMITER … DELIMITER entries of the input `input` (its name is
 * used in messages only). Never throws; values are masked (each line of a multi-line one too).
 */
export function readSecretLines(text: string, input: string): SecretLines {
  const result: SecretLines = { values: {}, doubtful: {}, problems: [] }
  const lines = text.split(/\r?\n/)
  // The last entry read: a bare line after it most likely continues its value.
  let last: { name: string; line: number } | undefined
  const doubt = (name: string, why: string) => {
    delete result.values[name]
    result.doubtful[name] ??= why
  }
  for (let index = 0; index < lines.length; index++) {
    const line = lines[index]!.trim()
    const at = `input ${input}, line ${index + 1}`
    if (!line || line.startsWith('#')) continue
    const heredoc = /^([^=<\s]*)\s*<<\s*(\S+)$/.exec(line)
    if (heredoc) {
      const [, name = '', delimiter = ''] = heredoc
      const end = lines.findIndex((l, i) => i > index && l.trim() === delimiter)
      const body = lines.slice(index + 1, end < 0 ? lines.length : end)
      if (!NAME.test(name)) result.problems.push(`${at}: ${name || '(empty)'} is no NAME`)
      else if (end < 0) doubt(name, `${at}: ${name}<<${delimiter} has no closing ${delimiter}`)
      else setValue(result, name, body.join('\n'))
      last = undefined
      index = end < 0 ? lines.length : end
      continue
    }
    const eq = line.indexOf('=')
    const name = eq > 0 ? line.slice(0, eq).trim() : ''
    if (!NAME.test(name)) {
      // Most likely a piece of a secret: masked like one.
      core.setSecret(line)
      if (last)
        doubt(
          last.name,
          `${at} is not NAME=value: ${last.name} (line ${last.line}) seems to hold a multi-line value, cut at its first line; write it as ${last.name}<<EOF, the value, EOF`
        )
      else result.problems.push(`${at}: expected NAME=value with NAME an environment variable name`)
      continue
    }
    last = { name, line: index + 1 }
    if (result.doubtful[name]) continue
    setValue(result, name, line.slice(eq + 1).trim())
  }
  return result
}

function setValue(result: SecretLines, name: string, value: string): void {
  if (!value.trim()) {
    delete result.values[name]
    return
  }
  core.setSecret(value)
  for (const part of value.split('\n')) if (part.trim()) core.setSecret(part.trim())
  result.values[name] = value
}

/**
 * Why NAME has no value, when the input says more than "not set": its entry was doubtful, or
 * some line belonged to no entry (it may have been NAME's). Undefined: simply not given.
 */
export function whyUnset(read: SecretLines, name: string): string | undefined {
  if (read.doubtful[name]) return read.doubtful[name]
  if (read.problems.length) return `${name} is not set (${read.problems.join('; ')})`
  return undefined
}

/** Logs each doubtful NAME and skipped line as a warning (no value is ever in them). */
export function warnSecretLines(read: SecretLines): void {
  for (const why of [...Object.values(read.doubtful), ...read.problems])
    core.warning(`${why}; what needs it fails, the rest of the run goes on`)
}
