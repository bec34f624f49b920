// The two places a publication reads a snapshot from: the local store, or a txrepo
// server (its snapshot paths, which any HTTP client can read).

import { get as httpGet, type IncomingMessage } from 'node:http';
import { get as httpsGet } from 'node:https';
import type { Readable } from 'node:stream';
import type { Txrepo } from '../core/index.ts';
import { fileUnder, snapshotPath } from '../snapshots/index.ts';
import type { Store } from '../store/index.ts';
import { PublishError, type PublishedFile, type PublishSource } from './publish.ts';

async function snapshotFiles(tx: Txrepo, repo: string, ref: string) {
  const s = await tx.showSnapshot(repo, ref, { files: true });
  return { snapshot: s.id, files: (s.files ?? []).map((f) => ({ href: f.href, sha256: f.sha256, size: f.size })) };
}

export async function storeSource(tx: Txrepo, store: Store, repo: string, ref: string): Promise<PublishSource> {
  const { snapshot, files } = await snapshotFiles(tx, repo, ref);
  return {
    repo,
    snapshot,
    files,
    localPath: (f) => store.blobs.localPath(f.sha256),
    open: (f) => store.blobs.open(f.sha256),
  };
}

/** `token`: sent with each file's request, for a server whose reads need one (serve --private). */
export async function serverSource(tx: Txrepo, server: string, repo: string, ref: string, token?: string): Promise<PublishSource> {
  const { snapshot, files } = await snapshotFiles(tx, repo, ref);
  const base = server.replace(/\/+$/, '');
  const fetchFile = (f: PublishedFile) =>
    new Promise<Readable>((resolve, reject) => {
      const url = base + fileUnder(snapshotPath(repo, snapshot), f.href);
      const req = (url.startsWith('https:') ? httpsGet : httpGet)(url, { headers: token ? { authorization: `Bearer ${token}` } : {} }, (res: IncomingMessage) => {
        if (res.statusCode !== 200) {
          res.resume();
          reject(new PublishError(`${url}: HTTP ${res.statusCode}`));
        } else {
          resolve(res);
        }
      });
      req.on('error', (e) => reject(new PublishError(`${url}: ${e.message}`)));
    });
  return { repo, snapshot, files, localPath: () => undefined, open: fetchFile };
}
