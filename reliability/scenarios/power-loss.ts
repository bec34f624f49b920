// Placeholder: being written.
import type { Scenario } from '../lib/harness.ts';

export const powerLoss: Scenario = {
  name: 'power-loss',
  title: 'power-loss',
  about: 'Not written yet.',
  async run() {
    throw new Error('not written yet');
  },
};
