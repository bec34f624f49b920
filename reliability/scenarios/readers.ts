// Placeholder: being written.
import type { Scenario } from '../lib/harness.ts';

export const readers: Scenario = {
  name: 'readers',
  title: 'readers',
  about: 'Not written yet.',
  async run() {
    throw new Error('not written yet');
  },
};
