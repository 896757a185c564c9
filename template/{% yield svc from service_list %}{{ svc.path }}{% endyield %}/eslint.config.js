// ESLint settings of this node service (flat config, ESLint 9), run by `make lint`
// (scripts/lint.py) at the project root. Template-owned: `make update` merges
// template changes; add your own rules in the last entry.
import js from '@eslint/js';
import globals from 'globals';

export default [
  // Never linted: installed modules, test reports, coverage.
  { ignores: ['node_modules/', '.artifacts/', 'coverage/'] },
  js.configs.recommended,
  {
    files: ['**/*.js', '**/*.mjs'],
    languageOptions: {
      ecmaVersion: 'latest',
      sourceType: 'module',
      globals: { ...globals.node },
    },
  },
  {
    files: ['**/*.cjs'],
    languageOptions: { sourceType: 'commonjs', globals: { ...globals.node } },
  },
];
