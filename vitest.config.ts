import {defineConfig} from 'vitest/config'

const shared = {
  environment: 'node' as const,
  env: {NODE_ENV: 'test'}, // oclif maps dist -> source only in test/dev
  disableConsoleIntercept: true, // else runCommand's stdout/stderr are always '' (oclif/test#655)
  execArgv: ['--import', 'tsx'], // tsx hooks in workers: no double path-mapping warning
  setupFiles: ['test/setup.ts'],
}

export default defineConfig({
  test: {
    projects: [
      {test: {...shared, name: 'unit', include: ['test/**/*.test.ts'], exclude: ['test/lab/**'], testTimeout: 30_000}},
      // The lab drives a real OpenClaw gateway: one file at a time, generous timeouts.
      {
        test: {
          ...shared,
          name: 'lab',
          include: ['test/lab/**/*.test.ts'],
          testTimeout: 180_000,
          hookTimeout: 240_000,
          fileParallelism: false,
        },
      },
    ],
  },
})
