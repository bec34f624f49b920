// Placeholder: being written.
import type { Scenario } from '../lib/harness.ts';

export const load: Scenario = {
  name: 'load',
  title: 'load',
  about: 'Not written yet.',
  async run() {
    throw new Error('not written yet');
  },
};
