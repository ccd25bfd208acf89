// Analysis of a generated 10-million-row results file against a bare Node line counter over the
// same file, as a ratio of throughputs (goal: at least 0.5), with the analysis's peak memory
// (goal: under 150 MB), measured in a child process so file generation does not count.
// Run: npm run bench:analysis [-- ROWS]
import { execFileSync } from 'node:child_process'
import { createReadStream, createWriteStream, existsSync, statSync } from 'node:fs'
import { once } from 'node:events'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import { analyzeExperiment } from '../lib/experiments/analysis.js'
import { readResults } from '../lib/experiments/results.js'

const experiment = {
  name: 'dspy_vs_traditional',
  enabled: true,
  groups: [
    { name: 'control', weight: 50, configuration: {} },
    { name: 'treatment', weight: 50, configuration: {} }
  ],
  successMetrics: ['accuracy', 'response_time', 'cost_per_request', 'user_satisfaction'],
  durationMs: null,
  minimumSampleSize: 1000,
  seed: 'dspy_vs_traditional',
  hashVersion: 2
}

async function analyse(path) {
  const data = await readResults(path, {
    groups: experiment.groups.map(g => g.name),
    metrics: experiment.successMetrics
  })
  return analyzeExperiment(experiment, data)
}

if (process.argv[2] === '--child') {
  const analysis = await analyse(process.argv[3])
  const maxRssMb = process.resourceUsage().maxRSS / 1024
  console.log(JSON.stringify({ maxRssMb, verdict: analysis.verdict }))
  process.exit(0)
}

const rows = Number(process.argv[2] ?? 10_000_000)
const file = join(tmpdir(), `phasegate-bench-results-${rows}.csv`)

async function generate() {
  const out = createWriteStream(file)
  out.write('user_id,group,accuracy,response_time,cost_per_request,user_satisfaction\n')
  let state = 12345
  const random = () => (state = (Math.imul(state, 1103515245) + 12345) >>> 0) / 4294967296
  for (let i = 0; i < rows;) {
    let chunk = ''
    for (const end = Math.min(rows, i + 50_000); i < end; i++) {
      const treatment = random() < 0.5
      chunk +=
        `u${i},${treatment ? 'treatment' : 'control'},${random() < (treatment ? 0.86 : 0.85) ? 1 : 0},` +
        `${Math.round(400 + random() * 800)},${(0.015 + random() * 0.01).toFixed(5)},${random() < 0.95 ? 1 : 0}\n`
    }
    if (!out.write(chunk)) await once(out, 'drain')
  }
  out.end()
  await once(out, 'finish')
}

async function countLines() {
  let lines = 0
  const counter = createInterface({ input: createReadStream(file), crlfDelay: Infinity })
  counter.on('line', () => lines++)
  await once(counter, 'close')
  return lines
}

async function scanNewlines() {
  let lines = 0
  for await (const chunk of createReadStream(file, { highWaterMark: 1 << 20 })) {
    for (let i = chunk.indexOf(10); i !== -1; i = chunk.indexOf(10, i + 1)) lines++
  }
  return lines
}

async function timed(run) {
  const start = process.hrtime.bigint()
  await run()
  return Number(process.hrtime.bigint() - start) / 1e9
}

if (!existsSync(file)) {
  console.log(`generating ${rows.toLocaleString('en')} rows into ${file} ...`)
  await generate()
}
const size = statSync(file).size
console.log(
  `results file: ${rows.toLocaleString('en')} rows, ${(size / 1e6).toFixed(0)} MB (node ${process.version})`
)

const self = fileURLToPath(import.meta.url)
// Warm the page cache so the first contender is not the only one reading from disk.
await scanNewlines()
// Interleaved rounds in this process, best of each, so all contenders are equally warm and a
// noisy neighbour hurts them alike.
const runs = { readline: [], scan: [], analysis: [] }
for (let round = 0; round < 3; round++) {
  runs.readline.push(await timed(countLines))
  runs.scan.push(await timed(scanNewlines))
  runs.analysis.push(await timed(() => analyse(file)))
}
// Peak memory needs a process of its own: this one also generated the file.
const { maxRssMb: peak } = JSON.parse(
  execFileSync(process.execPath, [self, '--child', file], { encoding: 'utf8' })
)
const best = Object.fromEntries(Object.entries(runs).map(([k, v]) => [k, Math.min(...v)]))
const perSecond = seconds => `${Math.round(rows / seconds / 1000).toLocaleString('en')}k rows/s`
console.log(
  `  line counter (readline)       ${best.readline.toFixed(2)} s  ${perSecond(best.readline)}`
)
console.log(`  newline scan (Buffer.indexOf) ${best.scan.toFixed(2)} s  ${perSecond(best.scan)}`)
console.log(
  `  phasegate analysis            ${best.analysis.toFixed(2)} s  ${perSecond(best.analysis)}`
)
const ratio = best.readline / best.analysis
console.log(
  `analysis / readline line counter throughput: ${ratio.toFixed(2)} (goal >= 0.5) ${ratio >= 0.5 ? 'MET' : 'NOT MET'}`
)
console.log(
  `analysis / raw newline scan throughput: ${(best.scan / best.analysis).toFixed(2)} (for information)`
)
console.log(
  `analysis peak memory (max RSS): ${peak.toFixed(0)} MB (goal < 150 MB) ${peak < 150 ? 'MET' : 'NOT MET'}`
)
