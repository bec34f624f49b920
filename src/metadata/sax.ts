// The XML parser (saxes: streaming, strict XML 1.0, about twice as fast as sax on a
// large primary.xml, issue 19), loaded on first use (writing metadata never needs it).

import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
let loaded: typeof import('saxes') | undefined;

/** A strict, non-namespace parser; `position`: errors say where (line:column). */
export function xmlParser(): import('saxes').SaxesParser {
  loaded ??= require('saxes') as typeof import('saxes');
  return new loaded.SaxesParser({ position: true });
}

/** A parser's error as our messages say it: "malformed XML at line L, column C: what". */
export function malformed(e: Error): string {
  const m = /^(\d+):(\d+): (.*?)\.?$/s.exec(e.message);
  return m ? `malformed XML at line ${m[1]}, column ${m[2]}: ${m[3]}` : `malformed XML: ${e.message}`;
}
