import { createReadStream } from 'node:fs'
import { StringDecoder } from 'node:string_decoder'
import { PhasegateError } from '../errors.js'

/**
 * Calls `onLine` for each non-empty line of a UTF-8 file (LF or CRLF), 1 MiB at a time, so memory
 * stays flat however long the file is. `afterChunk` runs between chunks: the place to wait for a
 * slow consumer. Returns the number of lines read. Errors thrown by `onLine` stop the read.
 */
export async function forEachLine(
  path: string,
  onLine: (line: string, lineNumber: number) => void,
  afterChunk?: () => Promise<void>
): Promise<number> {
  let lineNumber = 0
  let pending = ''
  const decoder = new StringDecoder('utf8')
  const visit = (text: string): void => {
    let start = 0
    for (let end = text.indexOf('\n'); end !== -1; end = text.indexOf('\n', start)) {
      lineNumber++
      const line =
        text.charCodeAt(end - 1) === 13 ? text.slice(start, end - 1) : text.slice(start, end)
      if (line.length > 0) onLine(line, lineNumber)
      start = end + 1
    }
    pending = text.slice(start)
  }
  try {
    for await (const chunk of createReadStream(path, { highWaterMark: 1 << 20 })) {
      visit(pending + decoder.write(chunk as Buffer))
      if (afterChunk) await afterChunk()
    }
  } catch (error) {
    if (error instanceof PhasegateError) throw error
    throw new PhasegateError(`cannot read ${path}: ${(error as Error).message}`, {
      location: { file: path },
      hint: 'check the file name'
    })
  }
  const rest = pending + decoder.end()
  if (rest.length > 0) visit(rest + '\n')
  return lineNumber
}
