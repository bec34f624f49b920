// Blobs in S3-compatible object storage: s3://BUCKET/PREFIX, the prefix laid out as a
// local store's blob directory (blob-layout.ts).
//
// What makes it a blob store:
// - A blob is whole or absent: S3 shows an object only once its PUT (or the completion
//   of its multipart upload) succeeded. Content is staged in the store's local tmp/
//   first, since its key is its digest, known only once it has all been read.
// - Checksums are verified end to end: each PUT and part carries its Content-MD5 (the
//   server refuses a body that does not match), a single PUT also its SHA-256, and the
//   ETag the server answers is checked against the MD5s (where it is one: not with
//   SSE-KMS). A blob whose upload does not verify is deleted and the write fails.
// - gc cannot take a blob a writer is reusing: object storage has no rename, so the
//   catalog's blob ledger arbitrates (catalog.ts, BlobLedger; docs/store.md).

import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CopyObjectCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  ListMultipartUploadsCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, open, readdir, readFile, rename, rm, unlink, utimes, writeFile, type FileHandle } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { atPath } from '../common/index.ts';
import { blobAt, blobPath, BLOBS_DIR, fanOut, quarantinePath } from './blob-layout.ts';
import { BlobDamagedError, BlobMismatchError, putStreamWith, sweepStagingDir, type BlobBatch, type BlobInfo, type BlobStore, type BlobWriter, type Expected, type LocalCopy } from './blobs.ts';
import { StoreError, type BlobLedger } from './catalog.ts';
import { checkBlob, hashFile, StagedBlob, vouchedFor } from './staged-blob.ts';

/** Blobs up to this size go in one PUT; larger ones in parts of this size. */
const PART_SIZE = 16 << 20;
/** Parts of one blob uploaded at once. */
const PART_CONCURRENCY = 4;
/** Blobs up to this size, read whole, are cached on local disk. */
const CACHED_MAX = 8 << 20;

export interface S3Location {
  bucket: string;
  /** '' or ending in '/'. */
  prefix: string;
  endpoint?: string;
  region: string;
  pathStyle: boolean;
}

/**
 * s3://BUCKET/PREFIX[?endpoint=URL&region=R&path-style=0|1]. The endpoint defaults to
 * $AWS_ENDPOINT_URL_S3 or $AWS_ENDPOINT_URL (else AWS itself), the region to
 * $AWS_REGION or $AWS_DEFAULT_REGION (else us-east-1); path-style addressing is on
 * with an endpoint of one's own (most S3-compatible servers want it). Credentials come
 * from the usual AWS settings ($AWS_ACCESS_KEY_ID and $AWS_SECRET_ACCESS_KEY, a
 * profile, an instance role). `what` names the setting in messages ('--blobs').
 */
export function parseS3Url(url: string, what: string): S3Location {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new StoreError(`${what} ${JSON.stringify(url)}: not a URL; give s3://BUCKET/PREFIX`);
  }
  if (u.protocol !== 's3:') throw new StoreError(`${what} ${url}: not an s3:// URL; give s3://BUCKET/PREFIX`);
  const bucket = u.hostname;
  if (!/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(bucket)) throw new StoreError(`${what} ${url}: ${JSON.stringify(bucket)} is not an S3 bucket name (3-63 lower-case letters, digits, dots and hyphens)`);
  const path = decodeURIComponent(u.pathname).replace(/^\/+|\/+$/g, '');
  if (path.split('/').some((p) => p === '.' || p === '..') || /[\x00-\x1f\\]/.test(path)) throw new StoreError(`${what} ${url}: the prefix ${JSON.stringify(path)} has '.', '..', control characters or backslashes`);
  const endpoint = u.searchParams.get('endpoint') ?? process.env.AWS_ENDPOINT_URL_S3 ?? process.env.AWS_ENDPOINT_URL ?? undefined;
  if (endpoint !== undefined && !/^https?:\/\/[^/]/.test(endpoint)) throw new StoreError(`${what} ${url}: endpoint ${JSON.stringify(endpoint)} is not an http(s) URL`);
  const style = u.searchParams.get('path-style');
  if (style !== null && style !== '0' && style !== '1') throw new StoreError(`${what} ${url}: path-style is 0 or 1, not ${JSON.stringify(style)}`);
  for (const k of u.searchParams.keys()) {
    if (!['endpoint', 'region', 'path-style'].includes(k)) throw new StoreError(`${what} ${url}: unknown parameter ${JSON.stringify(k)} (known: endpoint, region, path-style)`);
  }
  return {
    bucket,
    prefix: path ? `${path}/` : '',
    endpoint,
    region: u.searchParams.get('region') ?? process.env.AWS_REGION ?? process.env.AWS_DEFAULT_REGION ?? 'us-east-1',
    pathStyle: style === null ? endpoint !== undefined : style === '1',
  };
}

