/** The detection engine's public API (`ir scan`, reused by `ir collect`). */
export {createScanner} from './scanner.js'
export type {Scanner, ScannerOptions} from './scanner.js'
export {loadRules, requireLoaded, shippedRulesDir} from './rules.js'
export type {CompiledRule, RuleSet} from './rules.js'
export {applyBaseline, failOnMet, loadBaseline, scanInput, scanPaths, zstdChunks} from './scan-paths.js'
export type {ScanPathsOptions} from './scan-paths.js'
export {discover} from './sources.js'
export type {Input, InputFormat} from './sources.js'
export {FORMATS, render} from './report.js'
export type {ReportFormat} from './report.js'
export {CATEGORIES, SEVERITIES, severityAtLeast} from './finding-types.js'
export type {
  Category,
  EventKind,
  Finding,
  FindingSource,
  ScanEvent,
  ScanResult,
  Severity,
  SkippedItem,
  SourceRef,
} from './finding-types.js'
