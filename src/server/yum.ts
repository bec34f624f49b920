// The read paths yum and dnf use (docs/design.md, "Interfaces"):
//
//   /repos/<repo>/snapshots/<id>/<href>   a snapshot: immutable
//   /repos/<repo>/tags/<tag>/<href>       follows the tag; a file of a snapshot the tag
//                                         pointed at within the grace window is still
//                                         served, so a client that read repomd.xml just
//                                         before a move finishes (invariant 4)
//   /repos/<repo>/at/<time>/<href>        where `latest` pointed at TIME
//   /sets/<set>/<repo>/<href>             the snapshot the set pins: immutable
//   /sets/<set>/repos.repo                a yum .repo file for the whole set
//   /repos/all_latest.json                {"latest_ci_repos": {"<repo>": "<snapshot URL>"}},
//                                         and "gpg": {"<repo>": checks} for signed repos;
//                                         ?tag=TAG: every repo's TAG instead of latest
//   /sets/<set>/all_latest.json           the same for the set's snapshots
//   /keys/<fingerprint>.asc               a public key: a snapshot signing key, or a key
//                                         a repository requires its packages signed by
//
// A path names a file by its href in the snapshot's catalog entry, never by a path on
// disk: nothing outside the store can be reached.

import type { IncomingMessage, ServerResponse } from 'node:http';
import { forTerminal } from '../common/index.ts';
import { isRepomdFile, REPOMD_SIGNATURE_HREF } from '../metadata/index.ts';
import { checkRepoName, checkTagName, isValidName, gpgChecks, gpgLines, parseTime, publicKeys, setMemberPath, snapshotPath, type GpgChecks, type SnapshotLookup } from '../snapshots/index.ts';
import { isSnapshotId, type Snapshot, type SnapshotFile, type Store } from '../store/index.ts';
import { serveFile } from './files.ts';
import { HttpError, sendJson, sendText } from './http.ts';
import type { SnapshotCache } from './snapshot-cache.ts';

export interface YumContext {
  store: Store;
  lookup: SnapshotLookup;
  /** The snapshots named by id (snapshot and at/ paths, and the one a tag names now), kept a moment (snapshot-cache.ts). */
  snapshots: SnapshotCache;
  /** How long files of a tag's earlier snapshots stay reachable under the tag. */
  graceMs: number;
  /** Base URL for absolute links (all_latest.json, repos.repo). */
  baseUrl(req: IncomingMessage): string;
  /** Whether baseUrl comes from the request's Host header (no --public-url): then no cache may keep what embeds it. */
  hostDerived: boolean;
  /** Redirect package downloads to the blob store's presigned URLs valid this long (s). */
  redirectSeconds?: number;
}

const IMMUTABLE = 'public, max-age=31536000, immutable';
const REVALIDATE = 'no-cache';
/** Files under moving paths other than repomd.xml: their hrefs are versioned, but not all. */
const SHORT = 'public, max-age=60';

function name<T>(check: (s: string) => T, s: string | undefined, what: string): T {
  if (s === undefined) throw new HttpError('not_found', `give a ${what}`);
  try {
    return check(s);
  } catch (e) {
    throw new HttpError('not_found', (e as Error).message);
  }
}

async function snapshotOf(ctx: YumContext, repo: string, id: string): Promise<Snapshot> {
  const s = isSnapshotId(id) ? await ctx.snapshots.get(repo, id) : undefined;
  if (!s) throw new HttpError('not_found', (await ctx.store.catalog.getRepo(repo)) ? `${repo} has no snapshot ${id}` : `no repository ${repo}`);
  return s;
}

/** An at/<time> path's snapshot: where latest pointed at TIME (404 for a bad time or none then). */
async function latestAt(ctx: YumContext, repo: string, given: string): Promise<{ id: string; time: string }> {
  let time: string;
  try {
    time = parseTime(given);
  } catch (e) {
    throw new HttpError('not_found', (e as Error).message);
  }
  const id = await ctx.store.catalog.tagAt(repo, 'latest', time);
  if (!id) throw new HttpError('not_found', `${repo} had no snapshot at ${time}`);
  return { id, time };
}

/** Serves `href` from the first of `snapshots` that has it (read lazily: in order, as needed). */
async function serveFrom(
  req: IncomingMessage,
  res: ServerResponse,
  ctx: YumContext,
  snapshots: Iterable<Snapshot> | AsyncIterable<Snapshot>,
  href: string,
  cacheControl: (f: SnapshotFile) => string,
): Promise<true> {
  if (!href) throw new HttpError('not_found', 'give a file of the repo, such as repodata/repomd.xml');
  const tried: string[] = [];
  for await (const s of snapshots) {
    const file = await ctx.lookup.find(s.id, href);
    if (file) return serveFound(req, res, ctx, s, file, cacheControl(file));
    tried.push(s.id);
  }
  throw new HttpError('not_found', `${href}: no such file in ${tried.length === 1 ? `snapshot ${tried[0]}` : 'the snapshots this path covers'}`);
}

