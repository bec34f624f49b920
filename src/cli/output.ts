// What a command prints on stdout: its result, as text for people or, with --json,
// as one JSON document for scripts (docs/cli.md has every command's shape).

import { forTerminal } from '../common/index.ts';

let documents = 0;

/** Prints a command's result: `value` as JSON with --json, else `text()`. */
export function print(json: boolean | undefined, value: unknown, text: () => string): void {
  if (json) {
    process.stdout.write(JSON.stringify(value, null, 2) + '\n');
    documents++;
  } else {
    // Rows and columns stay; any other control character a stored value brought along
    // (an escape sequence) is shown, not obeyed. Fields that may hold line feeds or
    // tabs are escaped where the command formats them.
    process.stdout.write(text().split('\n').map((line) => line.split('\t').map(forTerminal).join('\t')).join('\n') + '\n');
  }
}

/** Whether a JSON document went to stdout already: a later failure must not add another. */
export function wroteDocument(): boolean {
  return documents > 0;
}
