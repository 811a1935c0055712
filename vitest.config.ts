// Test runner settings: real processes and real HTTP, so generous timeouts and no file parallelism surprises.
import { defineConfig } from 'vitest/config';
import HeavyFirstSequencer from './tests/heavy-first-sequencer.ts';

export default defineConfig({
  test: {
    include: ['tests/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
    // vitest's default is one worker per core minus one, which on the 2-core CI machine runs every file in turn. Most
    // files wait on subprocesses and HTTP, so two workers cut the suite from ~990 s to ~810 s there; measured with every
    // timing-sensitive sandbox test passing.
    maxWorkers: 2,
    // Longest files first (longest-processing-time scheduling): with one 9-minute file, order decides the wall time.
    sequence: { sequencer: HeavyFirstSequencer },
    reporters: ['default'],
  },
});
