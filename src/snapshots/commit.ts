// The commit loop. Every operation that makes a snapshot of a repository (deploy, sync,
// remove, copy) makes it the same way: a snapshot is the repo's
// latest snapshot (the parent) with a change applied to its package list. Read latest
// and its page list, apply the change to the pages it falls in, generate repodata, and
// commit in one transaction that checks latest still points at the parent
// (compare-and-swap); if another commit moved it first, start again on top of that one,
// so that concurrent commits all land and none is lost (docs/store.md, "Commit
// protocol", steps 3 to 6).

import { basename } from 'node:path';
import { checkXmlText } from '../common/index.ts';
import { isRepomdFile, type RepomdRecord } from '../metadata/index.ts';
import { type Catalog, ConflictError, type PackagePage, pageIndexOf, type PageRef, paginate, replacePages, repoOrFail, type Repository, type Snapshot, type SnapshotFile, type Store } from '../store/index.ts';
import { DeployInputError } from './deploy.ts';
import { snapshotPath } from './paths.ts';
import { inRepodata, refusedInRepodata, type IngestedPackage } from './ingest.ts';
import { keptByPolicy } from './keep-policy.ts';
import { generateRepodata } from './repodata.ts';
import { snapshotSigner } from './signing.ts';
import { requireSigned } from './package-policy.ts';

/** What an operation does to its parent's package list. */
export type ListChange =
  /**
   * Adds packages. One the list has under the same href with the same content is
   * already there; with other content, `sameHref` decides: 'refuse' (a deploy: a
   * rebuild needs a new release number) or 'replace' (a sync: the upstream's wins).
   */
  | { kind: 'add'; packages: IngestedPackage[]; sameHref: 'refuse' | 'replace' }
  /** The list becomes exactly `packages` (sync --mirror). */
  | { kind: 'replace'; packages: IngestedPackage[] }
  /** Takes the packages at these hrefs out (an href the list lacks is no change). */
  | { kind: 'remove'; hrefs: string[] };

/** A metadata file a snapshot carries beside those made from its packages: comps, updateinfo, ... */
export interface ExtraMetadata {
  record: RepomdRecord;
  file: SnapshotFile;
}

export interface CommitRequest {
  repo: string;
  change: ListChange;
  /** Apply the repo's keep policy to the new list (a deploy does; a mirror is its upstream as it is). */
  underPolicy?: boolean;
  /**
   * Keep only the newest N builds of each name.arch of the new list, whatever the change
   * (a sync with its filter's --newest: the repo keeps N versions as Pulp's
   * retain_package_versions does, also when a sync adds and when N was lowered).
   */
  newest?: number;
  /**
   * The snapshot's extra metadata (a sync: its upstream's); a change of them alone makes
   * a snapshot. Not inherited from the parent: without them (a deploy) there are none.
   */
  extras?: ExtraMetadata[];
  actor: string;
  /**
   * Only work out what the change would do (under the policies, the signature policy
   * included), and commit nothing: `--dry-run`.
   */
  dryRun?: boolean;
  /** The snapshot's message, or how to say what changed. */
  message: string | ((edit: ListEdit) => string);
}

/** What a change did to the package list: hrefs with new content, hrefs gone. */
export interface ListEdit {
  added: string[];
  removed: string[];
  /**
   * Hrefs the change brought that the repo's keep policy left out at once (an older
   * build than those kept): in neither list, since the list never had them.
   */
  notKept?: string[];
}

export interface CommitResult extends ListEdit {
  /** The snapshot made; undefined when the change changed nothing, and none was made. */
  snapshot?: Snapshot;
  /** The snapshot latest points at now. */
  latest: string;
  unchanged: boolean;
  path: string;
  /** Packages in `latest`. */
  packages: number;
}

/** The new package list, in pages: those of the parent it keeps, and new ones. */
interface NextList extends ListEdit {
  pages: (PageRef | PackagePage)[];
}

