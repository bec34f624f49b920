// Placeholder: being written.
import type { Scenario } from '../lib/harness.ts';

export const concurrency: Scenario = {
  name: 'concurrency',
  title: 'concurrency',
  about: 'Not written yet.',
  async run() {
    throw new Error('not written yet');
  },
};
