/**
 * Layers run one way (ARCHITECTURE.md): commands -> src/<use case> -> playbook / actions ->
 * openclaw, case, evidence, detect, system. Checked by `npm run lint:deps`, part of `npm test`.
 */
const LOW = '^src/(openclaw|case|evidence|detect|system)/'
module.exports = {
  forbidden: [
    {name: 'no-circular', severity: 'error', from: {}, to: {circular: true}},
    {
      name: 'src-never-imports-commands',
      severity: 'error',
      from: {path: '^src/'},
      to: {path: '^commands/'},
    },
    {
      name: 'only-cli-knows-oclif',
      severity: 'error',
      from: {path: '^src/', pathNot: '^src/cli/'},
      to: {path: '@oclif/'},
    },
    {
      name: 'lower-layers-never-import-upper',
      comment: 'openclaw, case, evidence, detect and system know nothing of playbooks, actions, use cases or the CLI',
      severity: 'error',
      from: {path: LOW},
      to: {path: '^src/(playbook|actions|cli|use-cases)/'},
    },
    {
      name: 'lower-layers-never-import-use-cases',
      comment: 'the use cases (src/<command>.ts) sit above playbook, actions and the domain folders',
      severity: 'error',
      from: {path: '^src/(openclaw|case|evidence|detect|system|playbook|actions)/'},
      to: {path: '^src/[^/]+[.]ts$', pathNot: '^src/errors[.]ts$'},
    },
    {
      name: 'playbook-engine-never-imports-actions',
      comment: 'the engine gets its action registry as an argument',
      severity: 'error',
      from: {path: '^src/playbook/'},
      to: {path: '^src/actions/'},
    },
    {
      name: 'case-and-detect-know-nothing-of-openclaw',
      severity: 'error',
      from: {path: '^src/(case|detect)/'},
      to: {path: '^src/openclaw/'},
    },
    {
      name: 'system-is-the-bottom',
      severity: 'error',
      from: {path: '^src/system/'},
      to: {path: '^src/(openclaw|case|evidence|detect)/'},
    },
  ],
  options: {
    doNotFollow: {path: 'node_modules'},
    tsPreCompilationDeps: true,
    tsConfig: {fileName: 'tsconfig.json'},
    exclude: {path: '^(dist|node_modules|test|bench|scripts)/'},
  },
}
