// The emulated repository's git side: a real bare repository that the API reads and writes with
// git plumbing, served to git clients over smart HTTP by `git http-backend` (a CGI program).

import { execFileSync, spawn } from 'node:child_process'
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import type { IncomingMessage, ServerResponse } from 'node:http'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

const ZERO_SHA = '0000000000000000000000000000000000000000'

export interface CommitIdentity {
  name: string
  email: string
}

export interface FileChange {
  filename: string
  status: 'added' | 'removed' | 'modified' | 'renamed'
  additions: number
  deletions: number
  blobSha: string
  patch: string
}

/** git's environment for plumbing: no user config, no prompts, fixed identities unless given. */
function gitEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  return {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    GIT_CONFIG_NOSYSTEM: '1',
    GIT_CONFIG_GLOBAL: '/dev/null',
    GIT_TERMINAL_PROMPT: '0',
    GIT_AUTHOR_NAME: 'GitHub',
    GIT_AUTHOR_EMAIL: 'noreply@github.com',
    GIT_COMMITTER_NAME: 'GitHub',
    GIT_COMMITTER_EMAIL: 'noreply@github.com',
    // A test may date the commits it plants (a state that landed hours before its metrics).
    ...(process.env.GIT_COMMITTER_DATE
      ? { GIT_COMMITTER_DATE: process.env.GIT_COMMITTER_DATE }
      : {}),
    ...(process.env.GIT_AUTHOR_DATE ? { GIT_AUTHOR_DATE: process.env.GIT_AUTHOR_DATE } : {}),
    ...extra
  }
}

export class GitRepository {
  readonly projectRoot: string
  readonly gitDir: string
  private readonly root: string
  /** Answers about commit SHAs never change, and each git process costs tens of milliseconds. */
  private readonly memo = new Map<string, unknown>()

  constructor(
    readonly owner: string,
    readonly repo: string,
    readonly defaultBranch: string
  ) {
    this.root = mkdtempSync(join(tmpdir(), 'phasegate-gh-'))
    this.projectRoot = join(this.root, 'served')
    this.gitDir = join(this.projectRoot, owner, `${repo}.git`)
    mkdirSync(this.gitDir, { recursive: true })
    this.git(['init', '--bare', '--quiet', `--initial-branch=${defaultBranch}`])
    this.git(['config', 'http.receivepack', 'true'])
  }

  /** Runs git against the bare repository and returns trimmed stdout. */
  git(
    args: string[],
    options: { input?: string | Buffer; env?: Record<string, string> } = {}
  ): string {
    return execFileSync('git', args, {
      cwd: this.gitDir,
      env: gitEnv({ GIT_DIR: this.gitDir, ...options.env }),
      input: options.input,
      encoding: 'utf8',
      maxBuffer: 64 * 1024 * 1024,
      stdio: ['pipe', 'pipe', 'pipe']
    }).trim()
  }

  /** Stores `content` as a blob (POST /git/blobs); returns its sha. */
  writeBlob(content: Buffer): string {
    return this.git(['hash-object', '-w', '--stdin'], { input: content })
  }

  /**
   * A tree (POST /git/trees): `base`'s entries (none when undefined) with `entries` laid over
   * them by full path, a null sha removing the path. Returns its sha.
   */
  writeTree(
    base: string | undefined,
    entries: Array<{ path: string; mode: string; sha: string | null }>
  ): string {
    const index = join(this.root, `index-${process.pid}-${Math.random().toString(16).slice(2)}`)
    const env = { GIT_INDEX_FILE: index }
    try {
      this.git(base ? ['read-tree', base] : ['read-tree', '--empty'], { env })
      for (const entry of entries) {
        if (entry.sha === null) this.git(['update-index', '--force-remove', entry.path], { env })
        else
          this.git(
            ['update-index', '--add', '--cacheinfo', `${entry.mode},${entry.sha},${entry.path}`],
            {
              env
            }
          )
      }
      return this.git(['write-tree'], { env })
    } finally {
      rmSync(index, { force: true })
    }
  }

