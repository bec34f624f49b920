// Placeholder: being written.
import type { Scenario } from '../lib/harness.ts';

export const disk: Scenario = {
  name: 'disk',
  title: 'disk',
  about: 'Not written yet.',
  async run() {
    throw new Error('not written yet');
  },
};