/** The --blobs URL of a store (parseS3Url). */
export function parseBlobsUrl(url: string): S3Location {
  try {
    return parseS3Url(url, '--blobs');
  } catch (e) {
    if (e instanceof StoreError && /not an s3:\/\/ URL/.test(e.message)) throw new StoreError(`${e.message} (or leave it out for the store's own blob directory)`, e.kind);
    throw e;
  }
}

/** A client for `where`, with checksums left to the caller. */
export function s3ClientFor(where: S3Location): S3Client {
  return new S3Client({
    region: where.region,
    endpoint: where.endpoint,
    forcePathStyle: where.pathStyle,
    // Checksums are the caller's (Content-MD5, SHA-256, ETag): no aws-chunked
    // trailers, which not every S3-compatible server reads.
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  });
}

/** Whether an S3 failure says the object (or bucket) is not there. */
export const isMissing = (e: unknown) => {
  const err = e as { name?: string; $metadata?: { httpStatusCode?: number } };
  return err?.name === 'NotFound' || err?.name === 'NoSuchKey' || err?.$metadata?.httpStatusCode === 404;
};

/**
 * S3's failures to reach the bucket, as StoreErrors that say what to check; any other
 * failure as it was. `where` names the setting and URL, `doing` what failed.
 */
export function s3Failure(e: unknown, where: string, location: S3Location, doing: string): unknown {
  const err = e as { name?: string; code?: string; message?: string; $metadata?: { httpStatusCode?: number } };
  const status = err?.$metadata?.httpStatusCode;
  const cause = (err as { cause?: { code?: string } })?.cause?.code ?? err?.code;
  if (cause === 'ECONNREFUSED' || cause === 'ENOTFOUND' || cause === 'EAI_AGAIN' || cause === 'ETIMEDOUT' || cause === 'EHOSTUNREACH' || err?.name === 'TimeoutError') {
    return new StoreError(`${where}: ${doing}: cannot reach the S3 endpoint ${location.endpoint ?? '(AWS)'} (${cause ?? err?.name}); is it running, and is the endpoint right?`);
  }
  if (err?.name === 'NoSuchBucket' || (status === 404 && doing === 'cannot open the bucket')) return new StoreError(`${where}: ${doing}: no bucket ${location.bucket}; create it first`);
  if (status === 403 || ['AccessDenied', 'InvalidAccessKeyId', 'SignatureDoesNotMatch', 'Forbidden'].includes(err?.name ?? '')) {
    return new StoreError(`${where}: ${doing}: access denied (${err?.name}); check AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and the bucket's policy`);
  }
  if (err?.name === 'CredentialsProviderError') return new StoreError(`${where}: ${doing}: no AWS credentials (${err.message}); set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or a profile`);
  return e;
}

const md5 = (data: Uint8Array) => createHash('md5').update(data).digest();

/** Records blob uses in the ledger in batches: a sync reuses thousands at once. */
class UseRecorder {
  private pending = new Map<string, ((removing: boolean) => void)[]>();
  private failures = new Map<string, ((e: unknown) => void)[]>();
  private timer: NodeJS.Timeout | undefined;
  private readonly ledger: BlobLedger;
  constructor(ledger: BlobLedger) {
    this.ledger = ledger;
  }

