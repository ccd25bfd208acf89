import { closeSync, mkdtempSync, openSync, writeSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { PhasegateError } from '../../../src/errors.js'
import { MAX_LINE_BYTES } from '../../../src/experiments/lines.js'
import { readResults } from '../../../src/experiments/results.js'

// A results file line longer than MAX_LINE_BYTES (issue 11, kind 7) is a located error that
// echoes none of the line, found without holding the line in memory.

const dir = mkdtempSync(join(tmpdir(), 'phasegate-line-cap-'))
const shape = { groups: ['control', 'treatment'], metrics: ['converted'] }
const MARKER = 'SECRET-CONTENT'

/** A results file whose line `long` (1-based) is `bytes` long, written in 64 KiB pieces. */
function fileWithLongLine(name: string, before: string[], long: string, bytes: number): string {
  const path = join(dir, name)
  const fd = openSync(path, 'w')
  try {
    writeSync(fd, before.map(l => `${l}\n`).join(''))
    writeSync(fd, long)
    const piece = Buffer.alloc(1 << 16, 'a')
    for (let left = bytes - long.length; left > 0; left -= piece.length)
      writeSync(fd, piece, 0, Math.min(piece.length, left))
    writeSync(fd, '\nu9,control,1\n')
  } finally {
    closeSync(fd)
  }
  return path
}

async function failure(path: string): Promise<PhasegateError> {
  const error = await readResults(path, shape).then(
    () => undefined,
    (e: unknown) => e
  )
  expect(error).toBeInstanceOf(PhasegateError)
  return error as PhasegateError
}

describe('results file lines have a cap', () => {
  it('is documented as 1 MiB', () => {
    expect(MAX_LINE_BYTES).toBe(1 << 20)
  })

  it('a 24 MiB CSV line is an error at its line, without its content', async () => {
    const path = fileWithLongLine(
      'long.csv',
      ['user_id,group,converted', 'u1,control,1', 'u2,treatment,0'],
      `u3,${MARKER},`,
      24 << 20
    )
    const error = await failure(path)
    expect(error.location).toEqual({ file: path, line: 4 })
    expect(error.message).toContain('longer than 1 MiB')
    expect(error.format()).not.toContain(MARKER)
    expect(error.format().length).toBeLessThan(600)
  })

  it('a 24 MiB NDJSON line is an error at its line, without its content', async () => {
    const path = fileWithLongLine(
      'long.ndjson',
      ['{"user_id":"u1","group":"control","converted":1}'],
      `{"user_id":"${MARKER}","group":"control","converted":"`,
      24 << 20
    )
    const error = await failure(path)
    expect(error.location).toEqual({ file: path, line: 2 })
    expect(error.message).toContain('longer than 1 MiB')
    expect(error.format()).not.toContain(MARKER)
  })

  it('a line just under the cap is read as usual', async () => {
    const path = join(dir, 'wide.csv')
    const fd = openSync(path, 'w')
    // An ignored column makes the second line 1 MiB - 100 bytes long, across a chunk boundary.
    writeSync(fd, 'user_id,group,converted,note\nu0,control,0,x\n')
    writeSync(fd, `u1,treatment,1,${'b'.repeat((1 << 20) - 100)}\n`)
    closeSync(fd)
    const data = await readResults(path, shape)
    expect(data.users).toEqual({ control: 1, treatment: 1 })
  })
})
