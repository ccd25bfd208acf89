import type { FileHandle } from 'node:fs/promises'
import { PhasegateError } from '../errors.js'

// node:fs/promises is loaded with the first results file read: importing it loads readline's
// internals, a start-up cost for every command that reads none (status, tick).
const openFile = async (path: string) => (await import('node:fs/promises')).open(path, 'r')

const NEWLINE = 10
const CARRIAGE_RETURN = 13

/**
 * The longest line a line-by-line file (results, user lists) may have, in bytes with its line
 * ending: 1 MiB, far past any real row. A longer line is refused at its line number before it is
 * held in memory, so one runaway line cannot take the run's memory and minutes of copying.
 */
export const MAX_LINE_BYTES = 1 << 20

/**
 * Reads a file 1 MiB at a time into one reused buffer, so memory stays flat however long the
 * file is, and hands over its bytes in runs of whole lines: `onLines(bytes, start, end)` where
 * every line in [start, end) ends with "\n" (one is added after a last line without it). No
 * bytes are decoded here, so hot parsers can read fields straight from them; `bytes` is only
 * valid during the call. `afterChunk` runs between chunks: the place to wait for a slow
 * consumer. Errors thrown by `onLines` stop the read. A line longer than MAX_LINE_BYTES is a
 * PhasegateError at its file and line that shows none of it.
 */
export async function forEachLineRun(
  path: string,
  onLines: (bytes: Buffer, start: number, end: number) => void,
  afterChunk?: () => Promise<void>
): Promise<void> {
  // One buffer, refilled for every chunk: reading allocates nothing, whatever the file's size.
  // A line that fits in one chunk is therefore never longer than the cap.
  const buffer = Buffer.allocUnsafe(MAX_LINE_BYTES)
  // The start of a line the previous chunk cut off (a copy: the buffer is about to be refilled),
  // and where in the file it starts.
  let carry: Buffer | undefined
  let carryAt = 0
  let offset = 0
  let file: FileHandle | undefined
  try {
    file = await openFile(path)
    for (;;) {
      const { bytesRead } = await file.read(buffer, 0, buffer.length, null)
      if (bytesRead === 0) break
      const bytes = buffer.subarray(0, bytesRead)
      const chunkAt = offset
      offset += bytesRead
      let from = 0
      if (carry) {
        const first = bytes.indexOf(NEWLINE)
        if (carry.length + (first === -1 ? bytes.length : first + 1) > MAX_LINE_BYTES)
          throw await overlongLine(path, carryAt)
        if (first === -1) {
          carry = Buffer.concat([carry, bytes])
          continue
        }
        const line = Buffer.concat([carry, bytes.subarray(0, first + 1)])
        carry = undefined
        onLines(line, 0, line.length)
        from = first + 1
      }
      const last = bytes.lastIndexOf(NEWLINE)
      if (last >= from) {
        onLines(bytes, from, last + 1)
        from = last + 1
      }
      if (from < bytes.length) {
        carry = Buffer.from(bytes.subarray(from))
        carryAt = chunkAt + from
      }
      if (afterChunk) await afterChunk()
    }
  } catch (error) {
    if (error instanceof PhasegateError) throw error
    throw new PhasegateError(`cannot read ${path}: ${(error as Error).message}`, {
      location: { file: path },
      hint: 'check the file name'
    })
  } finally {
    await file?.close()
  }
  if (carry) {
    const line = Buffer.concat([carry, Buffer.of(NEWLINE)])
    onLines(line, 0, line.length)
  }
}

/**
 * The error for the line starting at byte `at`: its number is counted by reading the file up to
 * there again, which only this error path pays for.
 */
async function overlongLine(path: string, at: number): Promise<PhasegateError> {
  let line = 1
  const file = await openFile(path)
  try {
    const buffer = Buffer.allocUnsafe(1 << 16)
    for (let position = 0; position < at;) {
      const { bytesRead } = await file.read(
        buffer,
        0,
        Math.min(buffer.length, at - position),
        position
      )
      if (bytesRead === 0) break
      for (
        let i = buffer.indexOf(NEWLINE, 0);
        i !== -1 && i < bytesRead;
        i = buffer.indexOf(NEWLINE, i + 1)
      )
        line++
      position += bytesRead
    }
  } finally {
    await file.close()
  }
  return new PhasegateError(
    `line ${line} is longer than ${MAX_LINE_BYTES / (1 << 20)} MiB, the most a line may hold; it was not read`,
    {
      location: { file: path, line },
      hint: 'each line holds one row (CSV) or one JSON object (NDJSON): look for a missing line break or a runaway field there'
    }
  )
}

/**
 * Calls `onLine` for each non-empty line of a UTF-8 file (LF or CRLF), streamed as by
 * forEachLineRun. Returns the number of lines, counting empty ones.
 */
export async function forEachLine(
  path: string,
  onLine: (line: string, lineNumber: number) => void,
  afterChunk?: () => Promise<void>
): Promise<number> {
  let lineNumber = 0
  await forEachLineRun(
    path,
    (bytes, start, end) => {
      for (let eol = bytes.indexOf(NEWLINE, start); eol !== -1 && eol < end;) {
        lineNumber++
        const text = bytes.toString('utf8', start, lineEnd(bytes, start, eol))
        if (text.length > 0) onLine(text, lineNumber)
        start = eol + 1
        eol = bytes.indexOf(NEWLINE, start)
      }
    },
    afterChunk
  )
  return lineNumber
}

/** Where the line ending at the "\n" at `eol` ends without its "\r". */
export function lineEnd(bytes: Buffer, start: number, eol: number): number {
  return eol > start && bytes[eol - 1] === CARRIAGE_RETURN ? eol - 1 : eol
}
