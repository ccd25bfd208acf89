import { defineConfig } from 'vitest/config'

// Benchmarks run through vitest only to load TypeScript (the emulator lives in test/support);
// they print measurements and ratios and assert nothing about time.
export default defineConfig({
  test: {
    include: ['bench/**/*.bench.ts'],
    testTimeout: 600_000,
    hookTimeout: 120_000,
    reporters: ['default'],
    disableConsoleIntercept: true
  }
})