const count = (pages: PageRef[]) => pages.reduce((n, p) => n + p.count, 0);

/**
 * Commits a snapshot = the repo's latest with `change` applied, moving latest; builds
 * again on top of a concurrent commit. No snapshot when nothing changes.
 */
export async function commitOnLatest(store: Store, req: CommitRequest): Promise<CommitResult> {
  const repo = await repoOrFail(store.catalog, req.repo, { createRepo: req.repo });
  const change = incoming(req.change);
  for (let attempt = 0; ; attempt++) {
    const parent = (await store.catalog.getTag(req.repo, 'latest'))?.snapshot;
    const next = await applyChange(store, repo, parent ? await store.catalog.snapshotPages(parent) : [], change, req);
    if (change.kind !== 'remove') await requireSigned(store, repo, next.added.flatMap((href) => change.packages.get(href) ?? []));
    if (parent && (await changesNothing(store, parent, next, req.extras))) {
      return { latest: parent, unchanged: true, path: snapshotPath(req.repo, parent), packages: count(next.pages), added: [], removed: [], notKept: next.notKept ?? [] };
    }
    if (req.dryRun) {
      // What would change, on latest as it is now; latest stays.
      return { latest: parent ?? '', unchanged: true, path: parent ? snapshotPath(req.repo, parent) : '', packages: count(next.pages), added: next.added, removed: next.removed, notKept: next.notKept ?? [] };
    }
    try {
      return await commit(store, req, parent, next);
    } catch (e) {
      // Another commit moved latest first: build again on top of it.
      if (e instanceof ConflictError && attempt < 50) continue;
      throw e;
    }
  }
}

async function commit(store: Store, req: CommitRequest, parent: string | undefined, next: NextList): Promise<CommitResult> {
  const timestamp = Math.floor(Date.now() / 1000);
  const extras = req.extras ?? [];
  const repodata = await generateRepodata(store, next.pages, { timestamp, extra: extras.map((e) => e.record), signer: await snapshotSigner(store) });
  const snapshot = await store.catalog.commitSnapshot({
    repo: req.repo,
    parent,
    pages: next.pages,
    files: [...repodata.files, ...extras.map((e) => e.file)],
    packages: count(next.pages),
    repomd: repodata.repomd,
    actor: req.actor,
    message: typeof req.message === 'string' ? req.message : req.message(next),
    tags: ['latest'],
  });
  return { snapshot, latest: snapshot.id, unchanged: false, path: snapshotPath(req.repo, snapshot.id), packages: snapshot.packages, added: next.added, removed: next.removed, notKept: next.notKept ?? [] };
}

/** Neither the packages nor the extra metadata (when the request gives them) change. */
async function changesNothing(store: Store, parent: string, next: NextList, extras: ExtraMetadata[] | undefined): Promise<boolean> {
  if (next.added.length || next.removed.length) return false;
  if (!extras) return true;
  const signature = (files: SnapshotFile[]) => files.map((f) => `${f.href}\0${f.digest}`).sort().join('\n');
  const generated = (f: SnapshotFile) => /-(primary|filelists|other)\.xml(\.\w+)?$/.test(f.href) || isRepomdFile(f.href);
  const current = (await store.catalog.snapshotMetadata(parent)).filter((f) => !generated(f));
  return signature(extras.map((e) => e.file)) === signature(current);
}

/** A change whose packages are keyed by href. */
type Incoming =
  | { kind: 'add'; packages: Map<string, IngestedPackage>; sameHref: 'refuse' | 'replace' }
  | { kind: 'replace'; packages: Map<string, IngestedPackage> }
  | { kind: 'remove'; hrefs: Set<string> };

/**
 * The change's packages by href. Two different files under one href are refused where
 * the change refuses a different file under an href already there; else the last wins.
 */
