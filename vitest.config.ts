import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    pool: 'forks',
    // each test file's temporary files in a directory removed after it
    setupFiles: ['test/helpers/tmpdir.ts'],
  },
});
