// The txrepo command line: a thin shell that parses arguments, calls the core, and
// turns failures into messages and exit statuses.

import { readFileSync } from 'node:fs';
import { describeFailure, UsageError } from './errors.ts';
import { COMMANDS } from './commands/index.ts';

function version(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
  return pkg.version;
}

function usage(): string {
  const width = Math.max(...Object.keys(COMMANDS).map((c) => c.length));
  const lines = Object.entries(COMMANDS).map(([name, c]) => `  ${name.padEnd(width)}  ${c.summary}`);
  return `Usage: txrepo COMMAND [options]\n\nCommands:\n${lines.join('\n')}\n\nRun 'txrepo COMMAND --help' for a command's options.`;
}

export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '-h' || name === '--help' || name === 'help') {
    process.stdout.write(usage() + '\n');
    return name === undefined ? 2 : 0;
  }
  if (name === '--version' || name === '-V') {
    process.stdout.write(`txrepo ${version()}\n`);
    return 0;
  }
  const entry = Object.hasOwn(COMMANDS, name) ? COMMANDS[name] : undefined;
  if (!entry) throw new UsageError(`unknown command ${JSON.stringify(name)}.\n${usage()}`);
  const command = await entry.load();
  if (rest.includes('-h') || rest.includes('--help')) {
    process.stdout.write(command.help + '\n');
    return 0;
  }
  return command.run(rest);
}

if (import.meta.main) {
  main(process.argv.slice(2)).then(
    (status) => {
      process.exitCode = status;
    },
    (e) => {
      const { message, status } = describeFailure(e);
      process.stderr.write(`txrepo: ${message}\n`);
      process.exitCode = status;
    },
  );
}
