// Real RPMs of a chosen size, built with rpmbuild: a noarch package owning one file of
// random bytes (incompressible; the payload is stored uncompressed, so the build is
// quick and the package is about `bytes` long). For the scenarios that need packages
// bigger than the fixtures: downloads under load, a deploy that does not fit a disk.

import { execFile } from 'node:child_process';
import { mkdir, readdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export interface BigRpmSpec {
  name: string;
  version: string;
  release: string;
  /** Size of the random file it carries. */
  bytes: number;
  /** Source of the random bytes, [0, 1): the scenario's seeded generator. */
  random: () => number;
}

function randomBuffer(bytes: number, random: () => number): Buffer {
  const buf = Buffer.allocUnsafe(bytes);
  for (let i = 0; i < bytes; i += 4) buf.writeUInt32LE(Math.floor(random() * 2 ** 32), Math.min(i, bytes - 4));
  return buf;
}

/** Builds NAME-VERSION-RELEASE.noarch.rpm into `outDir`; returns its path. */
export async function buildBigRpm(outDir: string, spec: BigRpmSpec): Promise<string> {
  const nvr = `${spec.name}-${spec.version}-${spec.release}`;
  const top = join(outDir, `.rpmbuild-${nvr}`);
  await mkdir(join(top, 'SPECS'), { recursive: true });
  await mkdir(join(top, 'SOURCES'), { recursive: true });
  await writeFile(join(top, 'SOURCES', 'data.bin'), randomBuffer(spec.bytes, spec.random));
  const specFile = join(top, 'SPECS', `${spec.name}.spec`);
  await writeFile(
    specFile,
    `Name: ${spec.name}
Version: ${spec.version}
Release: ${spec.release}
Summary: ${spec.name}, a big package built by the reliability suite
License: MIT
BuildArch: noarch
Source0: data.bin

%description
Carries ${spec.bytes} random bytes.

%install
mkdir -p %{buildroot}/usr/share/${spec.name}
cp %{SOURCE0} %{buildroot}/usr/share/${spec.name}/data.bin

%files
/usr/share/${spec.name}/data.bin
`,
  );
  await mkdir(outDir, { recursive: true });
  await run(
    'rpmbuild',
    [
      '-bb',
      '--define', `_topdir ${top}`,
      '--define', `_rpmdir ${outDir}`,
      '--define', '_build_name_fmt %%{NAME}-%%{VERSION}-%%{RELEASE}.%%{ARCH}.rpm',
      // Random bytes do not compress: store them as they are.
      '--define', '_binary_payload w.ufdio',
      '--define', '__spec_install_post %{nil}',
      specFile,
    ],
    { env: { ...process.env, TZ: 'UTC', LC_ALL: 'C.UTF-8' }, maxBuffer: 16 << 20 },
  );
  await rm(top, { recursive: true, force: true });
  const file = `${nvr}.noarch.rpm`;
  if (!(await readdir(outDir)).includes(file)) throw new Error(`rpmbuild did not write ${file} in ${outDir}`);
  return join(outDir, file);
}
