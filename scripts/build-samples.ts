// Builds the sample packages in samples/zoo/: a small zoo of noarch RPMs that the demo
// (`npm start`) serves and the tests deploy, sync, publish and install with dnf. They
// are committed, so that `npm start` works on a machine with only Node.js and npm;
// this script is how they were made, and test/samples.test.ts checks that the files
// in the tree are what it builds.
//
//   node scripts/build-samples.ts [--out DIR]     (needs rpmbuild; default samples/zoo)
//
// Each package owns one text file and requires others of the zoo, so that dnf has a
// small dependency graph to solve (walrus-0.71 needs whale, which needs shark and
// stork). Some names come in several versions (duck, kangaroo, walrus) for upgrades,
// downgrades and "newest per name" rules; the newer duck and kangaroo ship a command
// in /usr/bin, which puts a file in primary.xml. Builds are reproducible: fixed build
// time and host, timestamps clamped, gzip payloads (every rpm and dnf reads them).

import { execFile } from 'node:child_process';
import { copyFile, mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs, promisify } from 'node:util';

const exec = promisify(execFile);

/** 2024-01-01T00:00:00Z: the build time of every sample. */
export const SAMPLE_EPOCH = 1704067200;

/** The rpmbuild the committed samples were built with; another may write other bytes. */
export const BUILT_WITH = 'RPM version 4.18.0';

export interface Animal {
  name: string;
  version: string;
  release: string;
  summary: string;
  requires?: string[];
  /** Ships /usr/bin/NAME (a shell script) instead of a text file. */
  command?: boolean;
}

const a = (name: string, version: string, release: string, summary: string, requires: string[] = [], command = false): Animal => ({ name, version, release, summary, requires, command });

/** The zoo. Names and versions are what the tests refer to; change them with the tests. */
export const ZOO: readonly Animal[] = [
  a('bear', '4.1', '1', 'Sleeps through the winter'),
  a('camel', '0.1', '1', 'Crosses the desert on one fill'),
  a('cat', '1.0', '1', 'Naps in the sun'),
  a('cheetah', '1.25.3', '5', 'Runs fast, briefly', ['trout']),
  a('chimpanzee', '0.21', '1', 'Uses tools', ['squirrel', 'walrus']),
  a('cockateel', '3.1', '1', 'Whistles a tune', ['wolf']),
  a('cow', '2.2', '3', 'Chews slowly'),
  a('crow', '0.8', '1', 'Remembers faces'),
  a('dog', '4.23', '1', 'Fetches what is thrown'),
  a('dolphin', '3.10.232', '1', 'Sleeps with half its brain', ['bear', 'lion', 'tiger']),
  a('duck', '0.6', '1', 'Paddles in the pond', ['cockateel', 'lion']),
  a('duck', '0.7', '1', 'Paddles in the pond, now with a quack command', [], true),
  a('duck', '0.8', '1', 'Paddles in the pond, quacks louder', [], true),
  a('elephant', '8.3', '1', 'Never forgets', ['kangaroo']),
  a('fox', '1.1', '2', 'Jumps over the lazy dog'),
  a('frog', '0.1', '1', 'Sings after the rain'),
  a('giraffe', '0.67', '2', 'Reaches the top shelf'),
  a('gorilla', '0.62', '1', 'Drums on its chest'),
  a('horse', '0.22', '2', 'Sleeps standing up', ['mouse', 'penguin']),
  a('kangaroo', '0.2', '1', 'Carries things in a pouch'),
  a('kangaroo', '0.3', '1', 'Carries things in a pouch, and hops on command', [], true),
  a('lion', '0.4', '1', 'Roars at dusk', ['wolf']),
  a('mouse', '0.1.12', '1', 'Finds the cheese', ['dolphin', 'zebra']),
  a('penguin', '0.9.1', '1', 'Dresses for dinner', ['dolphin']),
  a('pike', '2.2', '1', 'Waits among the reeds', ['crow', 'elephant']),
  a('shark', '0.1', '1', 'Keeps swimming'),
  a('squirrel', '0.1', '1', 'Buries nuts and forgets where', ['camel', 'fox']),
  a('stork', '0.12', '2', 'Delivers parcels'),
  a('tiger', '1.0', '4', 'Has stripes on its skin too'),
  a('trout', '0.12', '1', 'Swims upstream', ['cat', 'horse']),
  a('walrus', '0.71', '1', 'Basks on the ice', ['whale']),
  a('walrus', '5.21', '1', 'Basks on the ice, warmer'),
  a('whale', '0.2', '1', 'Sings across oceans', ['shark', 'stork']),
  a('wolf', '9.4', '2', 'Howls at the moon'),
  a('zebra', '0.1', '2', 'Is white with black stripes, or the other way round', ['dolphin', 'gorilla', 'pike']),
];