/** A file found in snapshot `s`: the one way every read path sends it. */
async function serveFound(req: IncomingMessage, res: ServerResponse, ctx: YumContext, s: Snapshot, file: SnapshotFile, cacheControl: string): Promise<true> {
  await serveFile(req, res, ctx.store, file, { cacheControl, lastModified: s.createdAt, redirectSeconds: ctx.redirectSeconds });
  return true;
}

/** repomd.xml and its signature and keys change in place under a moving path: revalidated, together. */
const revalidateRepomd = (f: SnapshotFile) => (isRepomdFile(f.href) ? REVALIDATE : SHORT);

/** A file a read path names, found, with the snapshot it is of and how long it may be cached. */
export interface CurrentFile {
  snapshot: Snapshot;
  file: SnapshotFile;
  cacheControl: string;
}

/**
 * The common case of the read paths, in one place: a file of a snapshot path, or of
 * the snapshot a tag names now. Undefined for anything else: another path, a bad name,
 * a missing file, a file only a tag's earlier snapshot has (the grace window), which
 * serveYum answers in full. The fast lane (fast-lane.ts) answers what this finds.
 */
export async function currentFile(ctx: YumContext, segments: string[]): Promise<CurrentFile | undefined> {
  const [top, repo, b, c, ...rest] = segments;
  if (top !== 'repos' || repo === undefined || c === undefined || rest.length === 0 || !isValidName(repo)) return undefined;
  const href = rest.join('/');
  if (b === 'snapshots') {
    const snapshot = isSnapshotId(c) ? await ctx.snapshots.get(repo, c) : undefined;
    const file = snapshot && (await ctx.lookup.find(snapshot.id, href));
    return file ? { snapshot: snapshot!, file, cacheControl: IMMUTABLE } : undefined;
  }
  if (b === 'tags' && isValidName(c)) {
    // The tag is read anew on every request; the snapshot it names cannot change (gc
    // takes no tagged snapshot), so it comes from the cache of snapshots by id.
    const current = await ctx.store.catalog.getTag(repo, c);
    const snapshot = current && (await ctx.snapshots.get(repo, current.snapshot));
    const file = snapshot && (await ctx.lookup.find(snapshot.id, href));
    return file ? { snapshot: snapshot!, file, cacheControl: revalidateRepomd(file) } : undefined;
  }
  return undefined;
}

/** What a client of `snapshot` checks (client-config.ts). */
async function checksFor(ctx: YumContext, base: string, repo: string, snapshot: string, url: string): Promise<GpgChecks | undefined> {
  const signed = (await ctx.lookup.find(snapshot, REPOMD_SIGNATURE_HREF)) !== undefined;
  const packageKeys = (await ctx.store.catalog.getRepo(repo))?.requireSigned?.map((k) => k.fingerprint) ?? [];
  return gpgChecks(base, url, { signed, packageKeys });
}

/** /keys/<fingerprint>.asc: the armoured public key, if the store signs with it or a repository requires it. */
async function serveKey(res: ServerResponse, ctx: YumContext, file: string): Promise<void> {
  const fingerprint = /^([0-9a-f]{40}|[0-9a-f]{64})\.asc$/.exec(file)?.[1];
  if (!fingerprint) throw new HttpError('not_found', 'give /keys/<fingerprint>.asc, the fingerprint in lowercase hex');
  const key = (await publicKeys(ctx.store)).get(fingerprint);
  if (!key) throw new HttpError('not_found', `no key ${fingerprint}: the store neither signs with it nor requires it of a repository's packages`);
  sendText(res, 200, key, { 'content-type': 'application/pgp-keys', 'cache-control': SHORT });
}

/**
 * The caching of an answer with absolute links: as asked when they come from
 * --public-url; when they come from the Host header, which any client sets, no cache
 * keeps them (a proxy would hand one client's Host to everyone, for a year).
 */
function linkHeaders(ctx: YumContext, cacheControl: string): Record<string, string> {
  return ctx.hostDerived ? { 'cache-control': 'no-store', vary: 'host' } : { 'cache-control': cacheControl };
}

