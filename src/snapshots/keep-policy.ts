// The keep policy of a repository (`repo create --keep N`): of each name.arch, only the
// newest N builds (by epoch, version, release, as rpm compares them) stay in a
// snapshot. A deploy applies it to the new package list (commit.ts).

import { evrcmp } from '../rpm/index.ts';
import type { PackageIdentity } from '../store/index.ts';

/** Those of `items` the policy keeps: the newest `keep` builds of each name.arch, in their order. */
export function keptByPolicy<T extends { id: PackageIdentity }>(items: T[], keep: number): T[] {
  const groups = new Map<string, T[]>();
  for (const x of items) {
    const key = `${x.id.name}.${x.id.arch}`;
    const list = groups.get(key);
    if (list) list.push(x);
    else groups.set(key, [x]);
  }
  const kept = new Set<T>();
  for (const list of groups.values()) for (const x of list.sort((a, b) => evrcmp(b.id, a.id)).slice(0, keep)) kept.add(x);
  return items.filter((x) => kept.has(x));
}
