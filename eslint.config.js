// Lint doubles as the architecture check: folder import rules from STYLE.md are
// enforced here so a wrong import between stage folders fails CI.
import js from '@eslint/js'
import tseslint from 'typescript-eslint'
import boundaries from 'eslint-plugin-boundaries'
import prettier from 'eslint-config-prettier'

const stages = [
  'core',
  'bus',
  'storage',
  'kube',
  'ingest',
  'models',
  'analyzers',
  'alerts',
  'remediation',
  'workloads',
  'api',
  'sim',
  'web',
  'app',
]
const tooling = ['bench', 'test', 'scripts', 'deploy']

/** Which folders each folder may import (STYLE.md, "Folders"). */
const allowedImports = {
  core: [],
  bus: ['core'],
  storage: ['core'],
  kube: ['core'],
  ingest: ['core', 'bus', 'kube'],
  models: ['core'],
  analyzers: ['core', 'bus', 'storage', 'models'],
  alerts: ['core', 'bus', 'storage'],
  remediation: ['core', 'bus', 'storage', 'kube'],
  workloads: ['core', 'bus', 'storage', 'kube'],
  api: ['core', 'bus', 'storage'],
  sim: ['core'],
  web: [],
  app: [...stages],
}

/** Third-party clients with a single owning folder, so engines can be swapped in one place. */
const ownedPackages = [
  { name: 'kafkajs', owner: 'bus' },
  { name: '@clickhouse/client', owner: 'storage' },
  { name: 'chdb', owner: 'storage' },
  { name: '@kubernetes/client-node', owner: 'kube' },
]

function restrictedPackagesOutside(folder) {
  return ownedPackages
    .filter((p) => p.owner !== folder)
    .map((p) => ({ group: [p.name, `${p.name}/*`], message: `only ${p.owner}/ may import ${p.name}` }))
}

export default tseslint.config(
  { ignores: ['node_modules/**', 'dist/**', 'data/**', 'web/dist/**', 'coverage/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: {
        projectService: { allowDefaultProject: ['*.js', 'bin/*.js'] },
        tsconfigRootDir: import.meta.dirname,
      },
    },
    plugins: { boundaries },
    settings: {
      'import/resolver': { typescript: { alwaysTryTypes: true } },
      'boundaries/include': [...stages, ...tooling].map((f) => `${f}/**/*`),
      // Full paths from the project root: `test/unit/bus/` mirrors `bus/` but is test code, not bus.
      'boundaries/elements': [...tooling, ...stages].map((type) => ({
        type,
        pattern: `${type}/**/*`,
        mode: 'full',
      })),
    },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      // Fastify plugins and interface methods are async by contract even when a body does not await.
      '@typescript-eslint/require-await': 'off',
      '@typescript-eslint/consistent-type-imports': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/restrict-template-expressions': [
        'error',
        { allowNumber: true, allowBoolean: true },
      ],
      'no-restricted-syntax': [
        'error',
        { selector: 'ExportAllDeclaration', message: 'name exports explicitly (STYLE.md: no export *)' },
      ],
      'boundaries/element-types': [
        'error',
        {
          default: 'disallow',
          message: '${file.type}/ may not import ${dependency.type}/ (see STYLE.md, Folders)',
          rules: [
            ...Object.entries(allowedImports).map(([from, allow]) => ({ from, allow: [from, ...allow] })),
            // Tooling may use anything; nothing may import tooling.
            ...tooling.map((from) => ({ from, allow: [...stages, ...tooling] })),
          ],
        },
      ],
    },
  },
  ...stages.map((folder) => ({
    files: [`${folder}/**/*.ts`],
    rules: { 'no-restricted-imports': ['error', { patterns: restrictedPackagesOutside(folder) }] },
  })),
  {
    files: ['**/*.js'],
    ...tseslint.configs.disableTypeChecked,
  },
  {
    files: ['test/**/*.ts', 'bench/**/*.ts'],
    rules: {
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-non-null-assertion': 'off',
    },
  },
  prettier,
)
