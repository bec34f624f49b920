// txrepo publish REPO@REF DIR|s3://BUCKET/PREFIX [--keep-md N] [--keep-days D] [--from URL]

import { integer, parse } from '../args.ts';
import { UsageError } from '../errors.ts';
import { progressBar, showsProgress } from '../progress.ts';
import { actor, LOCAL_HELP, LOCAL_OPTION, namesStore, openLocalStore } from '../store.ts';
import { print } from '../output.ts';

export const help = `Usage: txrepo publish REPO[@REF] DIR|s3://BUCKET/PREFIX [--keep-md N] [--keep-days D] [--from URL]

Brings the static yum tree DIR (served by a public web server), or the one under
s3://BUCKET/PREFIX (served by a CDN or web front of the bucket), to the snapshot REF
names (a snapshot id, a tag such as latest.tested, or TAG@TIME), keeping history:
the files of the last N metadata generations (and of those younger than D days) stay,
so clients with older cached metadata keep working. New files are written and
verified first, repodata/repomd.xml is switched last, and a run that changes nothing
is a no-op. One run at a time: DIR is locked (.repodata, like createrepo_c); a bucket
by a lock object with a lease (.txrepo-publish/lock).

An S3 target takes s3://BUCKET/PREFIX[?endpoint=URL&region=R&path-style=0|1] and the
AWS settings a store's --blobs does ($AWS_ACCESS_KEY_ID, $AWS_SECRET_ACCESS_KEY,
$AWS_REGION, $AWS_ENDPOINT_URL; see docs/publish.md).

Options:
      --keep-md N          metadata generations to keep, the new one included (default 10)
      --keep-days D        also keep generations published less than D days ago
      --from URL           read the snapshot from a txrepo server (default: the local
                           store); files are verified against their sha256
      --token TOKEN        with --from: the token a --private server wants for its
                           reads (default: $TXREPO_TOKEN)
  -q, --quiet              no progress bar (on stderr when it is a terminal: the bytes
                           of the files the tree lacks, as they are downloaded or copied)
${LOCAL_HELP}
  -h, --help               this help`;

const options = { ...LOCAL_OPTION, from: { type: 'string' }, token: { type: 'string' }, 'keep-md': { type: 'string' }, 'keep-days': { type: 'string' }, quiet: { type: 'boolean', short: 'q' } } as const;

export async function run(argv: string[]): Promise<number> {
  const { values: v, positionals } = parse('publish', argv, options);
  if (positionals.length !== 2) throw new UsageError('give REPO@REF and DIR or s3://BUCKET/PREFIX: txrepo publish REPO@REF DIR');
  const keepMd = integer('keep-md', v['keep-md'], 1, 100_000) ?? 10;
  const keepDays = integer('keep-days', v['keep-days'], 0, 100_000) ?? 0;
  if (v.from !== undefined && namesStore(v)) throw new UsageError('give --from or --store (with --catalog, --blobs), not both');
  const { parseRepoRef } = await import('../../snapshots/index.ts');
  const { openTarget, publish, serverSource, storeSource } = await import('../../publish/index.ts');
  const { repo, ref } = parseRepoRef(positionals[0]);
  const progress = progressBar(v.from !== undefined ? 'downloading files' : 'writing files', showsProgress(v), 'bytes');
  const opts = { keepMd, keepDays, onProgress: (done: number, total: number) => progress.update(done, total) };
  // The target first: a bad URL or a bucket out of reach fails before anything is read.
  const target = await openTarget(positionals[1]);
  let result;
  try {
    if (v.from !== undefined) {
      const { RemoteTxrepo } = await import('../../remote/index.ts');
      // A --private server wants a token for its reads too (--token, $TXREPO_TOKEN).
      const token = v.token ?? process.env.TXREPO_TOKEN;
      const tx = new RemoteTxrepo(v.from, { actor: actor(), token });
      result = await publish(await serverSource(tx, v.from, repo, ref, token), target, opts).finally(() => progress.finish());
    } else {
      const { LocalTxrepo } = await import('../../core/index.ts');
      const store = await openLocalStore(v, 'reads');
      const tx = new LocalTxrepo(store, actor());
      try {
        result = await publish(await storeSource(tx, store, repo, ref), target, opts).finally(() => progress.finish());
      } finally {
        await store.close();
      }
    }
  } finally {
    target.close();
  }
  print(v.json, result, () =>
    result.changed
      ? `published ${repo}@${result.snapshot} to ${result.dir}: ${result.written + result.linked} new files, ${result.removed} old ones removed, ${result.generations} metadata generations kept`
      : `${result.dir} already is ${repo}@${result.snapshot}: nothing to do`,
  );
  return 0;
}