  /** A tree's top-level entries, as GET/POST /git/trees list them. */
  treeEntries(tree: string): Array<{ path: string; mode: string; type: string; sha: string }> {
    return this.git(['ls-tree', tree])
      .split('\n')
      .filter(Boolean)
      .map(line => {
        const [meta, path] = line.split('\t') as [string, string]
        const [mode, type, sha] = meta.split(' ') as [string, string, string]
        return { path, mode, type, sha }
      })
  }

  /** A commit object (POST /git/commits) by `identity`, at `date` (ISO 8601). Returns its sha. */
  writeCommit(
    tree: string,
    parents: string[],
    message: string,
    identity: CommitIdentity,
    date: string
  ): string {
    return this.git(['commit-tree', tree, ...parents.flatMap(p => ['-p', p])], {
      input: message,
      env: {
        ...identityEnv(identity, identity),
        GIT_AUTHOR_DATE: date,
        GIT_COMMITTER_DATE: date
      }
    })
  }

  /** Whether `sha` names a tree object. */
  isTree(sha: string): boolean {
    try {
      return this.git(['cat-file', '-t', sha]) === 'tree'
    } catch {
      return false
    }
  }

  /** The commit a ref points at, or undefined when the ref does not exist. */
  resolve(ref: string): string | undefined {
    try {
      return this.git(['rev-parse', '--verify', '--quiet', `${ref}^{commit}`])
    } catch {
      return undefined
    }
  }

  branchSha(branch: string): string | undefined {
    return this.resolve(`refs/heads/${branch}`)
  }

  /** Full ref names and the object they point at, e.g. "refs/heads/main". */
  refs(): Map<string, string> {
    const out = this.git(['for-each-ref', '--format=%(refname) %(objectname)'])
    return new Map(
      out
        .split('\n')
        .filter(Boolean)
        .map(line => line.split(' ') as [string, string])
    )
  }

  /** Moves a ref only if it still points at `expected` (undefined: must not exist yet). */
  updateRef(ref: string, sha: string, expected: string | undefined): void {
    this.git(['update-ref', ref, sha, expected ?? ZERO_SHA])
  }

  deleteRef(ref: string): void {
    this.git(['update-ref', '-d', ref])
  }

  isAncestor(ancestor: string, descendant: string): boolean {
    try {
      this.git(['merge-base', '--is-ancestor', ancestor, descendant])
      return true
    } catch {
      return false
    }
  }

  private remember<T>(key: string, compute: () => T): T {
    if (!this.memo.has(key)) this.memo.set(key, compute())
    return this.memo.get(key) as T
  }

  objectExists(sha: string): boolean {
    if (this.memo.get(`exists ${sha}`)) return true
    try {
      this.git(['cat-file', '-e', `${sha}^{commit}`])
      this.memo.set(`exists ${sha}`, true)
      return true
    } catch {
      return false
    }
  }

  readFile(ref: string, path: string): string | undefined {
    try {
      return execFileSync('git', ['show', `${ref}:${path}`], {
        cwd: this.gitDir,
        env: gitEnv({ GIT_DIR: this.gitDir }),
        encoding: 'utf8',
        stdio: ['pipe', 'pipe', 'pipe']
      })
    } catch {
      return undefined
    }
  }

