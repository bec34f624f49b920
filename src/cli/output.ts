// What a command prints on stdout: its result, as text for people or, with --json,
// as one JSON document for scripts (docs/cli.md has every command's shape).

let documents = 0;

/** Prints a command's result: `value` as JSON with --json, else `text()`. */
export function print(json: boolean | undefined, value: unknown, text: () => string): void {
  if (json) {
    process.stdout.write(JSON.stringify(value, null, 2) + '\n');
    documents++;
  } else {
    process.stdout.write(text() + '\n');
  }
}

/** Whether a JSON document went to stdout already: a later failure must not add another. */
export function wroteDocument(): boolean {
  return documents > 0;
}
