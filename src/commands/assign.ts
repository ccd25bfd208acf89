import type { Writable } from 'node:stream'
import { once } from 'node:events'
import { resolve } from 'node:path'
import { createAssigner } from '../experiments/assignment.js'
import { forEachLine } from '../experiments/lines.js'
import { findExperiment } from './experiment.js'
import { csvRow, type CsvFor } from '../report/escape/csv.js'

export interface AssignOptions {
  cwd: string
  policies: string[]
  experiment?: string
  /** User ids given on the command line. */
  userIds: string[]
  /** A file of user ids, one per line, streamed. */
  usersFile?: string
  json: boolean
  /** CSV for data (exact ids, the default) or for a spreadsheet (formula cells made text). */
  csvFor?: CsvFor
}

/**
 * Prints each user's group as `user_id,group` (RFC 4180: quoted when needed, so ids stay exact;
 * with `csvFor: 'spreadsheet'` formula cells get a leading `'`) or, with json, one
 * `{"user_id": ..., "group": ...}` object per line. Writes as it reads, waiting for the output to
 * drain, so a file of millions of ids needs no more memory than a few.
 */
export async function assign(options: AssignOptions, output: Writable): Promise<void> {
  const { experiment } = await findExperiment(options.cwd, options.policies, options.experiment)
  const groupOf = createAssigner(experiment)
  const line = options.json
    ? (id: string) => `${JSON.stringify({ user_id: id, group: groupOf(id) })}\n`
    : (id: string) => `${csvRow([id, groupOf(id)], options.csvFor)}\n`
  let buffered = ''
  const flush = async (): Promise<void> => {
    if (buffered.length > 0 && !output.write(buffered)) await once(output, 'drain')
    buffered = ''
  }
  for (const id of options.userIds) buffered += line(id)
  await flush()
  if (options.usersFile) {
    const addUser = (text: string): void => {
      const id = text.trim()
      if (id) buffered += line(id)
    }
    await forEachLine(resolve(options.cwd, options.usersFile), addUser, flush)
    await flush()
  }
}
