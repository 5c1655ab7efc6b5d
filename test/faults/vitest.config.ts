import path from 'node:path'
import {fileURLToPath} from 'node:url'

import {defineConfig} from 'vitest/config'

// `npm run test:faults`: the real commands as subprocesses under injected faults (kill -9 at named
// points, full and read-only filesystems, concurrent runs, other owners). Files end in .fault.ts so
// the unit project never picks them up.
export default defineConfig({
  root: path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..'),
  test: {
    name: 'faults',
    environment: 'node',
    include: ['test/faults/**/*.fault.ts'],
    setupFiles: ['test/setup.ts'],
    execArgv: ['--import', 'tsx'],
    env: {NODE_ENV: 'test'},
    testTimeout: 180_000,
  },
})
