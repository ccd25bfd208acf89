// The extract script that turns GitHub's OpenAPI description into the emulator's contract.

import { execFile } from 'node:child_process'
import { promisify } from 'node:util'
import { describe, expect, test } from 'vitest'
import { extractSubset, OPERATIONS } from '../../scripts/extract-openapi.mjs'

const execFileAsync = promisify(execFile)

/** A description with every operation the script extracts, each answering `schema`. */
function describing(schema: unknown, components: Record<string, unknown> = {}) {
  const document = JSON.parse(
    JSON.stringify({
      paths: {},
      components: { schemas: { 'basic-error': { type: 'object' }, ...components } }
    })
  )
  for (const [method, path] of OPERATIONS) {
    document.paths[path] ??= {}
    document.paths[path][method] = {
      operationId: `${method} ${path}`,
      responses: { '200': { content: { 'application/json': { schema } } } }
    }
  }
  return document
}

function responseSchema(subset: ReturnType<typeof extractSubset>): unknown {
  return subset.operations[0]!.responses['200']
}

describe('extracting the OpenAPI subset', () => {
  test('nullable typed schemas become type unions, enums gain null', () => {
    const subset = extractSubset(
      describing({
        type: 'object',
        properties: {
          merged_at: {
            type: 'string',
            format: 'date-time',
            nullable: true,
            example: '2011-01-26T19:01:12Z'
          },
          state: { type: 'string', enum: ['open', 'closed'], nullable: true }
        }
      })
    )
    expect(responseSchema(subset)).toEqual({
      type: 'object',
      properties: {
        merged_at: { type: ['string', 'null'], format: 'date-time' },
        state: { type: ['string', 'null'], enum: ['open', 'closed', null] }
      }
    })
  })

  test('nullable references become anyOf with null, and only referenced schemas are kept', () => {
    const subset = extractSubset(
      describing(
        {
          type: 'object',
          properties: {
            user: { allOf: [{ $ref: '#/components/schemas/simple-user' }], nullable: true }
          }
        },
        {
          'simple-user': {
            type: 'object',
            properties: { login: { type: 'string' } },
            'x-github': {}
          },
          unused: { type: 'object' }
        }
      )
    )
    expect(responseSchema(subset)).toEqual({
      type: 'object',
      properties: {
        user: {
          anyOf: [{ allOf: [{ $ref: 'github-subset#/$defs/simple-user' }] }, { type: 'null' }]
        }
      }
    })
    expect(Object.keys(subset.$defs).sort()).toEqual(['basic-error', 'simple-user'])
    expect(subset.$defs['simple-user']).toEqual({
      type: 'object',
      properties: { login: { type: 'string' } }
    })
  })

  test('an operation missing from the description is an error naming it', () => {
    const document = describing({ type: 'object' })
    delete document.paths['/users/{username}']
    expect(() => extractSubset(document)).toThrow('GET /users/{username} is not in the description')
  })

  test('the checked-in subset matches the installed @octokit/openapi', async () => {
    const { stdout } = await execFileAsync(process.execPath, [
      'scripts/extract-openapi.mjs',
      '--check'
    ])
    expect(stdout).toMatch(/is up to date with @octokit\/openapi@/)
  })
})
