// Builds small real RPMs with rpmbuild, as a CI build job would: a package that owns
// one file whose content names its build.

import { execFile } from 'node:child_process';
import { mkdir, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export interface BuildSpec {
  name: string;
  version: string;
  release: string;
  /** The text of /usr/share/NAME/build. */
  content?: string;
  /** The Summary: line (default: "NAME, a package built by a test"). */
  summary?: string;
  /** The %description text. */
  description?: string;
  /** The text of the changelog entry (default: "- build RELEASE"). */
  changelog?: string;
  /**
   * The package's arch (default noarch): another one is built as for that target
   * (rpmbuild --target, which any host can do for a package of plain files); 'src'
   * builds the source package.
   */
  arch?: string;
}

/** Builds NAME-VERSION-RELEASE.ARCH.rpm (ARCH: noarch unless given) into `outDir`; returns its path. */
export async function buildRpm(outDir: string, spec: BuildSpec): Promise<string> {
  const top = join(outDir, `.rpmbuild-${spec.name}-${spec.version}-${spec.release}`);
  await mkdir(join(top, 'SPECS'), { recursive: true });
  const specFile = join(top, 'SPECS', `${spec.name}.spec`);
  await writeFile(
    specFile,
    `Name: ${spec.name}
Version: ${spec.version}
Release: ${spec.release}
Summary: ${spec.summary ?? `${spec.name}, a package built by a test`}
License: MIT
${spec.arch ? '' : 'BuildArch: noarch\n'}
%description
${spec.description ?? 'Built by the txrepo tests.'}

%install
mkdir -p %{buildroot}/usr/share/${spec.name}
echo '${(spec.content ?? `${spec.name}-${spec.version}-${spec.release}`).replace(/'/g, '')}' > %{buildroot}/usr/share/${spec.name}/build

%files
/usr/share/${spec.name}/build

%changelog
* Wed Nov 25 2026 CI <ci@example.org> - ${spec.version}-${spec.release}
${spec.changelog ?? `- build ${spec.release}`}
`,
  );
  await mkdir(outDir, { recursive: true });
  const arch = spec.arch ?? 'noarch';
  const how = arch === 'src' ? ['-bs', '--define', `_srcrpmdir ${outDir}`] : ['-bb', ...(spec.arch ? ['--target', arch] : [])];
  await run('rpmbuild', [...how, '--define', `_topdir ${top}`, '--define', `_rpmdir ${outDir}`, '--define', '_build_name_fmt %%{NAME}-%%{VERSION}-%%{RELEASE}.%%{ARCH}.rpm', specFile], {
    env: { ...process.env, TZ: 'UTC', LC_ALL: 'C.UTF-8' },
    maxBuffer: 16 << 20,
  });
  const file = `${spec.name}-${spec.version}-${spec.release}.${arch}.rpm`;
  if (!(await readdir(outDir)).includes(file)) throw new Error(`rpmbuild did not write ${file} in ${outDir}`);
  return join(outDir, file);
}
