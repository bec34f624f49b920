// TARGET of `publish` and `fsck --published`: a directory, or s3://BUCKET/PREFIX.

import { DirTarget } from './dir-target.ts';
import { PublishError, type PublishTarget } from './target.ts';

export async function openTarget(spec: string): Promise<PublishTarget> {
  const scheme = /^([a-z][a-z0-9+.-]*):\/\//i.exec(spec)?.[1];
  if (scheme === undefined) return new DirTarget(spec);
  if (scheme.toLowerCase() !== 's3') {
    throw new PublishError(`${spec}: publish writes to a directory or to s3://BUCKET/PREFIX, not to a ${scheme}: URL (for a web server, publish into its document root)`, 'invalid_input');
  }
  // The AWS SDK is loaded only for an S3 target.
  const { S3Target } = await import('./s3-target.ts');
  return S3Target.open(spec);
}