/** One parameter of the request's query string (a repeated one: its last value). */
function queryParameter(req: IncomingMessage, key: string): string | undefined {
  const query = (req.url ?? '').split('?')[1];
  return query === undefined ? undefined : (new URLSearchParams(query).get(key) ?? undefined);
}

/**
 * A mirror index in the shape the CI mirror client reads, {"latest_ci_repos": {"<repo>":
 * "<URL>"}}, with a `gpg` member for the repos whose clients check signatures
 * (client-config.ts), which `txrepo inject --mirrors` reads and that client ignores.
 */
async function sendMirrorIndex(req: IncomingMessage, res: ServerResponse, ctx: YumContext, entries: { repo: string; snapshot: string; path: string }[], cacheControl: string): Promise<void> {
  const base = ctx.baseUrl(req);
  const urls: Record<string, string> = {};
  const gpg: Record<string, GpgChecks> = {};
  for (const e of entries) {
    urls[e.repo] = base + e.path;
    const checks = await checksFor(ctx, base, e.repo, e.snapshot, urls[e.repo]);
    if (checks) gpg[e.repo] = checks;
  }
  sendJson(res, 200, { latest_ci_repos: urls, ...(Object.keys(gpg).length && { gpg }) }, linkHeaders(ctx, cacheControl));
}

/** Answers a read path; false if `segments` is not one. */
export async function serveYum(req: IncomingMessage, res: ServerResponse, ctx: YumContext, segments: string[]): Promise<boolean> {
  const { catalog } = ctx.store;
  const [top, a, b, c, ...rest] = segments;
  if (top === 'repos' && a === 'all_latest.json' && segments.length === 2) {
    // ?tag=TAG: every repository's TAG instead of latest (those without it are left out).
    const tag = name(checkTagName, queryParameter(req, 'tag') ?? 'latest', 'tag');
    const entries = [];
    for (const repo of await catalog.listRepos()) {
      const t = await catalog.getTag(repo.name, tag);
      if (t) entries.push({ repo: repo.name, snapshot: t.snapshot, path: snapshotPath(repo.name, t.snapshot) });
    }
    await sendMirrorIndex(req, res, ctx, entries, REVALIDATE);
    return true;
  }
  if (top === 'keys' && a !== undefined && segments.length === 2) {
    await serveKey(res, ctx, a);
    return true;
  }
  if (top === 'repos' && a !== undefined && b !== undefined && c !== undefined) {
    // The common case first: a file of a snapshot, or of a tag's current one.
    const found = await currentFile(ctx, segments);
    if (found) return serveFound(req, res, ctx, found.snapshot, found.file, found.cacheControl);
    const repo = name(checkRepoName, a, 'repository');
    const href = rest.join('/');
    // What is left is a missing file (answered as such) or an earlier snapshot's.
    if (b === 'snapshots') return serveFrom(req, res, ctx, [await snapshotOf(ctx, repo, c)], href, () => IMMUTABLE);
    if (b === 'tags') {
      const tag = name(checkTagName, c, 'tag');
      const current = await catalog.getTag(repo, tag);
      if (!current) throw new HttpError('not_found', (await catalog.getRepo(repo)) ? `${repo} has no tag ${tag}` : `no repository ${repo}`);
      // The current snapshot first; only for a file it lacks, those the tag left within
      // the grace window, newest first (repomd.xml is always the current one).
      async function* snapshots() {
        const seen = new Set([current!.snapshot]);
        const now = await ctx.snapshots.get(repo, current!.snapshot);
        if (now) yield now;
        // repomd.xml, its signature and keys: only the current snapshot's, or none (a
        // signature of another snapshot's repomd.xml would be a torn repo).
        if (isRepomdFile(href)) return;
        const since = new Date(Date.now() - ctx.graceMs).toISOString();
        for (const m of (await catalog.tagMovesSince(since)).reverse()) {
          if (m.repo !== repo || m.tag !== tag || !m.from || seen.has(m.from)) continue;
          seen.add(m.from);
          const s = await catalog.getSnapshot(repo, m.from);
          if (s) yield s;
        }
      }
      return serveFrom(req, res, ctx, snapshots(), href, revalidateRepomd);
    }
    if (!(await catalog.getRepo(repo))) throw new HttpError('not_found', `no repository ${repo}`);
    if (b === 'at') {
      const { id, time } = await latestAt(ctx, repo, c);
      const past = Date.parse(time) <= Date.now();
      return serveFrom(req, res, ctx, [await snapshotOf(ctx, repo, id)], href, (f) => (past ? IMMUTABLE : revalidateRepomd(f)));
    }
    return false;
  }
  if (top === 'sets' && a !== undefined && b !== undefined) {
    const set = await catalog.getSet(a);
    if (!set) throw new HttpError('not_found', `no set ${a}`);
    if (b === 'repos.repo' && c === undefined) {
      const base = ctx.baseUrl(req);
      // The label is checked when the set is made; escaped here too, for sets made before
      // that check: a line feed in it would start a section of its own.
      const lines = [`# txrepo set ${set.id}${set.label ? ` (${forTerminal(set.label)})` : ''}: one pinned snapshot per repository`];
      for (const m of set.members) {
        const url = base + setMemberPath(set.id, m.repo);
        const checks = await checksFor(ctx, base, m.repo, m.snapshot, url);
        lines.push('', `[${m.repo}]`, `name=${m.repo} (snapshot ${m.snapshot}, set ${set.id})`, `baseurl=${url}`, 'enabled=1', ...gpgLines(checks), 'proxy=_none_');
      }
      sendText(res, 200, lines.join('\n') + '\n', linkHeaders(ctx, IMMUTABLE));
      return true;
    }
    if (b === 'all_latest.json' && c === undefined) {
      const gone = [];
      for (const m of set.members) if (!(await catalog.getSnapshot(m.repo, m.snapshot))) gone.push(`${m.repo}@${m.snapshot}`);
      if (gone.length) throw new HttpError('gone', `set ${set.id}: gc has removed ${gone.join(', ')} since its lease ended; pin the snapshots again in a new set`);
      await sendMirrorIndex(req, res, ctx, set.members.map((m) => ({ ...m, path: setMemberPath(set.id, m.repo) })), IMMUTABLE);
      return true;
    }
    const member = set.members.find((m) => m.repo === b);
    if (!member) throw new HttpError('not_found', `set ${set.id} has no repository ${b}`);
    const snapshot = await catalog.getSnapshot(member.repo, member.snapshot);
    if (!snapshot) throw new HttpError('gone', `snapshot ${member.snapshot} of ${member.repo} is gone (removed by gc after set ${set.id}'s lease ended)`);
    return serveFrom(req, res, ctx, [snapshot], [c, ...rest].filter((x) => x !== undefined).join('/'), () => IMMUTABLE);
  }
  return false;
}

