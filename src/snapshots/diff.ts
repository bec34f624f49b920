// txrepo diff REPO@A REPO@B: what changed between two snapshots, package by package
// (by name.arch), with the changelog entries an upgrade brings.

import { rpmvercmp, type ChangelogEntry, type PackageRecord } from '../rpm/index.ts';
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

export interface SnapshotDiff {
  from: string;
  to: string;
  added: PackageChange[];
  removed: PackageChange[];
  upgraded: PackageChange[];
  downgraded: PackageChange[];
}

const signed = (r: PackageRecord) => (r.signer ? { signer: r.signer } : {});
const evr = (r: PackageRecord) => `${r.epoch !== '0' ? `${r.epoch}:` : ''}${r.version}-${r.release}`;
const compareEvr = (a: PackageRecord, b: PackageRecord) => Number(a.epoch) - Number(b.epoch) || rpmvercmp(a.version, b.version) || rpmvercmp(a.release, b.release);

async function newestByNameArch(store: Store, snapshot: Snapshot): Promise<Map<string, PackageRecord>> {
  const files = (await store.catalog.snapshotFiles(snapshot.id)).filter((f) => f.kind === 'package');
  const records = await store.catalog.getPackages(files.map((f) => f.digest));
  const out = new Map<string, PackageRecord>();
  for (const r of records.values()) {
    const key = `${r.name}.${r.arch}`;
    const cur = out.get(key);
    if (!cur || compareEvr(r, cur) > 0) out.set(key, r);
  }
  return out;
}

export async function diffSnapshots(store: Store, a: Snapshot, b: Snapshot): Promise<SnapshotDiff> {
  const before = await newestByNameArch(store, a);
  const after = await newestByNameArch(store, b);
  const diff: SnapshotDiff = { from: a.id, to: b.id, added: [], removed: [], upgraded: [], downgraded: [] };
  for (const [key, r] of after) {
    const old = before.get(key);
    if (!old) diff.added.push({ name: r.name, arch: r.arch, to: evr(r), ...signed(r) });
    else {
      const c = compareEvr(r, old);
      if (c > 0) {
        const known = new Set(old.changelogs.map((e) => `${e.date}\0${e.author}\0${e.text}`));
        diff.upgraded.push({ name: r.name, arch: r.arch, from: evr(old), to: evr(r), changelog: r.changelogs.filter((e) => !known.has(`${e.date}\0${e.author}\0${e.text}`)), ...signed(r) });
      } else if (c < 0) diff.downgraded.push({ name: r.name, arch: r.arch, from: evr(old), to: evr(r), ...signed(r) });
    }
  }
  for (const [key, r] of before) if (!after.has(key)) diff.removed.push({ name: r.name, arch: r.arch, from: evr(r), ...signed(r) });
  for (const list of [diff.added, diff.removed, diff.upgraded, diff.downgraded]) list.sort((x, y) => (x.name < y.name ? -1 : x.name > y.name ? 1 : x.arch < y.arch ? -1 : 1));
  return diff;
}
