#!/usr/bin/env node
// Node 22.1+ keeps the compiled bundle in a compile cache, in a directory of this user's alone
// (lib/cli/compile-cache.js says why not the shared temp dir): a command starts without compiling
// a megabyte of JavaScript again. Older Node has no such API and compiles anew.
import { enableCompileCache } from '../lib/cli/compile-cache.js'

enableCompileCache()
// lib/bundle/ is the CLI bundled by `npm run build` (scripts/bundle-cli.mjs).
const { main } = await import('../lib/bundle/cli.js')
process.exitCode = await main(process.argv.slice(2))
