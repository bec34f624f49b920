// The sax XML parser, loaded on first use (writing metadata never needs it).

import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
let loaded: typeof import('sax') | undefined;

export function sax(): typeof import('sax') {
  return (loaded ??= require('sax') as typeof import('sax'));
}
