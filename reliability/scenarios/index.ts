// The scenarios of the reliability suite, in the order they run and appear in the doc.
import type { Scenario } from '../lib/harness.ts';
import { crash } from './crash.ts';
import { powerLoss } from './power-loss.ts';
import { concurrency } from './concurrency.ts';
import { serverCrash } from './server-crash.ts';
import { readers } from './readers.ts';
import { hostile } from './hostile.ts';
import { load } from './load.ts';
import { disk } from './disk.ts';
import { fsckLive } from './fsck-live.ts';

export const SCENARIOS: Scenario[] = [crash, powerLoss, concurrency, serverCrash, fsckLive, readers, hostile, load, disk];