export const rpmName = (x: Animal): string => `${x.name}-${x.version}-${x.release}.noarch.rpm`;

/** The spec file of one animal. */
export function specOf(x: Animal): string {
  const file = x.command ? `/usr/bin/${x.name}` : `/usr/share/zoo/${x.name}.txt`;
  const content = x.command ? `#!/bin/sh\\necho "${x.name} ${x.version}"` : `${x.name} ${x.version}-${x.release}: ${x.summary.toLowerCase()}.`;
  return [
    `Name: ${x.name}`,
    `Version: ${x.version}`,
    `Release: ${x.release}`,
    `Summary: ${x.summary}`,
    'License: MIT',
    'URL: https://txrepo.invalid/zoo',
    'Group: Amusements/Zoo',
    'BuildArch: noarch',
    // Only the zoo's own dependencies: no /bin/sh for the commands' shebang, so that
    // dnf can install any of them into an empty root.
    'AutoReq: no',
    ...(x.requires ?? []).map((r) => `Requires: ${r}`),
    '',
    '%description',
    `A sample package of txrepo's demo zoo: ${x.name} ${x.version}.`,
    '',
    '%install',
    `mkdir -p %{buildroot}${file.slice(0, file.lastIndexOf('/'))}`,
    `printf '${content}\\n' > %{buildroot}${file}`,
    ...(x.command ? [`chmod 0755 %{buildroot}${file}`] : []),
    '',
    '%files',
    file,
    '',
    '%changelog',
    `* Mon Jan 01 2024 txrepo samples <samples@txrepo.invalid> - ${x.version}-${x.release}`,
    `- ${x.name} ${x.version}`,
    '',
  ].join('\n');
}

/** rpmbuild settings that make the same spec give the same bytes. */
export function rpmbuildArgs(topdir: string): string[] {
  return [
    '--define', `_topdir ${topdir}`,
    '--define', 'use_source_date_epoch_as_buildtime 1',
    '--define', 'clamp_mtime_to_source_date_epoch 1',
    '--define', '_buildhost txrepo-samples',
    '--define', '_binary_payload w9.gzdio',
    '--define', '_build_name_fmt %%{NAME}-%%{VERSION}-%%{RELEASE}.%%{ARCH}.rpm',
  ];
}

export const rpmbuildEnv = (): NodeJS.ProcessEnv => ({ ...process.env, SOURCE_DATE_EPOCH: String(SAMPLE_EPOCH), TZ: 'UTC', LC_ALL: 'C.UTF-8', LANG: 'C.UTF-8' });

/** Builds every animal into `out` (which must exist); returns the file names. */
export async function buildZoo(out: string): Promise<string[]> {
  const work = await mkdtemp(join(tmpdir(), 'txrepo-samples-'));
  try {
    const names: string[] = [];
    for (const x of ZOO) {
      const top = join(work, `${x.name}-${x.version}`);
      await mkdir(top, { recursive: true });
      const spec = join(top, `${x.name}.spec`);
      await writeFile(spec, specOf(x));
      await exec('rpmbuild', ['-bb', ...rpmbuildArgs(top), spec], { env: rpmbuildEnv(), maxBuffer: 16 << 20 });
      await copyFile(join(top, 'RPMS', rpmName(x)), join(out, rpmName(x)));
      names.push(rpmName(x));
    }
    return names;
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

if (import.meta.main) {
  const { values } = parseArgs({ options: { out: { type: 'string' } } });
  const out = resolve(values.out ?? join(import.meta.dirname, '../samples/zoo'));
  await mkdir(out, { recursive: true });
  for (const old of await readdir(out)) if (old.endsWith('.rpm')) await rm(join(out, old));
  const built = await buildZoo(out);
  process.stdout.write(`${built.length} packages in ${out}\n`);
}
