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
    about: "invariant 1 (a blob's sha256 is its name): a local blob is stored under the digest the caller claims, unchecked",
    file: 'src/store/local-blobs.ts',
    from: '    if (expect?.digest && expect.digest !== info.digest) {',
    to: '    if (false) {',
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
    about: "invariant 4 (a tag names a snapshot of its repo): the catalog moves a tag to another repository's snapshot",
    file: 'src/store/sqlite-catalog.ts',
    from: "      if (!this.q('SELECT 1 FROM snapshots WHERE repo = ? AND id = ?').get(u.repo, u.to))",
    to: "      if (!this.q('SELECT 1 FROM snapshots WHERE id = ?').get(u.to))",
    tests: ['test/store/backends.test.ts'],
    testName: 'compare-and-swap across writers',
  },
  {
    id: 'inv5-ids',
    about: 'invariants 5 and 6 (ids never reused, snapshots never replaced): the next id ignores the last one given',
    file: 'src/store/sqlite-catalog.ts',
    from: '    const id = nextSnapshotId(now, last ? String(last.last_id) : undefined);',
    to: '    const id = nextSnapshotId(now, undefined);',
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
  {
    id: 'api-route-dropped',
    about: 'a route is dropped from the /api/v1 table (set keep): the server and the document lose it together',
    file: 'src/api/routes.ts',
    from: "  keepSet: { method: 'POST', path: '/sets/:set/keep',",
    to: "  keepSet_: { method: 'POST', path: '/sets/:set/keep',",
    tests: ['test/server/openapi.test.ts', 'test/server/semantics.test.ts'],
  },
  {
    id: 'api-route-undocumented',
    about: 'the server has an /api/v1 route that is not in the table, so not in the OpenAPI document',
    file: 'src/server/api.ts',
    from: '  await app.ready();\n  return app;',
    to: "  app.get(`${API_PREFIX}/extra`, async () => ({}));\n  await app.ready();\n  return app;",
    tests: ['test/server/openapi.test.ts'],
    testName: 'every route',
  },
  {
    id: 'api-body-unchecked',
    about: "request bodies are not checked against their route's schema",
    file: 'src/server/api.ts',
    from: '      schema: { ...(route.body && { body: route.body }),',
    to: '      schema: {',
    tests: ['test/server/server.test.ts'],
    testName: 'bad JSON',
  },
  {
    id: 'kind-wrong-status',
    about: 'a kind mapped to the wrong HTTP status: not_found answers 400',
    file: 'src/common/failures.ts',
    from: "  not_found: { type: 'not_found', http: 404 },",
    to: "  not_found: { type: 'not_found', http: 400 },",
    tests: ['test/cli/failure-kinds.test.ts'],
    testName: 'not_found',
  },
  {
    id: 'kind-wrong-type',
    about: 'a kind mapped to the wrong type: an upstream failure reported as unavailable',
    file: 'src/common/failures.ts',
    from: "  upstream: { type: 'upstream', http: 502 },",
    to: "  upstream: { type: 'unavailable', http: 502 },",
    tests: ['test/cli/failure-kinds.test.ts'],
    testName: 'upstream',
  },
  {
    id: 'retry-off',
    about: "a remote deploy does not upload again what the server no longer has (upload_missing's retry lost)",
    file: 'src/common/failures.ts',
    from: "  upload_missing: { type: 'invalid_input', http: 400, retry: 'upload-again' },",
    to: "  upload_missing: { type: 'invalid_input', http: 400 },",
    tests: ['test/cli/failure-kinds.test.ts'],
    testName: 'upload',
  },
  {
    id: 'advice-lost',
    about: "the CLI's advice is not added to a not-found message (the lower layers no longer carry it)",
    file: 'src/cli/advice.ts',
    from: '  return remedy ? `${e.message}; ${adviceFor(remedy)}` : e.message;',
    to: '  return e.message;',
    tests: ['test/cli/json.test.ts', 'test/cli/failure-kinds.test.ts'],
    testName: 'not found|not_found',
  },
];
