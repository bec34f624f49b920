// The txrepo command line: a thin shell that parses arguments, calls the core, and
// turns failures into messages and exit statuses.

import { readFileSync } from 'node:fs';
import { errorDocument, kindOf } from '../common/index.ts';
import { didYouMean, leadingGlobals, wantsJson } from './args.ts';
import { describeFailure, UsageError } from './errors.ts';
import { COMMANDS } from './commands/index.ts';
import { print, wroteDocument } from './output.ts';

function version(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
  return pkg.version;
}

function usage(): string {
  const width = Math.max(...Object.keys(COMMANDS).map((c) => c.length));
  const lines = Object.entries(COMMANDS).map(([name, c]) => `  ${name.padEnd(width)}  ${c.summary}`);
  return `Usage: txrepo [GLOBAL OPTIONS] COMMAND [options]

Commands:
${lines.join('\n')}

Global options, before or after the command (for the commands that take them):
  --store DIR, --catalog URL, --blobs URL, --server URL, --token TOKEN, --json

Exit status: 0 done, 1 failed, 2 usage error, 70 a bug in txrepo.
Run 'txrepo COMMAND --help' for a command's options; docs/cli.md has them all.`;
}

const isHelp = (word: string) => word === '-h' || word === '--help' || word === 'help';

export async function main(argv: string[]): Promise<number> {
  const json = wantsJson(argv);
  const { globals, rest } = leadingGlobals(argv);
  const [name, ...args] = rest;
  if (name === undefined) {
    if (json) throw new UsageError(`give a command: ${Object.keys(COMMANDS).join(', ')}`);
    process.stdout.write(usage() + '\n');
    return 2;
  }
  if (isHelp(name)) {
    print(json, { usage: usage() }, usage);
    return 0;
  }
  if (name === '--version' || name === '-V') {
    print(json, { version: version() }, () => `txrepo ${version()}`);
    return 0;
  }
  const entry = Object.hasOwn(COMMANDS, name) ? COMMANDS[name] : undefined;
  if (!entry) {
    const what = name.startsWith('-') ? `unknown option ${name}` : `unknown command ${JSON.stringify(name)}`;
    const hint = didYouMean(name, Object.keys(COMMANDS));
    throw new UsageError(hint ? `${what}${hint}\nRun 'txrepo --help' for the commands.` : `${what}.\n${usage()}`);
  }
  const command = await entry.load();
  if (args.includes('-h') || args.includes('--help')) {
    print(json, { usage: command.help }, () => command.help);
    return 0;
  }
  // The globals go first: after a '--' they would be taken for arguments.
  return command.run([...globals, ...args]);
}

if (import.meta.main) {
  const argv = process.argv.slice(2);
  main(argv).then(
    (status) => {
      process.exitCode = status;
    },
    (e) => {
      const { message, status } = describeFailure(e);
      process.stderr.write(`txrepo: ${message}\n`);
      // Scripts read one JSON document on stdout: the error's, unless the command had
      // already printed its result (a failure while closing the store, say).
      if (wantsJson(argv) && !wroteDocument()) process.stdout.write(JSON.stringify(errorDocument(kindOf(e), message), null, 2) + '\n');
      process.exitCode = status;
    },
  );
}
