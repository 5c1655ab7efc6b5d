#!/usr/bin/env node
import {execute} from '@oclif/core'

// dist/ holds the build with its command manifest (scripts/prepare-dist.ts): commands load on demand
await execute({dir: new URL('../dist/', import.meta.url).href})
