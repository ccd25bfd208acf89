import { spawn, spawnSync, type ChildProcess } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

// A real Prometheus server for tests: promtool turns an OpenMetrics file into TSDB blocks, and
// prometheus serves them on a free 127.0.0.1 port with no scrape targets, so the data never
// changes and queries at fixed evaluation times give fixed answers.

export interface PrometheusServer {
  url: string
  /** Stops the server and waits for it to exit (the data directory stays until `remove`). */
  stop(): Promise<void>
  /** Stops the server if running and deletes its data. */
  remove(): Promise<void>
}

const INSTALL_HINT =
  "install it with `apt-get install -y prometheus` (Debian's package also brings promtool)"

function requireTool(tool: string) {
  const found = spawnSync(tool, ['--version'], { encoding: 'utf8' })
  if (found.error) throw new Error(`${tool} is not installed or not on PATH: ${INSTALL_HINT}`)
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const address = server.address()
      server.close(() =>
        typeof address === 'object' && address
          ? resolve(address.port)
          : reject(new Error('no port'))
      )
    })
  })
}

export async function startPrometheus(openMetrics: string): Promise<PrometheusServer> {
  requireTool('promtool')
  requireTool('prometheus')
  const dir = mkdtempSync(join(tmpdir(), 'phasegate-prometheus-'))
  const input = join(dir, 'scenario.om')
  const data = join(dir, 'data')
  writeFileSync(input, openMetrics)
  const blocks = spawnSync('promtool', ['tsdb', 'create-blocks-from', 'openmetrics', input, data], {
    encoding: 'utf8'
  })
  if (blocks.status !== 0)
    throw new Error(`promtool could not create blocks: ${blocks.stderr || blocks.stdout}`)
  const config = join(dir, 'prometheus.yml')
  writeFileSync(config, 'global:\n  scrape_interval: 1h\nscrape_configs: []\n')
  const port = await freePort()
  const url = `http://127.0.0.1:${port}`
  let stderr = ''
  const child: ChildProcess = spawn(
    'prometheus',
    [
      `--config.file=${config}`,
      `--storage.tsdb.path=${data}`,
      // The blocks are old; a long retention keeps Prometheus from deleting them.
      '--storage.tsdb.retention.time=100y',
      `--web.listen-address=127.0.0.1:${port}`,
      '--log.level=warn'
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] }
  )
  child.stderr!.on('data', chunk => (stderr += String(chunk)))
  const exited = new Promise<void>(resolve => child.once('exit', () => resolve()))
  let running = true
  void exited.then(() => (running = false))

  const deadline = Date.now() + 60_000
  for (;;) {
    if (!running) throw new Error(`prometheus exited before it was ready:\n${stderr}`)
    try {
      const ready = await fetch(`${url}/-/ready`)
      if (ready.ok) break
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      child.kill('SIGKILL')
      throw new Error(`prometheus was not ready within 60 s:\n${stderr}`)
    }
    await new Promise(resolve => setTimeout(resolve, 100))
  }

  const stop = async () => {
    if (running) child.kill('SIGTERM')
    await exited
  }
  return {
    url,
    stop,
    remove: async () => {
      await stop()
      rmSync(dir, { recursive: true, force: true })
    }
  }
}
