// The txrepo command line: a thin shell that parses arguments, calls the core, and
// turns failures into messages and exit statuses.

import { readFileSync } from 'node:fs';
import { describeFailure, UsageError } from './errors.ts';
import * as createrepo from './commands/createrepo.ts';
import * as deploy from './commands/deploy.ts';
import * as diff from './commands/diff.ts';
import * as exportCommand from './commands/export.ts';
import * as fsck from './commands/fsck.ts';
import * as modifyrepo from './commands/modifyrepo.ts';
import * as repo from './commands/repo.ts';
import * as show from './commands/show.ts';
import * as snapshots from './commands/snapshots.ts';
import * as syncCommand from './commands/sync.ts';
import * as tag from './commands/tag.ts';
import * as tags from './commands/tags.ts';

interface Command {
  summary: string;
  help: string;
  run(argv: string[]): Promise<number>;
}

const COMMANDS: Record<string, Command> = { createrepo, modifyrepo, repo, deploy, sync: syncCommand, snapshots, show, diff, tag, tags, export: exportCommand, fsck };

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
  const command = COMMANDS[name];
  if (!command) throw new UsageError(`unknown command ${JSON.stringify(name)}.\n${usage()}`);
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