  /**
   * Commits file contents (null deletes the file) on top of a branch, the way a person pushing
   * from elsewhere would; a new branch starts from the default branch. Returns the new commit.
   */
  commitFiles(
    branch: string,
    files: Record<string, string | null>,
    message: string,
    author: CommitIdentity = { name: 'Octo Cat', email: 'octocat@users.noreply.github.com' }
  ): string {
    const current = this.branchSha(branch)
    const parent = current ?? this.branchSha(this.defaultBranch)
    const index = join(this.root, `index-${process.pid}-${Date.now()}-${Math.random()}`)
    const env = { GIT_INDEX_FILE: index }
    try {
      if (parent) this.git(['read-tree', parent], { env })
      // --index-info works without a work tree; mode 0 removes the path.
      const entries = Object.entries(files).map(([path, content]) =>
        content === null
          ? `0 ${ZERO_SHA}\t${path}`
          : `100644 ${this.git(['hash-object', '-w', '--stdin'], { input: content })}\t${path}`
      )
      this.git(['update-index', '--index-info'], { env, input: entries.join('\n') + '\n' })
      const tree = this.git(['write-tree'], { env })
      const commit = this.git(
        ['commit-tree', tree, ...(parent ? ['-p', parent] : []), '-m', message],
        { env: identityEnv(author, author) }
      )
      this.updateRef(`refs/heads/${branch}`, commit, current)
      return commit
    } finally {
      rmSync(index, { force: true })
    }
  }

  /**
   * Merges `head` into `base` the way GitHub's merge button does, moving `base` only if no push
   * moved it meanwhile. Returns the new commit, or why there is none.
   */
  merge(
    base: string,
    head: string,
    method: 'merge' | 'squash',
    message: string,
    author: CommitIdentity
  ): { sha: string } | { refused: 'conflict' | 'base moved' } {
    const baseSha = this.branchSha(base)
    if (!baseSha || !this.mergeable(baseSha, head)) return { refused: 'conflict' }
    const [tree = ''] = this.git([
      'merge-tree',
      '--write-tree',
      '--no-messages',
      baseSha,
      head
    ]).split('\n')
    const parents = method === 'merge' ? ['-p', baseSha, '-p', head] : ['-p', baseSha]
    const commit = this.git(['commit-tree', tree, ...parents, '-m', message], {
      env: identityEnv(author, { name: 'GitHub', email: 'noreply@github.com' })
    })
    try {
      this.updateRef(`refs/heads/${base}`, commit, baseSha)
    } catch {
      return { refused: 'base moved' }
    }
    return { sha: commit }
  }

  /** Whether `head` merges into `base` without conflicts (both commit SHAs). */
  mergeable(base: string, head: string): boolean {
    return this.remember(`mergeable ${base} ${head}`, () => {
      try {
        this.git(['merge-tree', '--write-tree', '--no-messages', base, head])
        return true
      } catch {
        return false
      }
    })
  }

  /**
   * Files a pull request changes: the diff from the merge base of `base` and `head` (both
   * commit SHAs) to `head`.
   */
  changedFiles(base: string, head: string): FileChange[] {
    return this.remember(`files ${base} ${head}`, () => {
      const mergeBase = this.git(['merge-base', base, head])
      // --raw gives status and blob per file, --numstat the line counts, -p the patches.
      const out = this.git([
        'diff',
        '--no-renames',
        '--no-abbrev',
        '--raw',
        '--numstat',
        '-p',
        mergeBase,
        head
      ])
      const [summary = '', ...patches] = out.split(/^diff --git /m)
      const raw = new Map<string, { code: string; blob: string }>()
      const counts = new Map<string, [number, number]>()
      for (const line of summary.split('\n').filter(Boolean)) {
        const [meta = '', filename = ''] = line.split('\t')
        if (line.startsWith(':')) {
          const fields = meta.split(' ')
          raw.set(filename, { code: fields[4] ?? 'M', blob: fields[3] ?? ZERO_SHA })
        } else {
          const [added, deleted, name = ''] = line.split('\t')
          counts.set(name, [Number(added) || 0, Number(deleted) || 0])
        }
      }
      const patchOf = new Map(
        patches.map(patch => {
          const filename = patch.slice(0, patch.indexOf('\n')).replace(/^a\/(.*) b\/.*$/, '$1')
          return [filename, patch.slice(patch.indexOf('\n@@') + 1)]
        })
      )
      return [...raw.entries()].map(([filename, { code, blob }]) => {
        const [additions, deletions] = counts.get(filename) ?? [0, 0]
        return {
          filename,
          status: code === 'A' ? 'added' : code === 'D' ? 'removed' : 'modified',
          additions,
          deletions,
          blobSha: code === 'D' ? ZERO_SHA : blob,
          patch: patchOf.get(filename) ?? ''
        }
      })
    })
  }