function incoming(change: ListChange): Incoming {
  if (change.kind === 'remove') return { kind: 'remove', hrefs: new Set(change.hrefs) };
  const refuse = change.kind === 'add' && change.sameHref === 'refuse';
  const packages = new Map<string, IngestedPackage>();
  for (const p of change.packages) {
    // The last guard for every way in (deploy, sync, copy): the ways in refuse these first, naming their source.
    if (inRepodata(p.href)) throw new DeployInputError(`${p.source}: ${refusedInRepodata(p.href)}`);
    checkXmlText(p.href, `${p.source}: package href`);
    const same = packages.get(p.href);
    if (refuse && same && same.digest !== p.digest) throw new DeployInputError(`${p.source} and ${same.source}: two different files named ${basename(p.href)} in one deploy`);
    packages.set(p.href, p);
  }
  return { ...change, packages };
}

const entry = (p: IngestedPackage): SnapshotFile => ({ href: p.href, digest: p.digest, size: p.size, kind: 'package' });

async function applyChange(store: Store, repo: Repository, parent: PageRef[], change: Incoming, req: Pick<CommitRequest, 'underPolicy' | 'newest'>): Promise<NextList> {
  const next = change.kind === 'replace' ? await replaceList(store.catalog, parent, [...change.packages.values()].map(entry)) : await editPages(store.catalog, repo.name, parent, change);
  if (req.newest) return keepNewest(store.catalog, next, req.newest);
  // Nothing new, nothing for the policy to drop.
  return req.underPolicy && repo.keep && next.added.length ? keepNewest(store.catalog, next, repo.keep) : next;
}

/**
 * Adds or removes packages: only the pages the change falls in are read and cut again,
 * so the cost follows the change, not the size of the repo.
 */
async function editPages(catalog: Catalog, repo: string, parent: PageRef[], change: Exclude<Incoming, { kind: 'replace' }>): Promise<NextList> {
  const hrefs = change.kind === 'add' ? [...change.packages.keys()] : [...change.hrefs];
  const byPage = new Map<number, string[]>();
  for (const href of hrefs) {
    const i = pageIndexOf(parent, href);
    // Pushed, not copied: a first sync puts all of an upstream's hrefs in one page.
    const page = byPage.get(i);
    if (page) page.push(href);
    else byPage.set(i, [href]);
  }
  const loaded = await catalog.getPages([...byPage.keys()].filter((i) => i < parent.length).map((i) => parent[i].key));
  const changed = new Map<number, SnapshotFile[]>();
  const edit: ListEdit = { added: [], removed: [] };
  for (const [i, pageHrefs] of byPage) {
    const before = i < parent.length ? loaded.get(parent[i].key)! : [];
    const after = change.kind === 'add' ? addTo(before, pageHrefs.map((h) => change.packages.get(h)!), change.sameHref, repo, edit) : removeFrom(before, change.hrefs, edit);
    if (after !== before) changed.set(i, after);
  }
  await joinCutPages(catalog, parent, changed);
  return { pages: parent.length ? replacePages(parent, changed) : paginate(changed.get(0) ?? []), ...edit };
}

/** A page's packages with `packages` added: the same list when none is new. */
function addTo(page: SnapshotFile[], packages: IngestedPackage[], sameHref: 'refuse' | 'replace', repo: string, edit: ListEdit): SnapshotFile[] {
  const byHref = new Map(page.map((f, i) => [f.href, i]));
  let list = page;
  for (const p of packages) {
    const at = byHref.get(p.href);
    const existing = at === undefined ? undefined : list[at];
    if (existing?.digest === p.digest) continue;
    if (existing && sameHref === 'refuse') {
      throw new DeployInputError(
        `${basename(p.href)} is already in ${repo} with different content (sha256 ${existing.digest.slice(0, 12)}…, this one ${p.digest.slice(0, 12)}…): a rebuild needs a new release number`,
      );
    }
    if (list === page) list = [...page];
    if (at === undefined) list.push(entry(p));
    else list[at] = entry(p);
    edit.added.push(p.href);
  }
  return list;
}