  /** Resolves whether gc has claimed the blob for removal. */
  record(digest: string): Promise<boolean> {
    return new Promise((resolve, reject) => {
      if (!this.pending.has(digest)) {
        this.pending.set(digest, []);
        this.failures.set(digest, []);
      }
      this.pending.get(digest)!.push(resolve);
      this.failures.get(digest)!.push(reject);
      if (this.pending.size >= 1000) this.flush();
      else this.timer ??= setTimeout(() => this.flush(), 5);
    });
  }

  private flush(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    const pending = this.pending;
    const failures = this.failures;
    this.pending = new Map();
    this.failures = new Map();
    this.ledger.recordBlobUses([...pending.keys()]).then(
      (removing) => {
        const claimed = new Set(removing);
        for (const [d, done] of pending) for (const f of done) f(claimed.has(d));
      },
      (e) => {
        for (const fails of failures.values()) for (const f of fails) f(e);
      },
    );
  }
}

export class S3BlobStore implements BlobStore {
  private readonly client: S3Client;
  private readonly where: S3Location;
  private readonly url: string;
  private readonly tmp: string;
  /** Small blobs read whole (rendered repodata pages, mostly), kept on local disk. */
  private readonly cache: string;
  private readonly ledger: BlobLedger;
  private readonly uses: UseRecorder;

  private constructor(url: string, where: S3Location, tmp: string, ledger: BlobLedger) {
    this.url = url;
    this.where = where;
    this.tmp = tmp;
    this.cache = join(dirname(tmp), 'cache');
    this.ledger = ledger;
    this.uses = new UseRecorder(ledger);
    this.client = s3ClientFor(where);
  }

  /** Opens the bucket (it must exist and be reachable with the credentials given). */
  static async open(url: string, stagingDir: string, ledger: BlobLedger): Promise<S3BlobStore> {
    const store = new S3BlobStore(url, parseBlobsUrl(url), stagingDir, ledger);
    await mkdir(stagingDir, { recursive: true });
    try {
      await store.client.send(new HeadBucketCommand({ Bucket: store.where.bucket }));
    } catch (e) {
      store.client.destroy();
      throw store.failure(e, 'cannot open the bucket');
    }
    return store;
  }

  /** S3's failures to reach the bucket, as StoreErrors that say what to check. */
  private failure(e: unknown, doing: string): unknown {
    return s3Failure(e, `--blobs ${this.url}`, this.where, doing);
  }

  private key(digest: string): string {
    return `${this.where.prefix}${blobPath(digest)}`;
  }

  localPath(): undefined {
    return undefined;
  }

  stagingPath(): string {
    return join(this.tmp, `${process.pid}-${randomBytes(8).toString('hex')}`);
  }

  async stat(digest: string): Promise<BlobInfo | undefined> {
    try {
      const head = await this.client.send(new HeadObjectCommand({ Bucket: this.where.bucket, Key: this.key(digest) }));
      return { digest, size: Number(head.ContentLength ?? 0) };
    } catch (e) {
      if (isMissing(e)) return undefined;
      throw this.failure(e, `cannot look up blob ${digest}`);
    }
  }

  touch(digest: string, size?: number): Promise<boolean> {
    return this.reuse(digest, size);
  }

  /**
   * Relies on a stored blob (true), after recording its use in the ledger; false if it
   * is absent, damaged, or being removed by gc (the caller stores it again: once the
   * removal is over, so that gc's delete cannot take the new copy). The use is
   * recorded before the blob is looked at: a gc that claims it later sees the use and
   * leaves it; one that removed it already has left nothing to look at. Without
   * `size`, any size will do (a touch() of a caller that knows none).
   */
  private async reuse(digest: string, size?: number): Promise<boolean> {
    if (await this.uses.record(digest)) {
      for (let pause = 20; (await this.ledger.blobRemovalsPending([digest])).length; pause = Math.min(pause * 2, 500)) await sleep(pause);
      return false;
    }
    const st = await this.stat(digest);
    return st !== undefined && (size === undefined || st.size === size);
  }

