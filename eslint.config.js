import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'coverage/**'] },
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-console': 'off',
    },
  },
  {
    files: ['src/**/*.ts'],
    rules: {
      // The typed re-export infers each command's options from its definition (issue 10, item 5).
      'no-restricted-imports': [
        'error',
        { paths: [{ name: 'commander', message: "import from '@commander-js/extra-typings' (same classes, typed options)" }] },
      ],
    },
  },
);
