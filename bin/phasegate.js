#!/usr/bin/env node
import module from 'node:module'

// Node 22.1+ keeps the compiled bundle in a cache (the OS temp dir) across runs: a command starts
// without compiling a megabyte of JavaScript again. Older Node has no such API and compiles anew.
module.enableCompileCache?.()
// lib/bundle/ is the CLI bundled by `npm run build` (scripts/bundle-cli.mjs).
const { main } = await import('../lib/bundle/cli.js')
process.exitCode = await main(process.argv.slice(2))
