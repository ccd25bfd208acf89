// Bundles the CLI (lib/cli.js, compiled by tsc) into lib/bundle/, which bin/phasegate.js loads:
// one file per command's own code plus shared chunks, instead of hundreds of files from lib/ and
// node_modules (zod alone is over 200). Resolving and reading those files was most of a no-op
// command's start-up. `npm run build` runs this after tsc.
import { build } from 'esbuild'
import { rmSync } from 'node:fs'
import { URL } from 'node:url'

const outdir = new URL('../lib/bundle/', import.meta.url).pathname
rmSync(outdir, { recursive: true, force: true })
await build({
  entryPoints: [new URL('../lib/cli.js', import.meta.url).pathname],
  outdir,
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  logLevel: 'warning',
  // CommonJS dependencies (yaml) call require() for Node's built-ins, which an ES module lacks.
  banner: {
    js: "import { createRequire as __phasegateRequire } from 'node:module'; const require = __phasegateRequire(import.meta.url);"
  }
})
