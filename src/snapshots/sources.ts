// What a deploy source is, decided once: the local core, the remote client and the
// server's checks ask here, so one SOURCE means the same thing with or without
// --server. A yum repo is named by an http(s) URL or by a directory with
// repodata/repomd.xml (its metadata says which packages it has); anything else is
// package files, or directories of them.

import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { maskCredentials } from '../common/index.ts';
import { DeployInputError } from './deploy.ts';

export type SourceKind = 'repo-url' | 'repo-dir' | 'files';

/** An http(s) URL: the only kind of source a server takes from a client, and the only URLs a deploy fetches. */
export function isRepoUrl(source: string): boolean {
  return /^https?:\/\//i.test(source);
}

/** What SOURCE names. A URL of another scheme is refused, not taken for a path. */
export async function sourceKind(source: string): Promise<SourceKind> {
  if (isRepoUrl(source)) return 'repo-url';
  if (/^[A-Za-z][A-Za-z0-9+.-]*:\/\//.test(source)) {
    throw new DeployInputError(`${maskCredentials(source)}: only http:// and https:// URLs (of yum repos) and local paths can be deployed`);
  }
  const repomd = await stat(join(source, 'repodata', 'repomd.xml')).catch(() => undefined);
  return repomd?.isFile() ? 'repo-dir' : 'files';
}
