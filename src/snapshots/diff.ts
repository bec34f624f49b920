// txrepo diff REPO@A REPO@B: what changed between two snapshots. Packages: the whole
// sets are compared, every build (a repo may keep several of a name.arch): a build
// only one side has was added or removed, and where one side lost builds of a
// name.arch and the other gained some, they pair up, newest with newest, as upgrades
// (with the changelog entries the new build brings) or downgrades. Metadata: the files
// besides those generated from the packages (updateinfo, comps, modules, ...) that
// were added, removed or changed, by type.

import { parseRepomd, REPOMD_HREF } from '../metadata/index.ts';
import { evrcmp, type ChangelogEntry, type PackageRecord } from '../rpm/index.ts';
import type { Snapshot, Store } from '../store/index.ts';

export interface PackageChange {
  name: string;
  arch: string;
  from?: string;
  to?: string;
  /** Upgrades: changelog entries of the new build that the old one does not have. */
  changelog?: ChangelogEntry[];
  /** Key id of the OpenPGP signature of the build it is now (of the old one, for a removal); absent: unsigned. */
  signer?: string;
}

/** A metadata file beside the generated ones, by its type in repomd.xml (updateinfo, group, modules...). */
export interface MetadataChange {
  type: string;
  /** The file's href on each side (absent: that side has none). */
  from?: string;
  to?: string;
}

export interface SnapshotDiff {
  from: string;
  to: string;
  added: PackageChange[];
  removed: PackageChange[];
  upgraded: PackageChange[];
  downgraded: PackageChange[];
  /** Metadata files added, removed or changed (updateinfo, comps, modules, ...). */
  metadata: MetadataChange[];
}

/** A diff's package changes, without the snapshots' ids and the metadata. */
type PackageChanges = Pick<SnapshotDiff, 'added' | 'removed' | 'upgraded' | 'downgraded'>;

const signed = (r: PackageRecord) => (r.signer ? { signer: r.signer } : {});
const evr = (r: PackageRecord) => `${r.epoch !== '0' ? `${r.epoch}:` : ''}${r.version}-${r.release}`;

/** Every build of a snapshot. */
async function buildsOf(store: Store, snapshot: Snapshot): Promise<PackageRecord[]> {
  const files = (await store.catalog.snapshotFiles(snapshot.id)).filter((f) => f.kind === 'package');
  const records = await store.catalog.getPackages(files.map((f) => f.digest));
  return [...records.values()];
}

/** Builds by name.arch, oldest first. */
function byNameArch(records: Iterable<PackageRecord>): Map<string, PackageRecord[]> {
  const out = new Map<string, PackageRecord[]>();
  for (const r of records) {
    const key = `${r.name}.${r.arch}`;
    const list = out.get(key);
    if (list) list.push(r);
    else out.set(key, [r]);
  }
  for (const list of out.values()) list.sort(evrcmp);
  return out;
}

/**
 * The builds of `a` that `b` has no build of the same EVR of; both oldest first. One
 * pass over both: a repo may keep thousands of builds of one name.arch (a CI's), and
 * comparing each with each took minutes.
 */
function without(a: PackageRecord[], b: PackageRecord[]): PackageRecord[] {
  const out: PackageRecord[] = [];
  let j = 0;
  for (const x of a) {
    while (j < b.length && evrcmp(b[j], x) < 0) j++;
    if (j < b.length && evrcmp(b[j], x) === 0) continue;
    out.push(x);
  }
  return out;
}

/** What changed in one name.arch: gone and new builds, paired newest with newest. */
function diffBuilds(before: PackageRecord[], after: PackageRecord[], diff: PackageChanges): void {
  const gone = without(before, after);
  const fresh = without(after, before);
  while (gone.length && fresh.length) {
    const old = gone.pop()!;
    const now = fresh.pop()!;
    if (evrcmp(now, old) > 0) {
      const known = new Set(old.changelogs.map((e) => `${e.date}\0${e.author}\0${e.text}`));
      diff.upgraded.push({ name: now.name, arch: now.arch, from: evr(old), to: evr(now), changelog: now.changelogs.filter((e) => !known.has(`${e.date}\0${e.author}\0${e.text}`)), ...signed(now) });
    } else diff.downgraded.push({ name: now.name, arch: now.arch, from: evr(old), to: evr(now), ...signed(now) });
  }
  for (const r of fresh) diff.added.push({ name: r.name, arch: r.arch, to: evr(r), ...signed(r) });
  for (const r of gone) diff.removed.push({ name: r.name, arch: r.arch, from: evr(r), ...signed(r) });
}

/** The records of a snapshot's repomd.xml beside those made from its packages, by type (updateinfo, group, modules...). */
async function extraMetadata(store: Store, snapshot: Snapshot): Promise<Map<string, { href: string; checksum: string }>> {
  const xml = await store.blobs.read(snapshot.repomd);
  if (!xml) throw new Error(`the repomd.xml of snapshot ${snapshot.id} (blob ${snapshot.repomd}) is missing; run 'txrepo fsck'`);
  const generated = /^(primary|filelists|other)(_db|_zck)?$/;
  const records = parseRepomd(xml.toString('utf8'), `${snapshot.repo}@${snapshot.id}/${REPOMD_HREF}`).records.filter((r) => !generated.test(r.type));
  return new Map(records.map((r) => [r.type, { href: r.href, checksum: r.checksum.value }]));
}

function diffMetadata(before: Map<string, { href: string; checksum: string }>, after: Map<string, { href: string; checksum: string }>): MetadataChange[] {
  const changes: MetadataChange[] = [];
  for (const type of [...new Set([...before.keys(), ...after.keys()])].sort()) {
    const [a, b] = [before.get(type), after.get(type)];
    if (a?.checksum === b?.checksum) continue;
    changes.push({ type, ...(a && { from: a.href }), ...(b && { to: b.href }) });
  }
  return changes;
}

/** The package changes from the builds `before` to `after` (any order), each list sorted by name, arch and EVR. */
export function diffPackages(before: Iterable<PackageRecord>, after: Iterable<PackageRecord>): PackageChanges {
  const [a, b] = [byNameArch(before), byNameArch(after)];
  const diff: PackageChanges = { added: [], removed: [], upgraded: [], downgraded: [] };
  for (const key of new Set([...a.keys(), ...b.keys()])) diffBuilds(a.get(key) ?? [], b.get(key) ?? [], diff);
  const byName = (x: PackageChange, y: PackageChange) => (x.name < y.name ? -1 : x.name > y.name ? 1 : x.arch < y.arch ? -1 : x.arch > y.arch ? 1 : (x.to ?? x.from ?? '') < (y.to ?? y.from ?? '') ? -1 : 1);
  for (const list of [diff.added, diff.removed, diff.upgraded, diff.downgraded]) list.sort(byName);
  return diff;
}

export async function diffSnapshots(store: Store, a: Snapshot, b: Snapshot): Promise<SnapshotDiff> {
  const [before, after] = await Promise.all([buildsOf(store, a), buildsOf(store, b)]);
  const metadata = diffMetadata(...(await Promise.all([extraMetadata(store, a), extraMetadata(store, b)])));
  return { from: a.id, to: b.id, ...diffPackages(before, after), metadata };
}
