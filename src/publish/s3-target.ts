// A published tree under a prefix of an S3-compatible bucket (behind a CDN, or the
// bucket's own website endpoint): s3://BUCKET/PREFIX, with the settings and
// credentials of a store's --blobs (parseS3Url, docs/store.md).
//
// Object storage has no rename, but a PUT is whole or absent: an object shows its new
// content only once its upload succeeded. So a file is put under its final name, and
// checked (its ETag, S3's MD5 of a simple PUT, against the MD5 of what was sent, and a
// HEAD of its size and ETag before any switch); the switch is a PUT of repomd.xml's
// final bytes, after every file it lists is in place and checked.
//
// One publish at a time: a lock object (.txrepo-publish/lock) holding a lease, put
// with If-None-Match / If-Match where the server honours them, read back after a
// pause, renewed while the run lasts, and checked again just before each switch. A
// lease whose holder is dead (on this host) or expired is taken over. Its limits are
// in docs/publish.md.

import {
  DeleteObjectCommand,
  GetObjectCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdtemp, open, rm } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { crashPoint, processAlive } from '../common/index.ts';
import { s3Support, type S3Location } from '../store/index.ts';
import { cacheControlOf, copyVerified, PublishError, STATE_DIR, type Progress, type PublishedFile, type PublishSource, type PublishTarget } from './target.ts';
import { contentTypeOf } from '../metadata/index.ts';

type Support = Awaited<ReturnType<typeof s3Support>>;

/** The largest object one PUT may make (S3's limit). */
const MAX_PUT = 5 * 1024 ** 3;
/** How long a lock's lease lasts unless renewed, and how often the holder renews it. */
const LEASE_MS = 120_000;
const RENEW_MS = 30_000;
/** The pause between putting the lock and reading it back (a rival's PUT lands in it). */
const READ_BACK_MS = 500;
const LOCK = `${STATE_DIR}/lock`;

interface Lease {
  token: string;
  pid: number;
  host: string;
  started: string;
  expires: string;
}

interface Stored {
  size: number;
  etag: string;
}

