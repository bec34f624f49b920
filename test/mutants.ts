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
];
