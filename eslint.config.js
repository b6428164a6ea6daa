// Lint: typescript-eslint's recommended rules plus the house rule that time and
// chance are injected (DEVELOPERS.md rule 2): no bare timers, clocks or random
// draws under src/ outside the clock module.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

const injected = 'inject a Clock/Random (src/clock/) instead (DEVELOPERS.md rule 2)';

export default tseslint.config(
  // gen/: code written by protoc-gen-es and protoc-gen-micromesh (regenerated, never edited).
  { ignores: ['node_modules/**', 'dist/**', '.scratch*/**', '**/gen/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  // CommonJS config files (dependency-cruiser's) run in Node.
  { files: ['**/*.cjs'], languageOptions: { sourceType: 'commonjs', globals: { module: 'writable', require: 'readonly' } } },
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/no-explicit-any': 'off',
      'no-constant-condition': ['error', { checkLoops: false }],
    },
  },
  {
    files: ['src/**/*.ts'],
    // The dashboard's browser app runs in a browser, never in the simulator: its timers are the page's.
    ignores: ['src/clock/**', 'src/web/ui/**'],
    rules: {
      'no-restricted-globals': ['error',
        ...['setTimeout', 'setInterval', 'clearTimeout', 'clearInterval', 'setImmediate'].map((name) => ({ name, message: injected })),
      ],
      'no-restricted-properties': ['error',
        { object: 'Date', property: 'now', message: injected },
        { object: 'Math', property: 'random', message: injected },
        { object: 'performance', property: 'now', message: injected },
      ],
    },
  },
);
