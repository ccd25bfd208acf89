// LogReader reads `git log --format=LOG_FORMAT --raw -z` output as it arrives: wherever the
// chunks split it (inside a field, a terminator, a path or a multi-byte character), it hands over
// the same commits, and separator characters inside messages and paths stay text.

import { Buffer } from 'node:buffer'
import { expect, test } from 'vitest'
import { LogReader, type LoggedCommit } from '../../../src/git/log.js'

const A = 'a'.repeat(40)
const B = 'b'.repeat(40)
const C = 'c'.repeat(40)

/** What git prints for one commit in LogReader's format, with its raw diff entries. */
function printed(c: LoggedCommit): string {
  const head = `\u001e${c.sha}\u001f${c.at}\u001f${c.author}\u001f${c.sha}\u001f${c.message}\u001f${c.sha}\u001f\0`
  const diff = c.changes.map(x => `:${x.meta}\0${x.path}\0`).join('')
  return head + (diff ? `\n${diff}` : '')
}

const commits: LoggedCommit[] = [
  {
    sha: A,
    at: '2026-01-01T00:00:00+00:00',
    author: 'Zoë 🚀',
    message: `subject\n\nbody with \u001e${B}\u001f separators\u001f${C}\u001f\n\nPhasegate-Feature: x\n`,
    changes: [
      {
        meta: `100644 100644 ${'1'.repeat(40)} ${'2'.repeat(40)} M`,
        path: `.phasegate/state/x\u001e${B}.yaml`
      },
      { meta: `000000 100644 ${'0'.repeat(40)} ${'3'.repeat(40)} A`, path: 'app/é.txt' }
    ]
  },
  { sha: B, at: '2026-01-01T00:01:00+01:00', author: 'b', message: 'no diff\n', changes: [] },
  {
    sha: C,
    at: '2026-01-01T00:02:00Z',
    author: '',
    message: '',
    changes: [{ meta: `100644 000000 ${'4'.repeat(40)} ${'0'.repeat(40)} D`, path: 'gone' }]
  }
]

function read(chunks: Buffer[]): LoggedCommit[] {
  const out: LoggedCommit[] = []
  const reader = new LogReader(c => out.push(c))
  for (const chunk of chunks) reader.push(chunk)
  reader.finish()
  return out
}

const whole = Buffer.from(commits.map(printed).join(''), 'utf8')

test('the whole output at once', () => {
  expect(read([whole])).toEqual(commits)
})

test('split in two at every byte', () => {
  for (let i = 1; i < whole.length; i++)
    expect(read([whole.subarray(0, i), whole.subarray(i)]), `split at ${i}`).toEqual(commits)
})

test('one byte at a time', () => {
  const bytes = Array.from({ length: whole.length }, (_, i) => whole.subarray(i, i + 1))
  expect(read(bytes)).toEqual(commits)
})

test('output that ends inside a commit is an error, not a shorter history', () => {
  const cut = whole.indexOf(Buffer.from(`\u001f${C}\u001f`, 'utf8'))
  expect(() => read([whole.subarray(0, cut)])).toThrow(/cannot read/)
})
