// Cost of one flag evaluation, side by side in one run (microseconds per evaluation):
// - the phasegate OpenFeature provider through the real @openfeature/server-sdk;
// - the same SDK with its no-op provider: the floor any provider pays for the SDK itself;
// - phasegate's in-process SDK (Feature.isOn), and a bare Map lookup, for scale.
// Goal: the provider costs at most 2x the SDK's no-op floor. Also prints the combined datafile's
// size for 100 features. Run: npm run bench:openfeature
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { NOOP_PROVIDER, OpenFeature } from '@openfeature/server-sdk'
import { combineDatafiles, featureDatafile, renderDatafile } from '../lib/export/datafile.js'
import { PhasegateProvider } from '../lib/openfeature/index.js'
import { parsePolicyText } from '../lib/policy/load.js'
import { Feature } from '../lib/sdk/index.js'
import { readFileSync } from 'node:fs'

const EVALUATIONS = 200_000
const ROUNDS = 5
const seedText = readFileSync(
  new URL('../policies/production_deployment.yaml', import.meta.url),
  'utf8'
)
const policy = parsePolicyText(seedText, 'production_deployment.yaml')
const state = {
  feature: policy.feature,
  phase: 'limited_production',
  enteredAt: '2026-11-01T00:00:00Z',
  enabled: true,
  experiments: {}
}
const dir = mkdtempSync(join(tmpdir(), 'phasegate-bench-of-'))
const file = join(dir, 'datafile.json')
writeFileSync(file, renderDatafile(combineDatafiles([featureDatafile(policy, state)])))

await OpenFeature.setProviderAndWait(
  'phasegate',
  new PhasegateProvider({ source: file, pollIntervalMs: 0 })
)
await OpenFeature.setProviderAndWait('noop', NOOP_PROVIDER)
const phasegate = OpenFeature.getClient('phasegate')
const noop = OpenFeature.getClient('noop')
const feature = new Feature(policy, state)
const map = new Map([[policy.feature, true]])
const ids = Array.from({ length: EVALUATIONS }, (_, i) => `user-${i}`)
const contexts = ids.map(targetingKey => ({ targetingKey }))

let sink = 0
const contenders = {
  'SDK + no-op provider (floor)': async () => {
    for (const c of contexts) sink += (await noop.getBooleanValue(policy.feature, false, c)) ? 1 : 0
  },
  'SDK + phasegate provider': async () => {
    for (const c of contexts)
      sink += (await phasegate.getBooleanValue(policy.feature, false, c)) ? 1 : 0
  },
  'phasegate SDK Feature.isOn': async () => {
    for (const id of ids) sink += feature.isOn(id) ? 1 : 0
  },
  'bare Map lookup': async () => {
    for (const id of ids) sink += map.get(policy.feature) && id ? 1 : 0
  }
}

const best = Object.fromEntries(Object.keys(contenders).map(name => [name, Infinity]))
for (let round = 0; round < ROUNDS; round++) {
  for (const [name, run] of Object.entries(contenders)) {
    const start = process.hrtime.bigint()
    await run()
    const us = Number(process.hrtime.bigint() - start) / 1000 / EVALUATIONS
    best[name] = Math.min(best[name], us)
  }
}
const floor = best['SDK + no-op provider (floor)']
console.log(
  `evaluations per round: ${EVALUATIONS}, best of ${ROUNDS} interleaved rounds, Node ${process.version}`
)
for (const [name, us] of Object.entries(best))
  console.log(
    `${name.padEnd(30)} ${us.toFixed(3).padStart(8)} µs/eval   ${(us / floor).toFixed(2)}x floor`
  )
const ratio = best['SDK + phasegate provider'] / floor
console.log(`provider / no-op floor: ${ratio.toFixed(2)} (goal <= 2)`)

const hundred = combineDatafiles(
  Array.from({ length: 100 }, (_, i) =>
    featureDatafile(
      { ...policy, feature: `feature_${String(i).padStart(3, '0')}` },
      { ...state, feature: `feature_${i}` }
    )
  )
)
const text = renderDatafile(hundred)
console.log(
  `datafile for 100 features: ${(Buffer.byteLength(text) / 1024).toFixed(1)} KiB (${Buffer.byteLength(JSON.stringify(hundred))} bytes minified)`
)
await OpenFeature.close()
if (sink < 0) console.log(sink)
