// Lint: typescript-eslint's recommended rules plus a 120-column limit (prettier formats; long strings and
// template literals are allowed past it, as prettier cannot break them).
import js from '@eslint/js'
import tseslint from 'typescript-eslint'

export default tseslint.config(
  {ignores: ['dist/', 'node_modules/', '.lab-cache/', 'bench/out/', 'coverage/', 'native/hyperscan/build/']},
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: {globals: {process: 'readonly', console: 'readonly', Buffer: 'readonly', URL: 'readonly'}},
    rules: {
      'max-len': [
        'error',
        {code: 120, ignoreStrings: true, ignoreTemplateLiterals: true, ignoreRegExpLiterals: true, ignoreUrls: true},
      ],
      '@typescript-eslint/no-unused-vars': ['error', {argsIgnorePattern: '^_', varsIgnorePattern: '^_'}],
      '@typescript-eslint/no-non-null-assertion': 'off',
      // A security scanner matches control characters and aligned text on purpose.
      'no-control-regex': 'off',
      'no-regex-spaces': 'off',
    },
  },
)