  commitCount(base: string, head: string): number {
    return this.remember(`count ${base} ${head}`, () =>
      Number(this.git(['rev-list', '--count', `${base}..${head}`]))
    )
  }

  private branchProtected = false
  private ruleset: EmulatedRuleset | undefined

  /**
   * Makes pushes to the default branch fail the way GitHub's branch protection does, so that
   * clients must go through a pull request. The emulator's own merges bypass the hook.
   */
  setBranchProtection(protectedBranch: boolean): void {
    this.branchProtected = protectedBranch
    this.writeProtectionHook()
  }

  /**
   * Makes pushes to the default branch fail the way a repository ruleset does (GH013, one
   * "- rule." line per rule it breaks), except for the ruleset's bypass actors.
   */
  setRuleset(ruleset: EmulatedRuleset | undefined): void {
    this.ruleset = ruleset
    this.writeProtectionHook()
  }

  private writeProtectionHook(): void {
    const hook = join(this.gitDir, 'hooks', 'pre-receive')
    if (!this.branchProtected && !this.ruleset) {
      rmSync(hook, { force: true })
      return
    }
    const ref = `refs/heads/${this.defaultBranch}`
    const applies =
      !this.branchProtected && this.ruleset?.allBranches
        ? 'case "$ref" in refs/heads/*) true;; *) false;; esac'
        : `[ "$ref" = "${ref}" ]`
    const refusal: string[] = []
    if (this.branchProtected) {
      refusal.push(
        `    echo "error: GH006: Protected branch update failed for ${ref}." >&2`,
        '    echo "error: Changes must be made through a pull request." >&2',
        '    exit 1'
      )
    } else {
      const rules = rulesetViolations(this.ruleset!)
      const bypass = this.ruleset!.bypass ?? []
      refusal.push(
        ...(bypass.length
          ? [`    case "$REMOTE_USER" in ${bypass.map(shellQuote).join('|')}) continue;; esac`]
          : []),
        '    echo "error: GH013: Repository rule violations found for $ref." >&2',
        `    echo "Review all repository rules at http://127.0.0.1/${this.owner}/${this.repo}/rules?ref=refs%2Fheads%2F${this.defaultBranch}" >&2`,
        '    echo "" >&2',
        ...rules.flatMap(rule => [
          `    echo ${shellQuote(`- ${rule}`)} >&2`,
          ...(rule.startsWith('Commits must have verified signatures')
            ? ['    echo "  Found 1 violation:" >&2', '    echo "" >&2', '    echo "  $new" >&2']
            : []),
          '    echo "" >&2'
        ]),
        '    exit 1'
      )
    }
    writeFileSync(
      hook,
      [
        '#!/bin/sh',
        'while read old new ref; do',
        `  if ${applies}; then`,
        ...refusal,
        '  fi',
        'done',
        ''
      ].join('\n')
    )
    chmodSync(hook, 0o755)
  }

