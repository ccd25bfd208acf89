/** Where in a file something is, 1-based. */
export interface SourceLocation {
  file: string
  line?: number
  col?: number
}

/**
 * A mistake the user can fix: bad input, a refused transition, a missing file. The CLI and the
 * action print it as one line (`file:line:col: message (hint)`) with no stack trace.
 */
export class PhasegateError extends Error {
  readonly location?: SourceLocation
  readonly hint?: string

  constructor(message: string, options: { location?: SourceLocation; hint?: string } = {}) {
    super(message)
    this.name = 'PhasegateError'
    this.location = options.location
    this.hint = options.hint
  }

  /** One line for a person: where, what, and what to do. */
  format(): string {
    const where = this.location
      ? [this.location.file, this.location.line, this.location.col]
          .filter(v => v !== undefined)
          .join(':') + ': '
      : ''
    return `${where}${this.message}${this.hint ? ` (hint: ${this.hint})` : ''}`
  }
}

/**
 * A command line that cannot run as written (an unknown option, a missing argument, a value in
 * the wrong form): the CLI exits 2 instead of 1 and points at the command's help.
 */
export class UsageError extends PhasegateError {
  constructor(message: string, options: { hint?: string } = {}) {
    super(message, options)
    this.name = 'UsageError'
  }
}
