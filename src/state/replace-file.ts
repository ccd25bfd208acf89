import { mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs'
import { dirname } from 'node:path'

/**
 * Writes `text` to `path` whole or not at all: into a temporary file beside it (named by this
 * process, so two runs never write the same one), then renamed over `path`; its directory is
 * created when missing. A reader sees the old file or the new one, never a part. Throws the file
 * system's error, with the temporary file removed.
 */
export function replaceFile(path: string, text: string): void {
  const temporary = `${path}.${process.pid}.tmp`
  try {
    mkdirSync(dirname(path), { recursive: true })
    writeFileSync(temporary, text)
    renameSync(temporary, path)
  } catch (error) {
    rmSync(temporary, { force: true })
    throw error
  }
}
