/**
 * The layering rules of ../shared/DESIGN.md, checked in CI (`npm run lint:deps`): a wrong arrow fails the build.
 * Violations that predate a rule are recorded in .dependency-cruiser-known-violations.json (depcruise-baseline) and
 * may only shrink: any new one fails.
 */
const MODULES = '^src/(domain|engine|scoring|core|monitor|cases|compliance)/';
module.exports = {
  forbidden: [
    {
      name: 'no-cycles',
      severity: 'error',
      comment: 'No import cycles, inside a folder or across folders.',
      from: { path: '^src/' },
      to: { circular: true },
    },
    {
      name: 'domain-imports-nothing-of-ours',
      severity: 'error',
      comment: 'src/domain is pure: types and rules, no I/O, no other folder of ours.',
      from: { path: '^src/domain/' },
      to: { path: '^src/', pathNot: '^src/domain/' },
    },
    {
      name: 'nothing-imports-the-edges',
      severity: 'error',
      comment:
        'api, cli and app sit on top: only those above them import them (app wires api; cli starts app).',
      from: { path: '^src/', pathNot: '^src/(api|cli|app)/' },
      to: { path: '^src/(api|cli|app)/' },
    },
    {
      name: 'api-does-not-import-cli-or-app',
      severity: 'error',
      from: { path: '^src/api/' },
      to: { path: '^src/(cli|app)/' },
    },
    {
      name: 'modules-do-not-import-adapters',
      severity: 'error',
      comment:
        'The modules declare the ports they need; the adapters (store, bus) implement them and app wires them.',
      from: { path: MODULES },
      to: { path: '^src/(store|bus)/', pathNot: '^src/store/core-tables\\.ts$' },
    },
    {
      name: 'row-types-come-from-the-schema',
      severity: 'error',
      comment:
        "The one exception to the rule above: src/core/repo.ts takes the core's row types from the schema (core-tables.ts), types only, so ports and tables cannot drift apart.",
      from: { path: MODULES, pathNot: '^src/core/repo\\.ts$' },
      to: { path: '^src/store/core-tables\\.ts$' },
    },
    {
      name: 'schema-imports-are-types-only',
      severity: 'error',
      from: { path: '^src/core/repo\\.ts$' },
      to: { path: '^src/store/core-tables\\.ts$', dependencyTypesNot: ['type-only'] },
    },
    {
      name: 'only-store-touches-the-database',
      severity: 'error',
      comment: 'Kysely, pg and better-sqlite3 are imported only under src/store/.',
      from: { path: '^src/', pathNot: '^src/store/' },
      to: { path: 'node_modules/(kysely|pg|better-sqlite3)/' },
    },
    {
      name: 'only-bus-touches-nats',
      severity: 'error',
      from: { path: '^src/', pathNot: '^src/bus/' },
      to: { path: 'node_modules/nats/' },
    },
    {
      name: 'only-store-and-monitor-adapters-touch-redis',
      severity: 'error',
      comment:
        'ioredis belongs to the Redis adapters (feature store, shared rate limits), never to decision logic.',
      from: { path: '^src/(domain|engine|scoring|core|cases|compliance)/' },
      to: { path: 'node_modules/ioredis/' },
    },
    {
      name: 'faces-only',
      severity: 'error',
      comment: 'Another folder is entered through its index.ts only.',
      from: { path: '^src/([^/]+)/' },
      to: {
        path: '^src/([^/]+)/',
        pathNot: ['^src/$1/', '^src/[^/]+/index\\.ts$', '^src/store/core-tables\\.ts$'],
      },
    },
    {
      name: 'no-test-code-in-src',
      severity: 'error',
      comment: 'Nothing under src/ that ships imports test code.',
      from: { path: '^src/', pathNot: '\\.test\\.ts$' },
      to: { path: '(^test/|\\.test\\.ts$|test-helpers)' },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsConfig: { fileName: 'tsconfig.json' },
    tsPreCompilationDeps: true,
    enhancedResolveOptions: {
      exportsFields: ['exports'],
      conditionNames: ['import', 'require', 'node', 'default'],
    },
    exclude: { path: '(^dist/|^web/|^bench/|^test/)' },
  },
};
