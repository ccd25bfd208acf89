import * as z from 'zod'
import { policySchema } from './schema.js'

/** The JSON Schema editors use to check policy files, as the text committed in schema/. */
export function policyJsonSchema(): string {
  const schema = z.toJSONSchema(policySchema, {
    io: 'input',
    unrepresentable: 'any',
    // A duration takes a number only to refuse it with a hint; where its metadata says it is
    // text of a pattern, the union of the two input types has nothing left to say.
    override: ({ jsonSchema }) => {
      if (jsonSchema.pattern !== undefined && jsonSchema.type === 'string') delete jsonSchema.anyOf
    }
  })
  return JSON.stringify(schema, null, 2) + '\n'
}
