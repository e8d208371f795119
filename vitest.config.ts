import { defineConfig } from 'vitest/config';

// Unit tests (test/unit, one file per src module, each run against native and js) and integration
// tests (test/integration: the demo over stdio, the loader). Forks, not threads: each test file gets
// its own process, so the loader's once-per-process warning and env switches stay per file.
export default defineConfig({
  test: {
    include: ['test/unit/**/*.test.ts', 'test/integration/**/*.test.ts'],
    pool: 'forks',
    testTimeout: 30_000,
    hookTimeout: 30_000,
    teardownTimeout: 10_000,
    reporters: ['default'],
  },
});
