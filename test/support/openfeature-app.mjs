// A stand-in application: the real OpenFeature SDK with phasegate's provider polling a datafile
// URL. Prints one JSON line per state it serves: {"event": "ready" | "changed", "on": [...]}, the
// boolean flag for every id in IDS_FILE, so the test can compare it with `assign` and the SDK.
import { readFileSync } from 'node:fs'
import { OpenFeature, ProviderEvents } from '@openfeature/server-sdk'
import { PhasegateProvider } from '../../lib/openfeature/index.js'

const [url, flag, idsFile, pollMs] = process.argv.slice(2)
const ids = JSON.parse(readFileSync(idsFile, 'utf8'))
const provider = new PhasegateProvider({ source: url, pollIntervalMs: Number(pollMs) })
await OpenFeature.setProviderAndWait(provider)
const client = OpenFeature.getClient()

async function report(event) {
  const on = []
  for (const id of ids) on.push(await client.getBooleanValue(flag, false, { targetingKey: id }))
  process.stdout.write(`${JSON.stringify({ event, on })}\n`)
}
client.addHandler(ProviderEvents.ConfigurationChanged, () => void report('changed'))
await report('ready')
process.stdin.on('end', () => void OpenFeature.close().then(() => process.exit(0)))
process.stdin.resume()