  /** Serves one smart-HTTP request through `git http-backend`. */
  serve(request: IncomingMessage, response: ServerResponse, remoteUser: string): void {
    const url = new URL(request.url ?? '/', 'http://127.0.0.1')
    const env: NodeJS.ProcessEnv = {
      ...gitEnv(),
      GIT_PROJECT_ROOT: this.projectRoot,
      GIT_HTTP_EXPORT_ALL: '1',
      PATH_INFO: decodeURIComponent(url.pathname),
      QUERY_STRING: url.search.replace(/^\?/, ''),
      REQUEST_METHOD: request.method ?? 'GET',
      CONTENT_TYPE: request.headers['content-type'] ?? '',
      REMOTE_USER: remoteUser,
      REMOTE_ADDR: '127.0.0.1'
    }
    if (request.headers['content-length']) env.CONTENT_LENGTH = request.headers['content-length']
    if (request.headers['content-encoding']) {
      env.HTTP_CONTENT_ENCODING = request.headers['content-encoding']
    }
    if (request.headers['git-protocol']) env.GIT_PROTOCOL = String(request.headers['git-protocol'])
    const backend = spawn('git', ['http-backend'], { env, stdio: ['pipe', 'pipe', 'pipe'] })
    request.pipe(backend.stdin)
    let buffered = Buffer.alloc(0)
    let headersDone = false
    const stderr: Buffer[] = []
    backend.stderr.on('data', (chunk: Buffer) => stderr.push(chunk))
    backend.stdout.on('data', (chunk: Buffer) => {
      if (headersDone) {
        response.write(chunk)
        return
      }
      buffered = Buffer.concat([buffered, chunk])
      const end = buffered.indexOf('\r\n\r\n')
      if (end === -1) return
      headersDone = true
      let status = 200
      for (const line of buffered.subarray(0, end).toString('utf8').split('\r\n')) {
        const colon = line.indexOf(':')
        const name = line.slice(0, colon).trim()
        const value = line.slice(colon + 1).trim()
        if (name.toLowerCase() === 'status') status = Number.parseInt(value, 10)
        else response.setHeader(name, value)
      }
      response.writeHead(status)
      response.write(buffered.subarray(end + 4))
    })
    backend.on('close', code => {
      if (!headersDone) {
        response.writeHead(500, { 'content-type': 'text/plain' })
        response.write(`git http-backend exited ${code}: ${Buffer.concat(stderr).toString()}`)
      }
      response.end()
    })
  }

  remove(): void {
    rmSync(this.root, { recursive: true, force: true })
  }
}

function identityEnv(author: CommitIdentity, committer: CommitIdentity): Record<string, string> {
  return {
    GIT_AUTHOR_NAME: author.name,
    GIT_AUTHOR_EMAIL: author.email,
    GIT_COMMITTER_NAME: committer.name,
    GIT_COMMITTER_EMAIL: committer.email
  }
}

/** A repository ruleset on the default branch, by the rules phasegate meets in practice. */
export interface EmulatedRuleset {
  /** "Require a pull request before merging". */
  pullRequest?: boolean
  /** "Require status checks to pass": their contexts. */
  statusChecks?: string[]
  /** "Require signed commits": a push from git carries no signature GitHub can verify. */
  signatures?: boolean
  /** "Restrict updates". */
  restrictUpdates?: boolean
  /** Logins the ruleset lets through (its bypass list). */
  bypass?: string[]
  /** The ruleset targets every branch (pushes only), not just the default one. */
  allBranches?: boolean
}

/** GH013's rule lines, worded and ordered as GitHub prints them. */
export function rulesetViolations(ruleset: EmulatedRuleset): string[] {
  return [
    ...(ruleset.pullRequest ? ['Changes must be made through a pull request.'] : []),
    ...(ruleset.statusChecks?.length
      ? [
          ruleset.statusChecks.length === 1
            ? `Required status check "${ruleset.statusChecks[0]}" is expected.`
            : `Required status checks ${ruleset.statusChecks.map(c => `"${c}"`).join(', ')} are expected.`
        ]
      : []),
    ...(ruleset.signatures ? ['Commits must have verified signatures.'] : []),
    ...(ruleset.restrictUpdates ? ['Cannot update this protected ref.'] : [])
  ]
}

function shellQuote(text: string): string {
  return `'${text.replaceAll("'", "'\\''")}'`
}
