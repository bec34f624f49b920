// The bugs `npm run test:mutants` (scripts/mutants.ts) plants, one at a time, in a
// scratch copy of the tree, each with the tests that claim to catch it. Every one must
// be caught; docs/mutants.md is the last report.
//
// `from` must occur exactly once in `file`; it is replaced by `to`.

export interface Mutant {
  id: string;
  /** The bug, as a reader of the report would name it. */
  about: string;
  file: string;
  from: string;
  to: string;
  /** Test files to run (node --test). */
  tests: string[];
  /** Only the tests whose names match (--test-name-pattern). */
  testName?: string;
  /** Instead of tests: reliability scenarios to run at CI scale (--only). */
  reliability?: string;
}

export const MUTANTS: Mutant[] = [
  {
    id: 'crash-points-off',
    about: 'crash points ignore TXREPO_CRASH_AT and TXREPO_CRASH_TRACE (the reliability suite injects nothing)',
    file: 'src/common/crash.ts',
    from: '  if (!ACTIVE) return;',
    to: '  return;',
    tests: [],
    reliability: 'power-loss,crash',
  },
  {
    id: 'crash-points-off-unit',
    about: 'crash points off, against the unit kill tests',
    file: 'src/common/crash.ts',
    from: '  if (!ACTIVE) return;',
    to: '  return;',
    tests: ['test/snapshots/integrity.test.ts', 'test/createrepo/transactions.test.ts', 'test/sync/sync.test.ts'],
    testName: 'SIGKILL|killed',
  },
  {
    id: 'legacy-missingok',
    about: 'a MISSINGOK requires (rpm < 4.12 recommends) stays a requires',
    file: 'src/rpm/derive.ts',
    from: '    if (flags & Sense.MISSINGOK) {',
    to: '    if (false) {',
    tests: ['test/createrepo/fidelity.test.ts'],
    testName: '4\\.12',
  },
  {
    id: 'legacy-oldsuggests',
    about: 'the old SUGGESTS tag (rpm < 4.12 recommends and suggests) is ignored',
    file: 'src/rpm/derive.ts',
    from: '  collect(Tag.OLDSUGGESTSNAME,',
    to: '  if (0) collect(Tag.OLDSUGGESTSNAME,',
    tests: ['test/createrepo/fidelity.test.ts'],
    testName: '4\\.12',
  },
  {
    id: 'legacy-oldenhances',
    about: 'the old ENHANCES tag (rpm < 4.12 supplements and enhances) is ignored',
    file: 'src/rpm/derive.ts',
    from: '  collect(Tag.OLDENHANCESNAME,',
    to: '  if (0) collect(Tag.OLDENHANCESNAME,',
    tests: ['test/createrepo/fidelity.test.ts'],
    testName: '4\\.12',
  },
  {
    id: 'short-write',
    about: 'a download chunk is written with one write(2), which a filling disk may cut short',
    file: 'src/sync/download.ts',
    from: 'await writeAll(fh, chunk).catch(onDisk);',
    to: 'await fh.write(chunk).catch(onDisk);',
    tests: ['test/reliability/disk-regressions.test.ts'],
    testName: 'cut short',
  },
  {
    id: 'createrepo-no-lock',
    about: "createrepo takes over a live run's lock as if it were stale: two runs on one directory at once",
    file: 'src/createrepo/lock.ts',
    from: '      if (!stale && !opts.ignoreLock) {',
    to: '      if (false) {',
    tests: ['test/createrepo/transactions.test.ts'],
    testName: 'two runs at once',
  },
  {
    id: 'path-dot-segments',
    about: "the server lets '.' and '..' path segments through (docs/http-api.md promises 400)",
    file: 'src/server/http.ts',
    from: "    if (d === '.' || d === '..') throw",
    to: "    if (false) throw",
    tests: ['test/server/server.test.ts'],
    testName: 'traversal',
  },
  {
    id: 'sqlite-busy-handler',
    about: "a writer waits for another process's lock in SQLite's busy handler, in the server's only thread (reads wait with it)",
    file: 'src/store/sqlite-catalog.ts',
    from: '      const busy = this.tryBegin();',
    to: "      this.db.exec('BEGIN IMMEDIATE');\n      const busy = undefined;",
    tests: ['test/reliability/concurrency-regressions.test.ts'],
    testName: 'reads are answered',
  },
  {
    id: 'sync-reuse-any-size',
    about: 'sync reuses a stored blob whatever size the upstream lists for it (and records that size)',
    file: 'src/sync/sync.ts',
    from: 'await blobs.touch(p.pkgid, p.sizePackage)',
    to: 'await blobs.touch(p.pkgid)',
    tests: ['test/sync/sync.test.ts'],
    testName: 'another size',
  },
  // One per invariant of docs/store.md ("Invariants").
  {
    id: 'inv1-blob-name',
    about: "invariant 1 (a blob's sha256 is its name): a blob is stored under the digest the caller claims, unchecked (the check both blob stores use)",
    file: 'src/store/staged-blob.ts',
    from: '  if (expect?.digest && expect.digest !== info.digest) throw',
    to: '  if (false) throw',
    tests: ['test/store/store.test.ts', 'test/store/backends.test.ts'],
    testName: 'content-addressed',
  },
  {
    id: 'inv2-gc-referenced',
    about: "invariant 2 (a snapshot's files have their blobs): gc removes old blobs whether or not a snapshot refers to them",
    file: 'src/snapshots/gc.ts',
    from: '    if (referenced.has(b.digest) || b.usedAt >= since) continue;',
    to: '    if (b.usedAt >= since) continue;',
    tests: ['test/snapshots/sets-gc.test.ts'],
    testName: 'retention removes',
  },
  {
    id: 'inv3-open-checksum',
    about: "invariant 3 (repomd.xml's checksums match the files): a snapshot's repomd.xml lists the compressed file's digest as its open-checksum",
    file: 'src/snapshots/repodata.ts',
    from: "    openChecksum: { type: 'sha256', value: f.openDigest },",
    to: "    openChecksum: { type: 'sha256', value: f.digest },",
    tests: ['test/snapshots/deploy.test.ts'],
    testName: 'repodata equals what createrepo_c writes',
  },
  {
    id: 'inv4-tag-other-repo',
    about: "invariant 4 (a tag names a snapshot of its repo): the SQLite catalog finds a snapshot of another repository where a tag is to go",
    file: 'src/store/sqlite-catalog.ts',
    from: "    return this.q('SELECT 1 FROM snapshots WHERE repo = ? AND id = ?').get(repo, id) !== undefined;",
    to: "    return this.q('SELECT 1 FROM snapshots WHERE id = ?').get(id) !== undefined;",
    tests: ['test/store/backends.test.ts'],
    testName: 'compare-and-swap across writers',
  },
  {
    id: 'inv5-ids',
    about: 'invariants 5 and 6 (ids never reused, snapshots never replaced): the next id ignores the last one given',
    file: 'src/store/catalog-rules.ts',
    from: '  const id = nextSnapshotId(now, yield* step(tx.lastId()));',
    to: '  const id = nextSnapshotId(now, undefined);',
    tests: ['test/store/backends.test.ts', 'test/snapshots/deploy.test.ts'],
    testName: 'no duplicate id|parallel deploys',
  },
  {
    id: 'inv7-page-key',
    about: "invariant 7 (a page's key is the hash of its entries): the key leaves out the packages' digests",
    file: 'src/store/pages.ts',
    from: '  for (const p of packages) h.update(`${p.href}\\0${p.digest}\\0${p.size}\\n`);',
    to: '  for (const p of packages) h.update(`${p.href}\\0${p.size}\\n`);',
    tests: ['test/store/pages.test.ts', 'test/snapshots/deploy.test.ts'],
  },
  {
    id: 'inv8-live-sets',
    about: 'invariant 8 (gc keeps what a live set pins): gc plans to remove pinned snapshots',
    file: 'src/snapshots/gc.ts',
    from: '      if (!tagged.has(s.id) && !inGrace.has(s.id) && !live.has(s.id)) doomed.push(',
    to: '      if (!tagged.has(s.id) && !inGrace.has(s.id)) doomed.push(',
    tests: ['test/snapshots/sets-gc.test.ts'],
    testName: 'retention removes',
  },
  {
    id: 'inv9-audit',
    about: 'invariant 9 (every change has its audit row, in its transaction): the row of a change is not written',
    file: 'src/store/sqlite-catalog.ts',
    from: "      if (carries) this.insertAudit(audit.entry('ok'));",
    to: '      if (carries) void 0;',
    tests: ['test/server/server.test.ts', 'test/snapshots/sets-gc.test.ts'],
    testName: 'logged|gc and log',
  },
  // The catalog's rules (src/store/catalog-rules.ts), which both catalogs run: each is
  // caught in test/store/backends.test.ts on SQLite and, with TXREPO_TEST_PG, on PostgreSQL.
  {
    id: 'rules-commit-stale-parent',
    about: "a commit on a parent that is no longer latest goes through (a lost update)",
    file: 'src/store/catalog-rules.ts',
    from: '  if (latest !== c.parent) {',
    to: '  if (false) {',
    tests: ['test/store/backends.test.ts'],
    testName: 'two writers committing at once|compare-and-swap across writers',
  },
  {
    id: 'rules-tag-expect-ignored',
    about: "a tag move's compare-and-swap ignores --expect: two writers both win",
    file: 'src/store/catalog-rules.ts',
    from: '    if (current !== u.expect) throw',
    to: '    if (false) throw',
    tests: ['test/store/backends.test.ts'],
    testName: 'compare-and-swap across writers',
  },
  {
    id: 'rules-promote-backwards',
    about: 'a promotion moves a tag back in time without --force',
    file: 'src/store/catalog-rules.ts',
    from: '  if (backwards.length && !p.force) throw',
    to: '  if (false) throw',
    tests: ['test/store/backends.test.ts'],
    testName: 'promotion refused backwards',
  },
  {
    id: 'rules-promote-gone',
    about: "a promotion moves a tag to a set's snapshot that is gone",
    file: 'src/store/catalog-rules.ts',
    from: '    if (!(yield* step(tx.hasSnapshot(m.repo, m.snapshot)))) {',
    to: '    if (false) {',
    tests: ['test/store/backends.test.ts'],
    testName: 'a promotion needs every member',
  },
  {
    id: 'rules-released-extended',
    about: "a released set's lease is extended (or released again)",
    file: 'src/store/catalog-rules.ts',
    from: '  if (set.releasedAt) throw',
    to: '  if (false) throw',
    tests: ['test/store/backends.test.ts'],
    testName: 'stays released',
  },
  {
    id: 'rules-delete-pinned',
    about: 'a repository whose snapshots a live set pins is deleted',
    file: 'src/store/catalog-rules.ts',
    from: '  if (pinning.length) {',
    to: '  if (false) {',
    tests: ['test/store/backends.test.ts'],
    testName: 'is not deleted',
  },
  {
    id: 'rules-sweep-ignores-sets',
    about: "gc's sweep drops a snapshot a set pinned since gc planned",
    file: 'src/store/catalog-rules.ts',
    from: 'tagged.has(id) || pinned.has(id) || moved.has(id)',
    to: 'tagged.has(id) || moved.has(id)',
    tests: ['test/store/backends.test.ts'],
    testName: 'the sweep keeps what a set pins',
  },
  {
    id: 'rules-sweep-ignores-moves',
    about: "gc's sweep drops a snapshot a tag moved from within the grace window",
    file: 'src/store/catalog-rules.ts',
    from: 'tagged.has(id) || pinned.has(id) || moved.has(id)',
    to: 'tagged.has(id) || pinned.has(id)',
    tests: ['test/store/backends.test.ts'],
    testName: 'tag moved from lately',
  },
  {
    id: 'rules-claim-used-blob',
    about: 'gc claims for removal a blob a writer recorded a use of within the grace window',
    file: 'src/store/catalog-rules.ts',
    from: '    ...(yield* step(tx.usedAmong(unique, unusedSince))),\n',
    to: '',
    tests: ['test/store/backends.test.ts'],
    testName: 'the blob ledger',
  },
  // The staged writer and its checks (src/store/staged-blob.ts), which both blob stores
  // use: each caught on the local and the S3 blob store.
  {
    id: 'staged-size-unchecked',
    about: 'a blob written piece by piece is stored whatever its size, against the size the caller expects',
    file: 'src/store/staged-blob.ts',
    from: '  if (expect?.size !== undefined && expect.size !== info.size) throw',
    to: '  if (false) throw',
    tests: ['test/store/backends.test.ts'],
    testName: 'piece by piece',
  },
  {
    id: 'staged-taken-on-trust',
    about: "a staged file is stored under the digest the caller expects without being hashed, though the caller did not hash it",
    file: 'src/store/staged-blob.ts',
    from: '  return hashed && expect?.digest && expect.size !== undefined ?',
    to: '  return expect?.digest && expect.size !== undefined ?',
    tests: ['test/store/backends.test.ts'],
    testName: 'piece by piece',
  },
];
