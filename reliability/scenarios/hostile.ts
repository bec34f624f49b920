// Placeholder: being written.
import type { Scenario } from '../lib/harness.ts';

export const hostile: Scenario = {
  name: 'hostile',
  title: 'hostile',
  about: 'Not written yet.',
  async run() {
    throw new Error('not written yet');
  },
};
