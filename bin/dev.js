#!/usr/bin/env node
// Dev entry: runs commands/*.ts from source, no build step. tsx must load before @oclif/core,
// else oclif maps each command path twice and warns (rootDir is ".").
await import('tsx')
const {execute} = await import('@oclif/core')

await execute({development: true, dir: import.meta.url})
