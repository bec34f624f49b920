// Placeholder: being written.
import type { Scenario } from '../lib/harness.ts';

export const crash: Scenario = {
  name: 'crash',
  title: 'crash',
  about: 'Not written yet.',
  async run() {
    throw new Error('not written yet');
  },
};