const etagOf = (etag: string | undefined) => (etag ?? '').replace(/"/g, '').toLowerCase();

export class S3Target implements PublishTarget {
  readonly name: string;
  private readonly where: S3Location;
  private readonly client: S3Client;
  private readonly s3: Support;
  /** The prefix's objects (href → size), listed once, kept up to date by this run. */
  private listing: Map<string, number> | undefined;
  /** Objects put since the last settle(), with the ETag each PUT answered. */
  private readonly unsettled = new Map<string, Stored>();
  private lease: Lease | undefined;
  private renewal: NodeJS.Timeout | undefined;
  /** Why the lease was lost, once a renewal found another holder. */
  private lost: string | undefined;
  private staging: string | undefined;

  private constructor(url: string, where: S3Location, s3: Support) {
    this.name = url;
    this.where = where;
    this.s3 = s3;
    this.client = s3.s3ClientFor(where);
  }

  /** Opens s3://BUCKET/PREFIX (the bucket must exist and be reachable with the credentials given). */
  static async open(url: string): Promise<S3Target> {
    const s3 = await s3Support();
    let where: S3Location;
    try {
      where = s3.parseS3Url(url, 'publish target');
    } catch (e) {
      throw new PublishError((e as Error).message, 'invalid_input');
    }
    const target = new S3Target(url, where, s3);
    try {
      await target.client.send(new HeadBucketCommand({ Bucket: where.bucket }));
    } catch (e) {
      target.close();
      throw target.failure(e, 'cannot open the bucket');
    }
    return target;
  }

  /** What went wrong, said with the target and what the run was doing; an S3 error the store's mapping does not know is still named, as an io failure. */
  private failure(e: unknown, doing: string): unknown {
    if (e instanceof PublishError) return e;
    const mapped = this.s3.s3Failure(e, this.name, this.where, doing);
    const err = mapped as { name?: string; message?: string; $metadata?: { httpStatusCode?: number } };
    if (mapped === e && err?.$metadata) return new PublishError(`${this.name}: ${doing}: ${err.name} (HTTP ${err.$metadata.httpStatusCode}): ${err.message}`);
    return mapped;
  }

  private key(href: string): string {
    return this.where.prefix + href;
  }

  // --- the lock ---

  async lock(): Promise<void> {
    const held = await this.readLock();
    if (held && !this.stale(held.lease)) {
      const l = held.lease;
      throw new PublishError(
        `${this.name} is being published by txrepo (pid ${l.pid} on ${l.host}, since ${l.started}; its lease runs until ${l.expires}). Wait for that run to finish; if it is gone, wait for the lease to run out or delete ${this.key(LOCK)} from the bucket.`,
        'locked',
      );
    }
    const lease: Lease = { token: randomBytes(16).toString('hex'), pid: process.pid, host: hostname(), started: new Date().toISOString(), expires: '' };
    await this.putLease(lease, held ? { IfMatch: held.etag } : { IfNoneMatch: '*' });
    // Where the server ignores the conditions, a rival that read the same old lock
    // puts its own within moments: the one whose lease is there after the pause holds it.
    await sleep(READ_BACK_MS);
    const now = await this.readLock();
    if (now?.lease.token !== lease.token) {
      throw new PublishError(`${this.name}: another publish took the lock at the same moment (pid ${now?.lease.pid} on ${now?.lease.host}); try again once it is done`, 'locked');
    }
    this.lease = lease;
    this.staging = await mkdtemp(join(tmpdir(), 'txrepo-publish-'));
    this.renewal = setInterval(() => void this.renew(), RENEW_MS);
    this.renewal.unref();
  }

  private stale(l: Lease): boolean {
    return !(Date.parse(l.expires) > Date.now()) || (l.host === hostname() && !processAlive(l.pid));
  }

  private async readLock(): Promise<{ lease: Lease; etag: string } | undefined> {
    try {
      const out = await this.client.send(new GetObjectCommand({ Bucket: this.where.bucket, Key: this.key(LOCK) }));
      const text = await out.Body!.transformToString();
      let lease: Lease;
      try {
        lease = JSON.parse(text) as Lease;
      } catch {
        // Not ours to judge: a damaged lock is treated as expired.
        lease = { token: '', pid: 0, host: '', started: '', expires: '' };
      }
      return { lease, etag: out.ETag ?? '' };
    } catch (e) {
      if (this.s3.isMissing(e)) return undefined;
      throw this.failure(e, 'cannot read the lock');
    }
  }

  /** Puts the lease, its expiry set from now; a refused condition means another run holds the lock. */
  private async putLease(lease: Lease, condition: { IfMatch?: string; IfNoneMatch?: string }): Promise<void> {
    lease.expires = new Date(Date.now() + LEASE_MS).toISOString();
    const Body = Buffer.from(JSON.stringify(lease) + '\n');
    const put = (c: typeof condition) =>
      this.client.send(new PutObjectCommand({ Bucket: this.where.bucket, Key: this.key(LOCK), Body, ContentLength: Body.length, ContentType: 'application/json', CacheControl: 'no-store', ...c }));
    crashPoint('put', this.key(LOCK));
    try {
      await put(condition);
    } catch (e) {
      const status = (e as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
      if (status === 412 || status === 409) throw new PublishError(`${this.name}: another publish took the lock at the same moment; try again once it is done`, 'locked');
      // A server without conditional writes: the read-back decides.
      if (status === 501) await put({}).catch((e2: unknown) => Promise.reject(this.failure(e2, 'cannot take the lock')));
      else throw this.failure(e, 'cannot take the lock');
    }
  }

  private async renew(): Promise<void> {
    if (!this.lease || this.lost) return;
    try {
      const now = await this.readLock();
      if (now?.lease.token !== this.lease.token) {
        this.lost = `the lock was taken over (by pid ${now?.lease.pid} on ${now?.lease.host}) while this run held it`;
        return;
      }
      await this.putLease(this.lease, { IfMatch: now.etag });
    } catch (e) {
      // The next renewal, or the check before the switch, tries again.
      void e;
    }
  }

  /** Before a switch: this run still holds the lock (a run that lost it must not switch). */
  private async assertHeld(): Promise<void> {
    const now = await this.readLock();
    if (!this.lost && now?.lease.token !== this.lease?.token) this.lost = 'the lock is no longer this run\'s';
    if (this.lost) throw new PublishError(`${this.name}: ${this.lost}; nothing was switched`, 'locked');
  }

  async unlock(): Promise<void> {
    clearInterval(this.renewal);
    this.renewal = undefined;
    if (this.staging) await rm(this.staging, { recursive: true, force: true });
    this.staging = undefined;
    const mine = this.lease;
    this.lease = undefined;
    if (!mine) return;
    // Best effort: a lock left behind runs out with its lease, or is taken over.
    try {
      const now = await this.readLock();
      if (now?.lease.token === mine.token) {
        crashPoint('delete', this.key(LOCK));
        await this.client.send(new DeleteObjectCommand({ Bucket: this.where.bucket, Key: this.key(LOCK) }));
      }
    } catch {
      // see above
    }
  }

  // --- reading ---

  async size(href: string): Promise<number | undefined> {
    return (await this.list()).get(href);
  }

  /** The prefix's objects, listed once per run (one request per 1000 objects, not one per file). */
  private async list(): Promise<Map<string, number>> {
    if (this.listing) return this.listing;
    const listing = new Map<string, number>();
    let ContinuationToken: string | undefined;
    do {
      let page;
      try {
        page = await this.client.send(new ListObjectsV2Command({ Bucket: this.where.bucket, Prefix: this.where.prefix, ContinuationToken }));
      } catch (e) {
        throw this.failure(e, 'cannot list the tree');
      }
      for (const o of page.Contents ?? []) if (o.Key) listing.set(o.Key.slice(this.where.prefix.length), Number(o.Size ?? 0));
      ContinuationToken = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (ContinuationToken);
    this.listing = listing;
    return listing;
  }

  private async get(href: string): Promise<Readable | undefined> {
    try {
      const out = await this.client.send(new GetObjectCommand({ Bucket: this.where.bucket, Key: this.key(href) }));
      return out.Body as Readable;
    } catch (e) {
      if (this.s3.isMissing(e)) return undefined;
      throw this.failure(e, `cannot read ${href}`);
    }
  }

  async sha256(href: string): Promise<string | undefined> {
    const body = await this.get(href);
    if (!body) return undefined;
    const hash = createHash('sha256');
    for await (const chunk of body) hash.update(chunk as Buffer);
    return hash.digest('hex');
  }

  async read(href: string): Promise<Buffer | undefined> {
    const body = await this.get(href);
    if (!body) return undefined;
    const chunks: Buffer[] = [];
    for await (const chunk of body) chunks.push(chunk as Buffer);
    return Buffer.concat(chunks);
  }

  // --- writing ---

  async put(f: PublishedFile, source: PublishSource, progress: Progress): Promise<'written'> {
    if (f.size > MAX_PUT) throw new PublishError(`${f.href}: ${f.size} bytes, more than the 5 GiB one S3 PUT takes; publish to a directory and sync that instead`);
    // Staged on local disk first (verified against its sha256 as it comes): the PUT
    // must send exactly the bytes that were checked, with their MD5 up front.
    if (!this.staging) throw new Error('S3Target: the lock is not held');
    const temp = join(this.staging, `${process.pid}-${randomBytes(8).toString('hex')}`);
    const md5 = createHash('md5');
    const fh = await open(temp, 'wx', 0o600);
    try {
      try {
        await copyVerified(source, f, fh, temp, progress, (chunk) => md5.update(chunk));
      } finally {
        await fh.close();
      }
      await this.putObject(f.href, () => createReadStream(temp), f.size, md5.digest(), f.sha256);
    } finally {
      await rm(temp, { force: true });
    }
    return 'written';
  }

  /** One PUT under the file's final name, with its MD5 and SHA-256 for the server to check, and the ETag it answers checked. */
  private async putObject(href: string, body: () => Buffer | Readable, size: number, md5: Buffer, sha256: string): Promise<void> {
    crashPoint('put', this.key(href));
    let etag: string;
    try {
      const out = await this.client.send(
        new PutObjectCommand({
          Bucket: this.where.bucket,
          Key: this.key(href),
          Body: body(),
          ContentLength: size,
          ContentMD5: md5.toString('base64'),
          ChecksumSHA256: Buffer.from(sha256, 'hex').toString('base64'),
          ContentType: contentTypeOf(href),
          CacheControl: cacheControlOf(href),
        }),
      );
      etag = etagOf(out.ETag);
    } catch (e) {
      throw this.failure(e, `cannot put ${href}`);
    }
    // S3's ETag of a simple PUT is the MD5 of the object (not with SSE-KMS: then it is
    // no MD5, and the server's own Content-MD5 check is what there is).
    if (/^[0-9a-f]{32}$/.test(etag) && etag !== md5.toString('hex')) {
      // Damaged on the way: no generation may name it, so it goes (a later run puts it again).
      await this.client.send(new DeleteObjectCommand({ Bucket: this.where.bucket, Key: this.key(href) })).catch(() => {});
      this.listing?.delete(href);
      throw new PublishError(`${this.name}: ${href} was stored with ETag ${etag}, not the MD5 ${md5.toString('hex')} of what was sent (damaged on the way); it was deleted again and nothing was switched`);
    }
    this.listing?.set(href, size);
    this.unsettled.set(href, { size, etag });
  }

  async settle(): Promise<void> {
    for (const [href, want] of this.unsettled) {
      let head;
      try {
        head = await this.client.send(new HeadObjectCommand({ Bucket: this.where.bucket, Key: this.key(href) }));
      } catch (e) {
        if (this.s3.isMissing(e)) throw new PublishError(`${this.name}: ${href} is gone right after it was put; nothing was switched`);
        throw this.failure(e, `cannot check ${href}`);
      }
      if (Number(head.ContentLength) !== want.size || etagOf(head.ETag) !== want.etag) {
        throw new PublishError(`${this.name}: ${href} is ${head.ContentLength} bytes with ETag ${etagOf(head.ETag)}, not the ${want.size} bytes with ETag ${want.etag} just put (another writer?); nothing was switched`);
      }
    }
    this.unsettled.clear();
  }

  async replace(entries: { href: string; data: Buffer | undefined }[]): Promise<void> {
    await this.assertHeld();
    for (const { href, data } of entries) {
      if (data) await this.putObject(href, () => data, data.length, createHash('md5').update(data).digest(), createHash('sha256').update(data).digest('hex'));
      else await this.remove(href);
    }
    this.unsettled.clear();
  }

  async remove(href: string): Promise<boolean> {
    const there = (await this.list()).has(href);
    if (!there) return false;
    crashPoint('delete', this.key(href));
    try {
      await this.client.send(new DeleteObjectCommand({ Bucket: this.where.bucket, Key: this.key(href) }));
    } catch (e) {
      throw this.failure(e, `cannot delete ${href}`);
    }
    this.listing?.delete(href);
    return true;
  }

  close(): void {
    clearInterval(this.renewal);
    this.client.destroy();
  }
}