  async putBytes(data: Uint8Array, expect?: Expected, name = 'blob'): Promise<BlobInfo> {
    const info = checkBlob({ digest: createHash('sha256').update(data).digest('hex'), size: data.length }, expect, name);
    if (await this.reuse(info.digest, info.size)) return info;
    if (data.length <= PART_SIZE) await this.putObject(info, Buffer.from(data.buffer, data.byteOffset, data.byteLength));
    else {
      const temp = this.stagingPath();
      try {
        await pipeline(Readable.from([data]), createWriteStream(temp, { flags: 'wx' }));
        await this.uploadFile(temp, info);
      } finally {
        await rm(temp, { force: true });
      }
    }
    return info;
  }

  async create(): Promise<BlobWriter> {
    const staged = await StagedBlob.create(this.stagingPath(), 0o600);
    return {
      write: (data) => staged.write(data),
      commit: async (expect) => {
        try {
          await staged.close();
          const info = staged.written(expect);
          if (!(await this.reuse(info.digest, info.size))) await this.uploadFile(staged.path, info);
          return info;
        } finally {
          await staged.remove();
        }
      },
      abort: () => staged.abort(),
    };
  }

  putStream(source: Readable, expect?: Expected): Promise<BlobInfo> {
    return putStreamWith(() => this.create(), source, expect);
  }

  async putFile(path: string, expect?: Expected): Promise<BlobInfo> {
    // Content already stored under the digest the caller read is not read again: the
    // object is that content (a deploy of a repo it has mostly seen reads nothing twice).
    if (expect?.digest && expect.size !== undefined && (await this.reuse(expect.digest, expect.size))) return { digest: expect.digest, size: expect.size };
    // Staged first: the upload must send exactly the bytes that were hashed, even if
    // the user's file changes meanwhile.
    const temp = this.stagingPath();
    try {
      await pipeline(createReadStream(path), createWriteStream(temp, { flags: 'wx' }));
    } catch (e) {
      await rm(temp, { force: true });
      throw e;
    }
    return this.adopt(temp, expect);
  }

  async adopt(path: string, expect?: Expected, opts: { hashed?: boolean } = {}): Promise<BlobInfo> {
    try {
      const info = vouchedFor(expect, opts.hashed) ?? checkBlob(await hashFile(path), expect, path);
      if (!(await this.reuse(info.digest, info.size))) await this.uploadFile(path, info);
      return info;
    } finally {
      await unlink(path).catch(() => {});
    }
  }

  /** An acknowledged PUT is durable already: nothing is left for flush() to do. */
  batch(): BlobBatch {
    return { adopt: (path, expect, opts) => this.adopt(path, expect, opts), putBytes: (data, expect, opts) => this.putBytes(data, expect, opts?.name), touch: (digest, size) => this.touch(digest, size), flush: async () => {}, discard: async () => {} };
  }

  /** One PUT, with the body's MD5 and SHA-256 for the server to check, and its ETag checked. */
  private async putObject(info: BlobInfo, body: Buffer): Promise<void> {
    const digestMd5 = md5(body);
    let etag: string | undefined;
    try {
      const out = await this.client.send(
        new PutObjectCommand({
          Bucket: this.where.bucket,
          Key: this.key(info.digest),
          Body: body,
          ContentLength: body.length,
          ContentMD5: digestMd5.toString('base64'),
          ChecksumSHA256: Buffer.from(info.digest, 'hex').toString('base64'),
          ContentType: 'application/octet-stream',
        }),
      );
      etag = out.ETag;
    } catch (e) {
      throw this.failure(e, `cannot store blob ${info.digest}`);
    }
    await this.checkEtag(info, etag, digestMd5.toString('hex'));
  }

