// Extracts the GitHub REST operations the test emulator serves from @octokit/openapi's
// description of api.github.com into test/support/openapi/github-subset.json, so tests validate
// against GitHub's published contract without loading the 13 MB description.
//
// The output is ready for ajv (JSON Schema draft-07): component schemas live under `$defs` of a
// schema whose $id is SUBSET_ID, every $ref points there, OpenAPI 3.0's `nullable` is turned into
// type unions, and OpenAPI-only annotations (`example`, `x-*`, ...) are dropped.
//
// Usage: node scripts/extract-openapi.mjs           rewrite the subset (after upgrading @octokit/openapi)
//        node scripts/extract-openapi.mjs --check   exit 1 when the checked-in subset is out of date

import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

export const SUBSET_ID = 'github-subset'

/** method + OpenAPI path of every operation the emulator serves. */
export const OPERATIONS = [
  ['get', '/repos/{owner}/{repo}'],
  ['get', '/repos/{owner}/{repo}/pulls'],
  ['post', '/repos/{owner}/{repo}/pulls'],
  ['get', '/repos/{owner}/{repo}/pulls/{pull_number}'],
  ['patch', '/repos/{owner}/{repo}/pulls/{pull_number}'],
  ['put', '/repos/{owner}/{repo}/pulls/{pull_number}/merge'],
  ['get', '/repos/{owner}/{repo}/pulls/{pull_number}/files'],
  ['post', '/repos/{owner}/{repo}/pulls/{pull_number}/requested_reviewers'],
  ['get', '/repos/{owner}/{repo}/pulls/{pull_number}/reviews'],
  ['post', '/repos/{owner}/{repo}/pulls/{pull_number}/reviews'],
  ['get', '/repos/{owner}/{repo}/issues'],
  ['post', '/repos/{owner}/{repo}/issues'],
  ['get', '/repos/{owner}/{repo}/issues/{issue_number}'],
  ['patch', '/repos/{owner}/{repo}/issues/{issue_number}'],
  ['get', '/repos/{owner}/{repo}/issues/{issue_number}/comments'],
  ['post', '/repos/{owner}/{repo}/issues/{issue_number}/comments'],
  ['post', '/repos/{owner}/{repo}/issues/{issue_number}/labels'],
  ['post', '/repos/{owner}/{repo}/statuses/{sha}'],
  ['get', '/repos/{owner}/{repo}/commits/{ref}/status'],
  ['get', '/repos/{owner}/{repo}/commits/{ref}/statuses'],
  ['get', '/repos/{owner}/{repo}/commits/{ref}/check-runs'],
  ['post', '/repos/{owner}/{repo}/check-runs'],
  ['get', '/repos/{owner}/{repo}/actions/runs'],
  ['post', '/repos/{owner}/{repo}/git/blobs'],
  ['post', '/repos/{owner}/{repo}/git/trees'],
  ['post', '/repos/{owner}/{repo}/git/commits'],
  ['get', '/repos/{owner}/{repo}/git/ref/{ref}'],
  ['post', '/repos/{owner}/{repo}/git/refs'],
  ['patch', '/repos/{owner}/{repo}/git/refs/{ref}'],
  ['delete', '/repos/{owner}/{repo}/git/refs/{ref}'],
  ['get', '/orgs/{org}/teams/{team_slug}/memberships/{username}'],
  ['get', '/users/{username}'],
  ['get', '/repos/{owner}/{repo}/collaborators/{username}/permission'],
  ['post', '/repos/{owner}/{repo}/deployments'],
  ['get', '/repos/{owner}/{repo}/deployments'],
  ['post', '/repos/{owner}/{repo}/deployments/{deployment_id}/statuses'],
  ['get', '/repos/{owner}/{repo}/deployments/{deployment_id}/statuses']
]

/** Keywords OpenAPI allows in schemas that JSON Schema draft-07 (and ajv's strict mode) do not. */
const DROPPED_KEYWORDS = new Set(['example', 'discriminator', 'xml', 'externalDocs', 'nullable'])

function resolveLocal(document, ref) {
  if (!ref.startsWith('#/')) throw new Error(`only local $refs are supported, got ${ref}`)
  return ref
    .slice(2)
    .split('/')
    .reduce((node, key) => node[key.replaceAll('~1', '/').replaceAll('~0', '~')], document)
}

/** Follows $refs to parameters, request bodies and responses (not schemas). */
function deref(document, node) {
  return node && node.$ref ? deref(document, resolveLocal(document, node.$ref)) : node
}

