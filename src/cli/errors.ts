// How a failure reaches the user: one screen of message (no stack unless it is a bug),
// its kind (src/common/failures.ts) and the exit status the kind gives.

import { exitStatusOf, kindOf, type FailureKind } from '../common/index.ts';

/** Wrong command-line usage; exit status 2 like createrepo_c and most tools. */
export class UsageError extends Error {
  override name = 'UsageError';
}

const SYSTEM_PROBLEMS: Record<string, string> = {
  ENOENT: 'no such file or directory',
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  EISDIR: 'is a directory',
  ENOTDIR: 'not a directory',
  ENOSPC: 'no space left on the device',
  EDQUOT: 'disk quota exceeded',
  EROFS: 'read-only file system',
  EIO: 'input/output error',
  ELOOP: 'too many levels of symbolic links',
};

export interface Failure {
  type: FailureKind;
  message: string;
  status: number;
}

/** Turns any failure into a one-screen message, its kind and an exit status. */
export function describeFailure(e: unknown): Failure {
  const type = kindOf(e);
  const status = exitStatusOf(type);
  if (type === 'internal' && !(e instanceof Error && e.name === 'RemoteError')) {
    const msg = e instanceof Error ? (e.stack ?? e.message) : String(e);
    return { type, status, message: `unexpected failure (this is a bug in txrepo, please report it):\n${msg}` };
  }
  const err = e as NodeJS.ErrnoException;
  if (type === 'io' && typeof err.code === 'string' && err.path) {
    // A copy's error names its source, but a full or read-only disk is its destination's.
    const dest = (err as { dest?: string }).dest;
    const where = dest && ['ENOSPC', 'EDQUOT', 'EROFS'].includes(err.code) ? dest : err.path;
    return { type, status, message: `${where}: ${SYSTEM_PROBLEMS[err.code] ?? err.code}` };
  }
  return { type, status, message: (e as Error).message };
}