  /** A staged file as a blob: one PUT, or a multipart upload aborted on any failure. */
  private async uploadFile(path: string, info: BlobInfo): Promise<void> {
    if (info.size <= PART_SIZE) {
      const fh = await open(path, 'r');
      try {
        await this.putObject(info, await readExactly(fh, 0, info.size, path));
      } finally {
        await fh.close();
      }
      return;
    }
    const Bucket = this.where.bucket;
    const Key = this.key(info.digest);
    let UploadId: string | undefined;
    try {
      UploadId = (await this.client.send(new CreateMultipartUploadCommand({ Bucket, Key, ContentType: 'application/octet-stream' }))).UploadId;
    } catch (e) {
      throw this.failure(e, `cannot store blob ${info.digest}`);
    }
    const count = Math.ceil(info.size / PART_SIZE);
    const parts: { PartNumber: number; ETag: string | undefined; md5: Buffer }[] = new Array(count);
    const fh = await open(path, 'r');
    try {
      let next = 0;
      const worker = async () => {
        while (next < count) {
          const i = next++;
          const start = i * PART_SIZE;
          const body = await readExactly(fh, start, Math.min(PART_SIZE, info.size - start), path);
          const sum = md5(body);
          const out = await this.client.send(new UploadPartCommand({ Bucket, Key, UploadId, PartNumber: i + 1, Body: body, ContentLength: body.length, ContentMD5: sum.toString('base64') }));
          parts[i] = { PartNumber: i + 1, ETag: out.ETag, md5: sum };
        }
      };
      await Promise.all(Array.from({ length: Math.min(PART_CONCURRENCY, count) }, worker));
      const done = await this.client.send(
        new CompleteMultipartUploadCommand({ Bucket, Key, UploadId, MultipartUpload: { Parts: parts.map(({ PartNumber, ETag }) => ({ PartNumber, ETag })) } }),
      );
      // S3 answers the MD5 of the parts' MD5s, suffixed with their count; some
      // compatible servers the MD5 of the whole object.
      const whole = /^"?[0-9a-f]{32}"?$/i.test(done.ETag ?? '') ? await fileMd5(path) : undefined;
      await this.checkEtag(info, done.ETag, whole ?? `${md5(Buffer.concat(parts.map((p) => p.md5))).toString('hex')}-${count}`);
    } catch (e) {
      await this.client.send(new AbortMultipartUploadCommand({ Bucket, Key, UploadId })).catch(() => {});
      throw e instanceof BlobMismatchError ? e : this.failure(e, `cannot store blob ${info.digest}`);
    } finally {
      await fh.close();
    }
  }

