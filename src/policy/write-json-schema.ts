import { writeFileSync } from 'node:fs'
import { policyJsonSchema } from './json-schema.js'

// `npm run schema` regenerates schema/policy.schema.json; a test fails when it is stale.
writeFileSync(new URL('../../schema/policy.schema.json', import.meta.url), policyJsonSchema())
