// The project's sample packages (samples/zoo, built by scripts/build-samples.ts): a
// small zoo of noarch RPMs (bear-4.1-1, cat-1.0-1, duck-0.6/0.7/0.8, walrus-0.71/5.21
// ...) with updateinfo.xml, comps.xml and modules.yaml beside them. Tests and the demo
// take their packages from here.

import { readdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';

/** The directory of sample packages and their extra metadata files. */
export const SAMPLES: string = resolve(import.meta.dirname, '../../samples/zoo');

/** The path of one sample file, e.g. sample('bear-4.1-1.noarch.rpm'). */
export const sample = (name: string): string => join(SAMPLES, name);

/** The sample RPM file names, sorted. */
export async function sampleRpms(): Promise<string[]> {
  return (await readdir(SAMPLES)).filter((f) => f.endsWith('.rpm')).sort();
}
