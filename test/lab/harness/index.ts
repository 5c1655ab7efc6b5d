// The lab harness: a real OpenClaw gateway, isolated, driven by a scripted fake model.
export * from './fake-model.js'
export * from './gateway.js'
export * from './paths.js'
export * from './transcripts.js'
export * from './run-ir.js'