function convertSchema(schema, usedSchemas) {
  if (Array.isArray(schema)) return schema.map(item => convertSchema(item, usedSchemas))
  if (schema === null || typeof schema !== 'object') return schema
  const out = {}
  for (const [key, value] of Object.entries(schema)) {
    if (DROPPED_KEYWORDS.has(key) || key.startsWith('x-')) continue
    if (key === '$ref') {
      const name = value.replace('#/components/schemas/', '')
      usedSchemas.add(name)
      out.$ref = `${SUBSET_ID}#/$defs/${name}`
    } else if (key === 'properties') {
      out.properties = Object.fromEntries(
        Object.entries(value).map(([prop, sub]) => [prop, convertSchema(sub, usedSchemas)])
      )
    } else if (key === 'enum' || key === 'default' || key === 'required') {
      out[key] = value
    } else {
      out[key] = convertSchema(value, usedSchemas)
    }
  }
  if (schema.nullable !== true) return out
  if (typeof out.type === 'string' && out.$ref === undefined) {
    out.type = [out.type, 'null']
    if (Array.isArray(out.enum) && !out.enum.includes(null)) out.enum = [...out.enum, null]
    return out
  }
  return { anyOf: [out, { type: 'null' }] }
}

function jsonSchemaOf(content) {
  const media = content?.['application/json'] ?? Object.values(content ?? {})[0]
  return media?.schema
}

export function extractSubset(document) {
  const usedSchemas = new Set()
  const operations = OPERATIONS.map(([method, path]) => {
    const pathItem = document.paths[path]
    const operation = pathItem?.[method]
    if (!operation) throw new Error(`${method.toUpperCase()} ${path} is not in the description`)
    const parameters = [...(pathItem.parameters ?? []), ...(operation.parameters ?? [])]
      .map(parameter => deref(document, parameter))
      .filter(parameter => parameter.in === 'path' || parameter.in === 'query')
      .map(parameter => ({
        name: parameter.name,
        in: parameter.in,
        required: parameter.required === true,
        schema: convertSchema(parameter.schema ?? {}, usedSchemas)
      }))
    const body = deref(document, operation.requestBody)
    const requestSchema = jsonSchemaOf(body?.content)
    const responses = Object.fromEntries(
      Object.entries(operation.responses).map(([status, response]) => {
        const schema = jsonSchemaOf(deref(document, response).content)
        return [status, schema ? convertSchema(schema, usedSchemas) : null]
      })
    )
    return {
      operationId: operation.operationId,
      method: method.toUpperCase(),
      path,
      parameters,
      requestBody: requestSchema
        ? { required: body.required === true, schema: convertSchema(requestSchema, usedSchemas) }
        : null,
      responses
    }
  })
  // Errors the emulator can answer with on any operation (401, injected faults) use this shape.
  usedSchemas.add('basic-error')

  const defs = {}
  const pending = [...usedSchemas]
  while (pending.length > 0) {
    const name = pending.pop()
    if (defs[name]) continue
    const found = new Set()
    defs[name] = convertSchema(document.components.schemas[name], found)
    for (const next of found) if (!defs[next]) pending.push(next)
  }
  const sortedDefs = Object.fromEntries(Object.entries(defs).sort(([a], [b]) => a.localeCompare(b)))
  return { $id: SUBSET_ID, $defs: sortedDefs, operations }
}

function main() {
  const require = createRequire(import.meta.url)
  const packageJson = require.resolve('@octokit/openapi/package.json')
  const { version } = JSON.parse(readFileSync(packageJson, 'utf8'))
  const source = join(dirname(packageJson), 'generated', 'api.github.com.json')
  const subset = extractSubset(JSON.parse(readFileSync(source, 'utf8')))
  const root = join(dirname(fileURLToPath(import.meta.url)), '..')
  const target = join(root, 'test', 'support', 'openapi', 'github-subset.json')
  const withSource = {
    source: `@octokit/openapi@${version} generated/api.github.com.json`,
    ...subset
  }
  const text = JSON.stringify(withSource, null, 1) + '\n'
  if (process.argv.includes('--check')) {
    const current = existsSync(target) ? readFileSync(target, 'utf8') : ''
    if (current !== text) {
      console.error(`${target} is out of date: run node scripts/extract-openapi.mjs and commit it`)
      process.exit(1)
    }
    console.log(`${target} is up to date with @octokit/openapi@${version}`)
    return
  }
  mkdirSync(dirname(target), { recursive: true })
  writeFileSync(target, text)
  console.log(
    `wrote ${target}: ${subset.operations.length} operations, ${Object.keys(subset.$defs).length} schemas`
  )
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) main()
