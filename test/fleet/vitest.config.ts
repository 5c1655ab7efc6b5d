import {defineConfig} from 'vitest/config'

// `npm run test:fleet`: real Ansible against throwaway sshd hosts on loopback (needs root; see
// test/fleet/fleet.spec.ts). Not part of `npm test`: its files end in .spec.ts, outside the unit glob.
export default defineConfig({
  test: {
    name: 'fleet',
    root: new URL('../..', import.meta.url).pathname,
    include: ['test/fleet/**/*.spec.ts'],
    environment: 'node',
    execArgv: ['--import', 'tsx'],
    disableConsoleIntercept: true,
    fileParallelism: false,
    testTimeout: 600_000,
    hookTimeout: 300_000,
  },
})
