import { defineConfig } from 'vitest/config'

// Benchmarks run with `npm run bench`, never as part of `npm test`: they print ratios, assert none.
export default defineConfig({
  test: {
    include: ['bench/**/*.bench.ts'],
    testTimeout: 600_000,
    hookTimeout: 120_000
  }
})