  /** The server's ETag against the MD5s sent, where the ETag is one (not with SSE-KMS). */
  private async checkEtag(info: BlobInfo, etag: string | undefined, expected: string): Promise<void> {
    const got = (etag ?? '').replace(/"/g, '').toLowerCase();
    if (!/^[0-9a-f]{32}(-\d+)?$/.test(got) || got === expected) return;
    await this.client.send(new DeleteObjectCommand({ Bucket: this.where.bucket, Key: this.key(info.digest) })).catch(() => {});
    throw new BlobMismatchError(`--blobs ${this.url}: blob ${info.digest} was stored with ETag ${got}, not the ${expected} of what was sent; it was deleted again`);
  }

  async read(digest: string, range?: { start: number; end: number }): Promise<Buffer | undefined> {
    // A blob never changes: one read whole before is read from the local cache. Every
    // deploy reads all the rendered pages of its repo, so this saves a repo's worth of
    // requests per deploy. A cached blob is the content its name says (hashed when
    // cached), so it stays right even if gc removed the object since.
    const cached = range ? undefined : await this.fromCache(digest);
    if (cached) return cached;
    try {
      const out = await this.client.send(new GetObjectCommand({ Bucket: this.where.bucket, Key: this.key(digest), Range: range ? `bytes=${range.start}-${range.end - 1}` : undefined }));
      const data = Buffer.from(await out.Body!.transformToByteArray());
      if (range && data.length !== range.end - range.start) throw new Error(`blob ${digest} is shorter than ${range.end} bytes`);
      if (!range && data.length <= CACHED_MAX && !(await this.toCache(digest, data))) return undefined;
      return data;
    } catch (e) {
      if (isMissing(e)) return undefined;
      throw this.failure(e, `cannot read blob ${digest}`);
    }
  }

  private cachePath(digest: string): string {
    return join(this.cache, fanOut(digest), digest);
  }

  private async fromCache(digest: string): Promise<Buffer | undefined> {
    const path = this.cachePath(digest);
    const data = await readFile(path).catch(() => undefined);
    // Marked as used now: gc's staging sweep drops what was not read for a while.
    if (data) await utimes(path, new Date(), new Date()).catch(() => {});
    return data;
  }

  /** Caches a blob just read; false if it is not what its name says (damaged: as good as absent). */
  private async toCache(digest: string, data: Buffer): Promise<boolean> {
    if (createHash('sha256').update(data).digest('hex') !== digest) return false;
    const path = this.cachePath(digest);
    const temp = `${path}.${process.pid}.${randomBytes(4).toString('hex')}`;
    try {
      await mkdir(dirname(path), { recursive: true });
      await writeFile(temp, data);
      await rename(temp, path);
    } catch {
      // A cache: a disk that cannot take it only makes the next read slower.
      await rm(temp, { force: true });
    }
    return true;
  }

  async open(digest: string, range?: { start: number; end: number }, opts: { size?: number } = {}): Promise<Readable> {
    let out;
    try {
      // open()'s range is inclusive (as createReadStream's).
      out = await this.client.send(new GetObjectCommand({ Bucket: this.where.bucket, Key: this.key(digest), Range: range ? `bytes=${range.start}-${range.end}` : undefined }));
    } catch (e) {
      if (isMissing(e)) throw Object.assign(new Error(`--blobs ${this.url}: no blob ${digest}`), { code: 'ENOENT' });
      throw this.failure(e, `cannot read blob ${digest}`);
    }
    // The object's whole size: a range's answer says it after the slash of Content-Range.
    const size = range ? Number(/\/(\d+)$/.exec(out.ContentRange ?? '')?.[1] ?? NaN) : Number(out.ContentLength ?? NaN);
    if (opts.size !== undefined && size !== opts.size) {
      (out.Body as Readable).destroy();
      throw new BlobDamagedError(digest, Number.isNaN(size) ? undefined : size, opts.size);
    }
    return out.Body as Readable;
  }

  async quarantine(digest: string): Promise<boolean> {
    // Object storage has no rename: a copy, then the delete. A writer that relied on the
    // blob just before the delete lists a blob that is gone, as it would have listed the
    // damaged one; fsck then reports it missing, and a redeploy stores it.
    const Bucket = this.where.bucket;
    try {
      await this.client.send(new CopyObjectCommand({ Bucket, CopySource: `${Bucket}/${this.key(digest)}`, Key: `${this.where.prefix}${quarantinePath(digest)}` }));
    } catch (e) {
      if (isMissing(e)) return false;
      throw this.failure(e, `cannot quarantine blob ${digest}`);
    }
    try {
      await this.client.send(new DeleteObjectCommand({ Bucket, Key: this.key(digest) }));
    } catch (e) {
      throw this.failure(e, `cannot quarantine blob ${digest}`);
    }
    return true;
  }

  async quarantined(digest: string): Promise<boolean> {
    try {
      await this.client.send(new HeadObjectCommand({ Bucket: this.where.bucket, Key: `${this.where.prefix}${quarantinePath(digest)}` }));
      return true;
    } catch (e) {
      if (isMissing(e)) return false;
      throw this.failure(e, `cannot look up quarantined blob ${digest}`);
    }
  }

  async localCopy(digest: string): Promise<LocalCopy | undefined> {
    const temp = this.stagingPath();
    let body: Readable;
    try {
      body = await this.open(digest);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw e;
    }
    try {
      await pipeline(body, createWriteStream(temp, { flags: 'wx', mode: 0o600 }));
    } catch (e) {
      await rm(temp, { force: true });
      throw atPath(e, temp);
    }
    return { path: temp, release: () => rm(temp, { force: true }) };
  }

  async downloadUrl(digest: string, opts: { expiresIn: number; fileName?: string }): Promise<string | undefined> {
    return getSignedUrl(
      this.client,
      new GetObjectCommand({
        Bucket: this.where.bucket,
        Key: this.key(digest),
        ResponseContentDisposition: opts.fileName ? `attachment; filename="${opts.fileName.replace(/["\\]/g, '_')}"` : undefined,
      }),
      { expiresIn: opts.expiresIn },
    );
  }

  async sweep(digest: string, unusedSince: Date): Promise<boolean> {
    const [claimed] = await this.ledger.claimBlobRemovals([digest], unusedSince.toISOString());
    if (claimed === undefined) return false;
    try {
      // Looked at again under the claim: the object gc listed may since have been
      // removed (by another gc) and stored anew by a writer, which then needs no
      // ledger entry. A new object is as young as its upload.
      let head;
      try {
        head = await this.client.send(new HeadObjectCommand({ Bucket: this.where.bucket, Key: this.key(digest) }));
      } catch (e) {
        if (isMissing(e)) return false;
        throw e;
      }
      if (!head.LastModified || head.LastModified >= unusedSince) return false;
      await this.client.send(new DeleteObjectCommand({ Bucket: this.where.bucket, Key: this.key(digest) }));
      return true;
    } catch (e) {
      throw this.failure(e, `cannot remove blob ${digest}`);
    } finally {
      // Also when the delete failed: writers wait for claims, and this one is over.
      await this.ledger.finishBlobRemovals([digest]);
    }
  }

  async sweepStaging(before: Date): Promise<{ files: number; bytes: number }> {
    const staged = await sweepStagingDir(this.tmp, before);
    let files = staged.files;
    // Cached blobs not read since `before`.
    for (const prefix of await readdir(this.cache).catch(() => [] as string[])) await sweepStagingDir(join(this.cache, prefix), before);
    // Multipart uploads of killed runs: invisible, but their parts take space.
    try {
      let KeyMarker: string | undefined;
      let UploadIdMarker: string | undefined;
      for (;;) {
        const page = await this.client.send(new ListMultipartUploadsCommand({ Bucket: this.where.bucket, Prefix: `${this.where.prefix}${BLOBS_DIR}/`, KeyMarker, UploadIdMarker }));
        for (const up of page.Uploads ?? []) {
          if (up.Initiated && up.Initiated < before) {
            await this.client.send(new AbortMultipartUploadCommand({ Bucket: this.where.bucket, Key: up.Key, UploadId: up.UploadId }));
            files++;
          }
        }
        if (!page.IsTruncated) break;
        KeyMarker = page.NextKeyMarker;
        UploadIdMarker = page.NextUploadIdMarker;
      }
    } catch (e) {
      // Not every S3-compatible server lists uploads; the bucket's lifecycle rule can.
      if ((e as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode !== 501 && (e as { name?: string }).name !== 'NotImplemented') throw this.failure(e, 'cannot list multipart uploads');
    }
    return { files, bytes: staged.bytes };
  }

  async *list(): AsyncIterable<BlobInfo & { usedAt: Date }> {
    const Prefix = `${this.where.prefix}${BLOBS_DIR}/`;
    let ContinuationToken: string | undefined;
    for (;;) {
      let page;
      try {
        page = await this.client.send(new ListObjectsV2Command({ Bucket: this.where.bucket, Prefix, ContinuationToken }));
      } catch (e) {
        throw this.failure(e, 'cannot list blobs');
      }
      for (const o of page.Contents ?? []) {
        const digest = blobAt((o.Key ?? '').slice(this.where.prefix.length));
        if (digest) yield { digest, size: Number(o.Size ?? 0), usedAt: o.LastModified ?? new Date(0) };
      }
      if (!page.IsTruncated) break;
      ContinuationToken = page.NextContinuationToken;
    }
  }

  close(): void {
    this.client.destroy();
  }
}

async function fileMd5(path: string): Promise<string> {
  const hash = createHash('md5');
  for await (const chunk of createReadStream(path, { highWaterMark: 1 << 20 })) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

async function readExactly(fh: FileHandle, start: number, length: number, path: string): Promise<Buffer> {
  const buf = Buffer.allocUnsafe(length);
  let got = 0;
  while (got < length) {
    const { bytesRead } = await fh.read(buf, got, length - got, start + got);
    if (bytesRead === 0) throw new Error(`${path}: shorter than expected (${start + got} bytes)`);
    got += bytesRead;
  }
  return buf;
}
