// attack16: what the index says at a glance against what is known: open alert issues on GitHub,
// a hand edit of a state file, and an --out that is the repository itself.
import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { init } from '../../src/commands/init.js'
import { at } from '../support/policies.js'
import { cli, sh, tempRepo } from '../support/repo.js'

describe('attack16: the index at a glance', () => {
  it('--out naming the repository root does not overwrite the repository’s own index.html', async () => {
    const dir = tempRepo()
    writeFileSync(join(dir, 'index.html'), '<h1>our product page</h1>\n')
    sh(dir, 'git', 'add', 'index.html')
    sh(dir, 'git', 'commit', '-qm', 'product page')
    await init({ cwd: dir, policies: [], now: at(0) })
    const run = await cli(dir, 'dashboard', '--out', '.', '--now', at(1).toISOString()).catch(
      (e: unknown) => ({ code: -1, out: '', err: String(e) })
    )
    expect(readFileSync(join(dir, 'index.html'), 'utf8')).toBe('<h1>our product page</h1>\n')
    expect(run.code).not.toBe(0)
  })
})
