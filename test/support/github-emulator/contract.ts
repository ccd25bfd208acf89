// GitHub's published contract for the operations the emulator serves: routes requests to an
// operation and validates path parameters, query parameters, request bodies and response bodies
// against test/support/openapi/github-subset.json (extracted by scripts/extract-openapi.mjs).

import { readFileSync } from 'node:fs'
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv'
import addFormats from 'ajv-formats'

interface SubsetParameter {
  name: string
  in: 'path' | 'query'
  required: boolean
  schema: object
}

interface SubsetOperation {
  operationId: string
  method: string
  path: string
  parameters: SubsetParameter[]
  requestBody: { required: boolean; schema: object } | null
  responses: Record<string, object | null>
}

interface Subset {
  $id: string
  $defs: Record<string, object>
  operations: SubsetOperation[]
}

export interface Operation {
  operationId: string
  method: string
  path: string
  validateParams(params: Record<string, string>, query: Record<string, string>): string[]
  validateBody(body: unknown): string[]
  validateResponse(status: number, body: unknown): string[]
}

export interface MatchedOperation {
  operation: Operation
  params: Record<string, string>
}

const subsetUrl = new URL('../openapi/github-subset.json', import.meta.url)

function describe(errors: ErrorObject[] | null | undefined, where: string): string[] {
  return (errors ?? []).map(
    error =>
      `${where}${error.instancePath || ''} ${error.message ?? 'is invalid'}` +
      (error.params && Object.keys(error.params).length > 0
        ? ` ${JSON.stringify(error.params)}`
        : '')
  )
}

function compileOperation(
  ajv: Ajv,
  coercing: Ajv,
  spec: SubsetOperation,
  basicError: ValidateFunction
): Operation {
  const paramsSchema = {
    type: 'object',
    properties: Object.fromEntries(
      spec.parameters.filter(p => p.in === 'path').map(p => [p.name, p.schema])
    ),
    required: spec.parameters.filter(p => p.in === 'path' && p.required).map(p => p.name)
  }
  const querySchema = {
    type: 'object',
    properties: Object.fromEntries(
      spec.parameters.filter(p => p.in === 'query').map(p => [p.name, p.schema])
    ),
    required: spec.parameters.filter(p => p.in === 'query' && p.required).map(p => p.name)
  }
  const validatePath = coercing.compile(paramsSchema)
  const validateQuery = coercing.compile(querySchema)
  const validateRequest = spec.requestBody ? ajv.compile(spec.requestBody.schema) : undefined
  const responseValidators = new Map<string, ValidateFunction | null>(
    Object.entries(spec.responses).map(([status, schema]) => [
      status,
      schema ? ajv.compile(schema) : null
    ])
  )
  const knownQuery = new Set(spec.parameters.filter(p => p.in === 'query').map(p => p.name))

  return {
    operationId: spec.operationId,
    method: spec.method,
    path: spec.path,
    validateParams(params, query) {
      const problems: string[] = []
      // Coercion rewrites its input; validate copies so handlers see what the client sent.
      if (!validatePath({ ...params })) problems.push(...describe(validatePath.errors, 'path'))
      if (!validateQuery({ ...query })) problems.push(...describe(validateQuery.errors, 'query'))
      for (const name of Object.keys(query)) {
        if (!knownQuery.has(name)) problems.push(`query parameter "${name}" is not in the contract`)
      }
      return problems
    },
    validateBody(body) {
      if (!validateRequest) return body === undefined ? [] : ['the operation takes no request body']
      if (body === undefined) return spec.requestBody?.required ? ['request body is required'] : []
      return validateRequest(body) ? [] : describe(validateRequest.errors, 'body')
    },
    validateResponse(status, body) {
      const documented = responseValidators.get(String(status))
      if (documented === undefined) {
        // Statuses the description leaves out (401, injected faults) still use GitHub's error shape.
        if (status < 400) return [`status ${status} is not a documented response`]
        return basicError(body) ? [] : describe(basicError.errors, `response ${status}`)
      }
      if (documented === null) {
        // Documented without content, yet GitHub still sends its error shape on errors.
        if (body === undefined || (status >= 400 && basicError(body))) return []
        return [`response ${status} must have no body`]
      }
      return documented(body) ? [] : describe(documented.errors, `response ${status}`)
    }
  }
}

/** Loads the checked-in subset once per process and compiles every operation. */
export function loadContract(): {
  match(method: string, pathname: string): MatchedOperation | undefined
} {
  const subset = JSON.parse(readFileSync(subsetUrl, 'utf8')) as Subset
  const options = { allErrors: true, strict: true, strictRequired: false, strictTypes: false }
  const ajv = new Ajv(options)
  const coercing = new Ajv({ ...options, coerceTypes: 'array' as const })
  for (const instance of [ajv, coercing]) {
    addFormats.default(instance)
    // GitHub's own format: a repository's "name with owner".
    instance.addFormat('repo.nwo', /^[\w.-]+\/[\w.-]+$/)
    instance.addSchema({ $id: subset.$id, $defs: subset.$defs })
  }
  const basicError = ajv.compile({ $ref: `${subset.$id}#/$defs/basic-error` })
  const routes = subset.operations.map(spec => {
    const names: string[] = []
    // `ref` may hold slashes ("heads/feature/x") whether or not the client encoded them.
    const pattern = spec.path.replace(/\{(\w+)\}/g, (_, name: string) => {
      names.push(name)
      return name === 'ref' ? '(.+?)' : '([^/]+)'
    })
    let operation: Operation | undefined
    return {
      method: spec.method,
      regex: new RegExp(`^${pattern}$`),
      names,
      // Compiling all schemas up front takes seconds; a test uses a handful of operations.
      operation: () => (operation ??= compileOperation(ajv, coercing, spec, basicError))
    }
  })
  return {
    match(method, pathname) {
      for (const route of routes) {
        if (route.method !== method) continue
        const found = route.regex.exec(pathname)
        if (!found) continue
        const params = Object.fromEntries(
          route.names.map((name, index) => [name, decodeURIComponent(found[index + 1] ?? '')])
        )
        return { operation: route.operation(), params }
      }
      return undefined
    }
  }
}
