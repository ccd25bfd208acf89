import {
  createServer,
  request as forward,
  type IncomingMessage,
  type ServerResponse
} from 'node:http'
import type { AddressInfo } from 'node:net'

// Small HTTP servers on 127.0.0.1 for provider tests: a scripted JSON server and a proxy in front
// of a real server that can pull the plug part-way through a run.

export interface TestServer {
  url: string
  /** Requests received so far: method, path with query, body. */
  received: Array<{
    method: string
    url: string
    body: string
    headers: IncomingMessage['headers']
  }>
  close(): Promise<void>
  /** Refuses new connections from now on; open ones live until they end. */
  stopListening(): void
}

export type Handler = (
  request: { method: string; url: URL; body: string; headers: IncomingMessage['headers'] },
  response: ServerResponse
) => void | Promise<void>

export async function startServer(handler: Handler): Promise<TestServer> {
  const received: TestServer['received'] = []
  const server = createServer((req, res) => {
    let body = ''
    req.on('data', chunk => (body += String(chunk)))
    req.on('end', () => {
      received.push({ method: req.method!, url: req.url!, body, headers: req.headers })
      const url = new URL(req.url!, 'http://127.0.0.1')
      void Promise.resolve(
        handler({ method: req.method!, url, body, headers: req.headers }, res)
      ).catch(error => {
        res.statusCode = 599
        res.end(String(error))
      })
    })
  })
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  return {
    url: `http://127.0.0.1:${port}`,
    received,
    close: () =>
      new Promise<void>(resolve => {
        server.closeAllConnections()
        if (server.listening) server.close(() => resolve())
        else resolve()
      }),
    stopListening: () => {
      server.close()
    }
  }
}

export function sendJson(response: ServerResponse, status: number, body: unknown) {
  response.writeHead(status, { 'Content-Type': 'application/json' })
  response.end(typeof body === 'string' ? body : JSON.stringify(body))
}

/**
 * Forwards to `target`; on the `answers`-th response, first calls `pullPlug` (which stops the real
 * server) and stops listening, then answers with `Connection: close`, so every later attempt finds
 * nothing at the address.
 */
export async function startCutoffProxy(
  target: string,
  answers: number,
  pullPlug: () => Promise<void>
): Promise<TestServer> {
  let forwarded = 0
  const proxy: TestServer = await startServer(async ({ method, url, body, headers }, response) => {
    const upstream = await new Promise<IncomingMessage>((resolve, reject) => {
      const out = forward(new URL(url.pathname + url.search, target), { method, headers }, resolve)
      out.on('error', reject)
      out.end(body)
    })
    const chunks: Buffer[] = []
    for await (const chunk of upstream) chunks.push(chunk as Buffer)
    forwarded++
    const last = forwarded === answers
    if (last) {
      await pullPlug()
      proxy.stopListening()
    }
    response.writeHead(upstream.statusCode ?? 502, {
      ...upstream.headers,
      ...(last ? { connection: 'close' } : {})
    })
    response.end(Buffer.concat(chunks))
  })
  return proxy
}