/** A page's packages without those at `hrefs`: the same list when it has none of them. */
function removeFrom(page: SnapshotFile[], hrefs: Set<string>, edit: ListEdit): SnapshotFile[] {
  const kept = page.filter((f) => !hrefs.has(f.href));
  if (kept.length === page.length) return page;
  edit.removed.push(...page.filter((f) => hrefs.has(f.href)).map((f) => f.href));
  return kept;
}

/**
 * A page ends after a package whose href ends pages (pages.ts): a page that lost its
 * last package no longer ends there, and runs on into the next page, which is cut
 * again with it. Each such run goes into `changed` under its first page (the others
 * emptied), so that cutting it gives exactly the pages a full cut would.
 */
async function joinCutPages(catalog: Catalog, parent: PageRef[], changed: Map<number, SnapshotFile[]>): Promise<void> {
  for (const i of [...changed.keys()].sort((a, b) => a - b)) {
    let run = changed.get(i)!;
    for (let j = i; j + 1 < parent.length && run.length !== 0 && !run.some((f) => f.href === parent[j].last); j++) {
      run = [...run, ...(changed.get(j + 1) ?? (await catalog.getPages([parent[j + 1].key])).get(parent[j + 1].key)!)];
      changed.set(j + 1, []);
    }
    changed.set(i, run);
  }
}

/** The list becomes `packages`: the pages it shares with the parent are kept as they are. */
async function replaceList(catalog: Catalog, parent: PageRef[], packages: SnapshotFile[]): Promise<NextList> {
  const pages = paginate(packages);
  const kept = new Set(pages.map((p) => p.key));
  const before = new Set(parent.map((p) => p.key));
  // What changed is in the pages only one of the two lists has.
  const gone = await packagesOf(catalog, parent.filter((p) => !kept.has(p.key)));
  const fresh = pages.filter((p) => !before.has(p.key)).flatMap((p) => p.packages);
  const old = new Map(gone.map((f) => [f.href, f.digest]));
  const now = new Set(fresh.map((f) => f.href));
  return { pages, added: fresh.filter((f) => old.get(f.href) !== f.digest).map((f) => f.href), removed: gone.filter((f) => !now.has(f.href)).map((f) => f.href) };
}

/** The packages of a list of pages, loading those given by reference only. */
async function packagesOf(catalog: Catalog, pages: (PageRef | PackagePage)[]): Promise<SnapshotFile[]> {
  const loaded = await catalog.getPages(pages.filter((p) => !('packages' in p)).map((p) => p.key));
  return pages.flatMap((p) => ('packages' in p ? p.packages : loaded.get(p.key)!));
}

/**
 * The repo's keep policy looks at every build of a name.arch, wherever its pages are:
 * this reads the whole package list, and cuts it afresh when the policy drops any.
 */
async function keepNewest(catalog: Catalog, next: NextList, keep: number): Promise<NextList> {
  const all = await packagesOf(catalog, next.pages);
  const identities = await catalog.getPackageIdentities([...new Set(all.map((f) => f.digest))]);
  const kept = new Set(keptByPolicy(all.map((f) => ({ file: f, id: identities.get(f.digest)! })), keep).map((x) => x.file));
  const dropped = all.filter((f) => !kept.has(f)).map((f) => f.href);
  if (!dropped.length) return next;
  // A build the change brought and the policy dropped at once was never in the list:
  // it is neither added nor removed (and, alone, makes no snapshot).
  const added = new Set(next.added);
  const notKept = dropped.filter((h) => added.has(h));
  return {
    pages: paginate(all.filter((f) => kept.has(f))),
    added: next.added.filter((h) => !notKept.includes(h)),
    removed: [...next.removed, ...dropped.filter((h) => !added.has(h))],
    notKept,
  };
}
