import { writeFileSync } from 'node:fs'
import { datafileJsonSchema } from '../export/datafile-schema.js'
import { policyJsonSchema } from './json-schema.js'

// `npm run schema` regenerates schema/*.schema.json; tests fail when either is stale.
writeFileSync(new URL('../../schema/policy.schema.json', import.meta.url), policyJsonSchema())
writeFileSync(new URL('../../schema/datafile.schema.json', import.meta.url), datafileJsonSchema())
