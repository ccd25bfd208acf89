import * as z from 'zod'
import { policySchema } from './schema.js'

/** The JSON Schema editors use to check policy files, as the text committed in schema/. */
export function policyJsonSchema(): string {
  const schema = z.toJSONSchema(policySchema, { io: 'input', unrepresentable: 'any' })
  return JSON.stringify(schema, null, 2) + '\n'
}
