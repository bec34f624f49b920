// Reading the OpenPGP key files commands take (key import, repo --require-signed,
// serve --signing-key): a key file is kilobytes, so anything much larger (a device, a
// log given by mistake) is refused before it is read whole.

import { readSmallFile } from '../common/index.ts';
import { UsageError } from './errors.ts';

/** Larger than any key export (a key with many signatures and photos is under 100 KiB). */
const MAX_KEY_FILE = 1 << 20;

/** The bytes of key file `path`; `flag` ('--signing-key ', or '') names where it was given. */
export async function readKeyFile(path: string, flag = ''): Promise<Buffer> {
  const bytes = await readSmallFile(path, MAX_KEY_FILE).catch((e: NodeJS.ErrnoException) => {
    throw new UsageError(`${flag}${path}: cannot read the key file (${e.code ?? e.message})`);
  });
  if (!bytes) throw new UsageError(`${flag}${path}: larger than ${MAX_KEY_FILE >> 20} MiB, which no OpenPGP key file is; give the file of one exported key`);
  return bytes;
}