/** A directory of a snapshot tree, as a read path names it: which snapshot, which folder in it ('' for its root). */
export interface TreeDirectory {
  repo: string;
  snapshot: string;
  /** The folder, '' or ending in '/'. */
  dir: string;
}

/**
 * The snapshot and folder a directory path names (/repos/R/snapshots/ID/..., tags/TAG/,
 * at/TIME/, /sets/SET/R/...), read as the file paths are: a tag's current snapshot, the
 * snapshot `latest` had at TIME, the set's member. Undefined: not a tree path.
 */
export async function treeDirectory(ctx: YumContext, segments: string[]): Promise<TreeDirectory | undefined> {
  const { catalog } = ctx.store;
  const [top, a, b, c, ...rest] = segments;
  const dirOf = (parts: string[]) => parts.map((p) => `${p}/`).join('');
  if (top === 'repos' && a !== undefined && b !== undefined && c !== undefined) {
    const repo = name(checkRepoName, a, 'repository');
    if (b === 'snapshots') return { repo, snapshot: (await snapshotOf(ctx, repo, c)).id, dir: dirOf(rest) };
    if (!(await catalog.getRepo(repo))) throw new HttpError('not_found', `no repository ${repo}`);
    if (b === 'tags') {
      const current = await catalog.getTag(repo, name(checkTagName, c, 'tag'));
      if (!current) throw new HttpError('not_found', `${repo} has no tag ${c}`);
      return { repo, snapshot: current.snapshot, dir: dirOf(rest) };
    }
    if (b === 'at') return { repo, snapshot: (await latestAt(ctx, repo, c)).id, dir: dirOf(rest) };
    return undefined;
  }
  if (top === 'sets' && a !== undefined && b !== undefined && b !== 'repos.repo') {
    const set = await catalog.getSet(a);
    if (!set) throw new HttpError('not_found', `no set ${a}`);
    const member = set.members.find((m) => m.repo === b);
    if (!member) throw new HttpError('not_found', `set ${set.id} has no repository ${b}`);
    if (!(await catalog.getSnapshot(member.repo, member.snapshot))) throw new HttpError('gone', `snapshot ${member.snapshot} of ${member.repo} is gone (removed by gc after set ${set.id}'s lease ended)`);
    return { repo: member.repo, snapshot: member.snapshot, dir: dirOf([c, ...rest].filter((x) => x !== undefined)) };
  }
  return undefined;
}
