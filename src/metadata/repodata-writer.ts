// Writes primary, filelists and other from package records: one writer per file, as
// createrepo_c splits them, fed in the caller's package order.

import type { PackageRecord } from '../rpm/index.ts';
import type { CompressionType } from './compression.ts';
import { MetadataFileWriter } from './file-writer.ts';
import { FILELISTS_FOOTER, filelistsHeader, filelistsPackage } from './filelists.ts';
import { OTHER_FOOTER, otherHeader, otherPackage } from './other.ts';
import { PRIMARY_FOOTER, primaryHeader, primaryPackage } from './primary.ts';
import type { RepomdRecord } from './repomd.ts';

export interface RepodataOptions {
  dir: string;
  compression: CompressionType;
  /** Checksum of the metadata files themselves (createrepo_c's --repomd-checksum). */
  checksumType: string;
  uniqueNames: boolean;
  timestamp?: number;
  fsync?: boolean;
}

export const DEFAULT_CHANGELOG_LIMIT = 10;

/** One package's chunk of each of the three files (text, or UTF-8 bytes). */
export interface RenderedPackage {
  primary: string | Uint8Array;
  filelists: string | Uint8Array;
  other: string | Uint8Array;
}

export function renderPackage(p: PackageRecord, changelogLimit: number): RenderedPackage {
  return { primary: primaryPackage(p), filelists: filelistsPackage(p), other: otherPackage(p, changelogLimit) };
}

/**
 * Writes the three package metadata files. `count` must equal the number of records
 * the iterable yields: it goes in the files' headers before the packages. Packages are
 * written in the order they come.
 */
export async function writePackageMetadata(
  packages: Iterable<RenderedPackage> | AsyncIterable<RenderedPackage>,
  count: number,
  opts: RepodataOptions,
): Promise<RepomdRecord[]> {
  const common = { dir: opts.dir, compression: opts.compression, checksumType: opts.checksumType, uniqueName: opts.uniqueNames, timestamp: opts.timestamp, fsync: opts.fsync };
  const writers = await Promise.all([
    MetadataFileWriter.create({ ...common, type: 'primary', name: 'primary.xml' }),
    MetadataFileWriter.create({ ...common, type: 'filelists', name: 'filelists.xml' }),
    MetadataFileWriter.create({ ...common, type: 'other', name: 'other.xml' }),
  ]);
  const [primary, filelists, other] = writers;
  try {
    primary.write(primaryHeader(count));
    filelists.write(filelistsHeader(count));
    other.write(otherHeader(count));
    let written = 0;
    for await (const p of packages) {
      written++;
      const waits = [primary.write(p.primary), filelists.write(p.filelists), other.write(p.other)];
      if (waits[0] || waits[1] || waits[2]) await Promise.all(waits);
    }
    if (written !== count) throw new Error(`internal error: announced ${count} packages but wrote ${written}`);
    primary.write(PRIMARY_FOOTER);
    filelists.write(FILELISTS_FOOTER);
    other.write(OTHER_FOOTER);
    return await Promise.all(writers.map((w) => w.finish()));
  } catch (e) {
    await Promise.all(writers.map((w) => w.abort()));
    throw e;
  }
}
