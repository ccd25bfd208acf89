import { StringDecoder } from 'node:string_decoder'
import { PhasegateError } from '../errors.js'

/** One commit of `git log --raw -z` read by LogReader. */
export interface LoggedCommit {
  sha: string
  /** Committer date, strict ISO 8601 (%cI). */
  at: string
  author: string
  /** The whole message (%B). */
  message: string
  /** The raw diff against the first parent: each file's `:mode mode old new status` and path. */
  changes: Array<{ meta: string; path: string }>
}

const START = '\u001e'
const FIELD = '\u001f'

/**
 * The `--format` LogReader reads. Every field a commit's author controls (author name, message)
 * ends with the commit's own id, which no text inside the commit can contain (the id is a hash
 * of it): a message holding the separators cannot end its field early and pass for another
 * commit, another date or another diff.
 */
export const LOG_FORMAT = `${START}%H${FIELD}%cI${FIELD}%an${FIELD}%H${FIELD}%B${FIELD}%H${FIELD}`

/** The `git log` flags LogReader needs besides the format: a raw diff with NUL-ended paths. */
export const LOG_RAW_ARGS = ['--raw', '-z', '--no-abbrev']

/**
 * Reads the output of `git log --format=LOG_FORMAT --raw -z --no-abbrev` chunk by chunk (as it
 * arrives from streamGit) and hands over each commit once its raw diff has ended. Nothing is
 * found by searching for separators in text a commit's author controls: fields end at the
 * commit's id, and paths at their NUL. Throws a PhasegateError on output of another shape.
 */
export class LogReader {
  private readonly decoder = new StringDecoder('utf8')
  private buf = ''
  private at = 0
  // The commit being read: its fields so far, and where the search for the next field's end
  // resumes (a long message arrives over many chunks and is scanned once).
  private fields: string[] = []
  private terminator = ''
  private parked: string[] = []
  private scanFrom = 0
  private changes: LoggedCommit['changes'] = []
  // A commit whose fields are read and whose raw diff may still be arriving.
  private pending: string[] | undefined

  constructor(private readonly onCommit: (commit: LoggedCommit) => void) {}

  push(chunk: Buffer): void {
    this.buf = this.buf.slice(this.at) + this.decoder.write(chunk)
    this.scanFrom -= this.at
    this.at = 0
    this.read(false)
  }

  /** The output has ended: hands over the last commit. */
  finish(): void {
    this.buf = this.buf.slice(this.at) + this.decoder.end()
    this.scanFrom -= this.at
    this.at = 0
    this.read(true)
  }

  private read(final: boolean): void {
    const { buf } = this
    for (;;) {
      const n = this.fields.length
      if (n === 0) {
        // Between commits: the rest of the previous one's raw diff, then the next commit.
        while (this.at < buf.length && (buf[this.at] === '\0' || buf[this.at] === '\n')) this.at++
        if (this.at >= buf.length) {
          if (final) this.emit()
          return
        }
        if (buf[this.at] === ':') {
          const metaEnd = buf.indexOf('\0', this.at)
          const pathEnd = metaEnd < 0 ? -1 : buf.indexOf('\0', metaEnd + 1)
          if (pathEnd < 0) return this.incomplete(final)
          this.changes.push({
            meta: buf.slice(this.at + 1, metaEnd),
            path: buf.slice(metaEnd + 1, pathEnd)
          })
          this.at = pathEnd + 1
          continue
        }
        if (buf[this.at] !== START) throw unexpected(buf.slice(this.at, this.at + 40))
        this.emit()
        const shaEnd = buf.indexOf(FIELD, this.at + 1)
        const dateEnd = shaEnd < 0 ? -1 : buf.indexOf(FIELD, shaEnd + 1)
        if (dateEnd < 0) return this.incomplete(final)
        const sha = buf.slice(this.at + 1, shaEnd)
        if (!/^[0-9a-f]{40,64}$/.test(sha)) throw unexpected(sha)
        this.fields = [sha, buf.slice(shaEnd + 1, dateEnd)]
        this.terminator = `${FIELD}${sha}${FIELD}`
        this.at = dateEnd + 1
        this.scanFrom = this.at
        continue
      }
      // Author (fields[2]), then message (fields[3]): each runs to the commit's own id.
      const stop = buf.indexOf(this.terminator, this.scanFrom)
      if (stop < 0) {
        if (final) throw unexpected(buf.slice(this.at, this.at + 40))
        // A long field arrives over many chunks: all but the tail that may begin the terminator
        // is set aside, so that each chunk is copied and scanned once.
        const keep = Math.max(this.at, buf.length - this.terminator.length + 1)
        this.parked.push(buf.slice(this.at, keep))
        this.at = keep
        this.scanFrom = keep
        return
      }
      this.fields.push(this.parked.join('') + buf.slice(this.at, stop))
      this.parked = []
      this.at = stop + this.terminator.length
      this.scanFrom = this.at
      if (this.fields.length === 4) {
        this.pending = this.fields
        this.fields = []
      }
    }
  }

  /** Hands over the commit whose raw diff has just ended, if any. */
  private emit(): void {
    const fields = this.pending
    if (!fields) return
    const [sha, at, author, message] = fields as [string, string, string, string]
    this.onCommit({ sha, at, author, message, changes: this.changes })
    this.pending = undefined
    this.changes = []
  }

  private incomplete(final: boolean): void {
    if (final) throw unexpected(this.buf.slice(this.at, this.at + 40))
  }
}

function unexpected(text: string): PhasegateError {
  return new PhasegateError(
    `git log printed something phasegate cannot read: ${JSON.stringify(text)}`
  )
}
